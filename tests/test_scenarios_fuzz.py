"""Fuzzing the scenario loader: whatever the files hold, nothing but ScenarioError escapes."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenarios_errors import CORPUS, GOOD_SFT, folder, jl

import scenarios
from scenarios import ScenarioError, corpus_scenario, load_scenario

# --- fuzzing: nothing but ScenarioError may escape ----------------------------------------

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
KEYS = [
    *scenarios.loader.TOP_KEYS,
    *scenarios.loader.DATA_KEYS,
    "d_model",
    "n_head",
    "context",
    "vocab_size",
    "steps",
    "lr",
    "batch_size",
    "beta",
    "method",
    "seed",
    "warmup_steps",
    "nope",
    "",
]
scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["*.txt", "c.txt", "sft.jsonl", "/", "..", "[", "dpo", "rlhf", "\x00"]),
)
toml_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)


def to_toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return (
            "nan"
            if math.isnan(v)
            else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
        )
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(to_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {to_toml_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def load_or_error(files: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = folder(Path(tmp) / "s", files)
        try:
            s = load_scenario(root)
        except ScenarioError as exc:
            assert len(str(exc).splitlines()) == 1
            str(exc).encode("utf-8")  # printable
        else:
            assert isinstance(s, scenarios.Scenario)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_manifest_text(text: str) -> None:
    load_or_error({"scenario.toml": text.replace("\x00", ""), "c.txt": CORPUS})


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_manifest_bytes(data: bytes) -> None:
    load_or_error({"scenario.toml": data, "c.txt": CORPUS})


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), toml_values, max_size=5))
def test_fuzz_manifest_structure(table: dict) -> None:
    text = "\n".join(f"{json.dumps(k)} = {to_toml_value(v)}" for k, v in table.items())
    load_or_error({"scenario.toml": text, "c.txt": CORPUS, "sft.jsonl": jl(GOOD_SFT)})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "role",
                    "content",
                    "prompt",
                    "completion",
                    "chosen",
                    "rejected",
                    "kind",
                    "name",
                    "expected",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "user", "assistant", "bot", ""]),
        "content": st.text(max_size=8),
    }
)
near_valid = st.one_of(
    st.fixed_dictionaries({"messages": st.lists(message, max_size=4)}),
    st.fixed_dictionaries(
        {
            "prompt": st.text(max_size=5) | st.lists(message, max_size=2),
            "completion": st.text(max_size=5) | st.lists(message, max_size=2),
        }
    ),
    st.fixed_dictionaries(
        {
            "prompt": st.text(max_size=5) | st.lists(message, max_size=2),
            "chosen": st.text(max_size=5) | st.lists(message, max_size=2),
            "rejected": st.text(max_size=5) | st.lists(message, max_size=2),
        }
    ),
)
lines = st.lists(
    st.one_of(json_values.map(json.dumps), near_valid.map(json.dumps), st.text(max_size=40)),
    max_size=4,
)


@FUZZ
@given(st.sampled_from(["sft.jsonl", "preference.jsonl", "probes.jsonl", "eval_x.jsonl"]), lines)
def test_fuzz_jsonl_lines(name: str, records: list[str]) -> None:
    load_or_error({"scenario.toml": "", "c.txt": CORPUS, name: "\n".join(records)})


@FUZZ
@given(st.sampled_from(["sft.jsonl", "preference.jsonl", "c.txt"]), st.binary(max_size=200))
def test_fuzz_data_bytes(name: str, data: bytes) -> None:
    load_or_error({"scenario.toml": "", "c.txt": CORPUS, name: data})


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_corpus_scenario(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.txt"
        path.write_bytes(data)
        try:
            scenario = corpus_scenario(path)
        except ScenarioError as exc:
            assert len(str(exc).splitlines()) == 1 and path.name in str(exc)
            str(exc).encode("utf-8")  # printable
        else:
            assert scenario.corpus.strip() and "\r" not in scenario.corpus
