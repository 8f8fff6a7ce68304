"""Bad input: one-line errors naming file, line and field (fuzzing: test_scenarios_fuzz)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from scenarios import ScenarioError, corpus_scenario, load_scenario
from scenarios.schema import ModelSettings, PreferenceSettings, StageSettings

CORPUS = "The cat sat on the mat and looked at the moon for a long while. " * 8
GOOD_SFT = {
    "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
}


def jl(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def folder(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (root / name).write_bytes(data)
    return root


def error_for(tmp_path: Path, files: dict[str, str | bytes]) -> ScenarioError:
    root = folder(tmp_path / "s", files)
    with pytest.raises(ScenarioError) as info:
        load_scenario(root)
    message = str(info.value)
    assert "\n" not in message and len(message.splitlines()) == 1, message
    return info.value


BAD = {
    # name: (files, what the message must contain)
    "missing manifest": ({"c.txt": CORPUS}, ["scenario.toml", "missing manifest"]),
    "malformed toml": (
        {"scenario.toml": 'name = "x"\n[pretrain\nsteps = 3', "c.txt": CORPUS},
        ["scenario.toml line 2", "malformed TOML"],
    ),
    "duplicate key": (
        {"scenario.toml": "[pretrain]\nsteps = 3\nsteps = 4", "c.txt": CORPUS},
        ["scenario.toml line 3", "malformed TOML"],
    ),
    "unknown key with suggestion": (
        {"scenario.toml": "[pretrain]\nsteps = 10\nlearning_rate = 0.1", "c.txt": CORPUS},
        ["line 3", 'unknown key "learning_rate" in [pretrain]', 'did you mean "lr"'],
    ),
    "unknown key typo": (
        {"scenario.toml": "[model]\nd_modle = 64", "c.txt": CORPUS},
        ['unknown key "d_modle" in [model]', 'did you mean "d_model"'],
    ),
    "unknown top-level key": (
        {"scenario.toml": "nmae = 'x'", "c.txt": CORPUS},
        ['unknown key "nmae"', 'did you mean "name"'],
    ),
    "key in the wrong section": (
        {"scenario.toml": "[sft]\nbeta = 0.2", "c.txt": CORPUS},
        ['unknown key "beta" in [sft]', "[preference]"],
    ),
    "wrong type": (
        {"scenario.toml": '[pretrain]\nlr = "fast"', "c.txt": CORPUS},
        ["scenario.toml line 2", "[pretrain] lr", 'must be a positive number, got "fast"'],
    ),
    "float steps": (
        {"scenario.toml": "[sft]\nsteps = 10.5", "c.txt": CORPUS},
        ["[sft] steps", "whole number"],
    ),
    "bool as number": (
        {"scenario.toml": "[model]\nn_layer = true", "c.txt": CORPUS},
        ["[model] n_layer", "whole number"],
    ),
    "section not a table": (
        {"scenario.toml": "pretrain = 5", "c.txt": CORPUS},
        ["pretrain", "must be a table"],
    ),
    "negative learning rate": (
        {"scenario.toml": "[preference]\nlr = -0.001", "c.txt": CORPUS},
        ["[preference] lr", "positive"],
    ),
    "nan learning rate": (
        {"scenario.toml": "[pretrain]\nlr = nan", "c.txt": CORPUS},
        ["[pretrain] lr", "positive"],
    ),
    "zero steps": (
        {"scenario.toml": "[pretrain]\nsteps = 0", "c.txt": CORPUS},
        ["[pretrain] steps", "positive, got 0"],
    ),
    "warmup longer than training": (
        {"scenario.toml": "[sft]\nsteps = 10\nwarmup_steps = 50", "c.txt": CORPUS},
        ["[sft] warmup_steps", "must not exceed steps"],
    ),
    "batch that cannot fit": (
        {
            "scenario.toml": "[model]\ncontext = 4096\n[pretrain]\nbatch_size = 4096",
            "c.txt": CORPUS,
        },
        ["line 4", "[pretrain] batch_size", "GB", "lower batch_size"],
    ),
    "model too big": (
        {"scenario.toml": "[model]\nd_model = 8192\nn_layer = 48\nn_head = 8", "c.txt": CORPUS},
        ["[model] d_model", "parameters", "200 M"],
    ),
    "heads do not divide width": (
        {"scenario.toml": "[model]\nd_model = 100\nn_head = 3", "c.txt": CORPUS},
        ["[model] n_head", "divisible"],
    ),
    "vocabulary too small": (
        {"scenario.toml": "[model]\nvocab_size = 100", "c.txt": CORPUS},
        ["[model] vocab_size", "at least 261"],
    ),
    "unknown method": (
        {"scenario.toml": "[preference]\nmethod = 'DPO'", "c.txt": CORPUS},
        ["[preference] method", '"dpo" or "rlhf"', 'did you mean "dpo"'],
    ),
    "corpus too small": (
        {"scenario.toml": "", "c.txt": "Too short."},
        ["c.txt", "11 characters", "at least 258"],
    ),
    "empty corpus file": ({"scenario.toml": "", "c.txt": "\n\n"}, ["c.txt", "empty"]),
    "non-utf8 corpus": (
        {"scenario.toml": "", "c.txt": CORPUS.encode() + b"\nline two \xff\xfe"},
        ["c.txt line 2", "not UTF-8", "0xff"],
    ),
    "binary corpus": ({"scenario.toml": "", "c.txt": b"\x89PNG\r\n\x00\x00"}, ["c.txt", "binary"]),
    "non-utf8 manifest": (
        {"scenario.toml": b"name = '\xe9'", "c.txt": CORPUS},
        ["scenario.toml line 1", "not UTF-8"],
    ),
    "non-utf8 jsonl": (
        {"scenario.toml": "", "sft.jsonl": jl(GOOD_SFT).encode() + b'{"prompt": "\xc3("}\n'},
        ["sft.jsonl line 2", "not UTF-8"],
    ),
    "malformed jsonl": (
        {
            "scenario.toml": "",
            "sft.jsonl": jl(GOOD_SFT, GOOD_SFT, '{"prompt": "a", "completion": }'),
        },
        ["sft.jsonl line 3", "malformed JSON", "column"],
    ),
    "jsonl line not an object": (
        {"scenario.toml": "", "sft.jsonl": jl(GOOD_SFT, "[1, 2]")},
        ["sft.jsonl line 2", "JSON object"],
    ),
    "empty jsonl": (
        {"scenario.toml": "", "c.txt": CORPUS, "sft.jsonl": "\n \n"},
        ["sft.jsonl", "empty"],
    ),
    "unknown role": (
        {
            "scenario.toml": "",
            "sft.jsonl": jl(GOOD_SFT, {"messages": [{"role": "bot", "content": "x"}]}),
        },
        ["sft.jsonl line 2", "messages[0].role", 'unknown role "bot"', "system, user or assistant"],
    ),
    "role case": (
        {"scenario.toml": "", "sft.jsonl": jl({"messages": [{"role": "User", "content": "x"}]})},
        ['unknown role "User"', 'did you mean "user"'],
    ),
    "empty assistant answer": (
        {
            "scenario.toml": "",
            "sft.jsonl": jl(
                {
                    "messages": [
                        {"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": " "},
                    ]
                }
            ),
        },
        ["sft.jsonl line 1", "messages[1].content", "empty assistant answer"],
    ),
    "empty completion": (
        {"scenario.toml": "", "sft.jsonl": jl({"prompt": "Hi", "completion": ""})},
        ["sft.jsonl line 1", "completion", "empty assistant answer"],
    ),
    "conversation without answer": (
        {"scenario.toml": "", "sft.jsonl": jl({"messages": [{"role": "user", "content": "Hi"}]})},
        ["sft.jsonl line 1", "must end with the assistant's answer"],
    ),
    "system message not first": (
        {
            "scenario.toml": "",
            "sft.jsonl": jl(
                {
                    "messages": [
                        {"role": "user", "content": "Hi"},
                        {"role": "system", "content": "Be nice"},
                        {"role": "assistant", "content": "Hello"},
                    ]
                }
            ),
        },
        ["messages[1].role", "system message may only come first"],
    ),
    "content not a string": (
        {
            "scenario.toml": "",
            "sft.jsonl": jl({"messages": [{"role": "user", "content": ["Hi"]}]}),
        },
        ["messages[0].content", "must be a string"],
    ),
    "neither form": (
        {"scenario.toml": "", "sft.jsonl": jl({"text": "hello"})},
        ["sft.jsonl line 1", '"messages"', '"prompt" and "completion"'],
    ),
    "missing key with typo": (
        {"scenario.toml": "", "sft.jsonl": jl({"prompt": "a", "completoin": "b"})},
        ['missing "completion"', 'found "completoin"'],
    ),
    "chosen equals rejected": (
        {
            "scenario.toml": "",
            "preference.jsonl": jl({"prompt": "q", "chosen": "Same.", "rejected": "Same. "}),
        },
        ["preference.jsonl line 1", "rejected", "same as chosen"],
    ),
    "preference missing prompt": (
        {"scenario.toml": "", "preference.jsonl": jl({"chosen": "a", "rejected": "b"})},
        ["preference.jsonl line 1", 'missing "prompt"'],
    ),
    "preference prompt ends with assistant": (
        {
            "scenario.toml": "",
            "preference.jsonl": jl(
                {"prompt": [{"role": "assistant", "content": "x"}], "chosen": "a", "rejected": "b"}
            ),
        },
        ["prompt", "must end with a user message"],
    ),
    "unpaired surrogate": (
        {"scenario.toml": "", "sft.jsonl": '{"prompt": "\\ud800", "completion": "b"}\n'},
        ["sft.jsonl line 1", "prompt", "surrogate"],
    ),
    "missing data file": (
        {"scenario.toml": "[data]\nsft = 'nope.jsonl'", "c.txt": CORPUS},
        ["scenario.toml line 2", "[data] sft", "file not found"],
    ),
    "glob matching nothing": (
        {"scenario.toml": "[data]\npretrain = ['texts/*.txt']", "c.txt": CORPUS},
        ["[data] pretrain", "no file matches"],
    ),
    "data path wrong type": (
        {"scenario.toml": "[data]\npreference = 3", "c.txt": CORPUS},
        ["[data] preference", "file name"],
    ),
    "no data at all": ({"scenario.toml": ""}, ["scenario.toml", "no training data"]),
    "probe without prompt": (
        {"scenario.toml": "", "c.txt": CORPUS, "probes.jsonl": jl({"name": "x", "promtp": "y"})},
        ["probes.jsonl line 1", 'missing "prompt"', 'found "promtp"'],
    ),
    "duplicate probe names": (
        {
            "scenario.toml": "",
            "c.txt": CORPUS,
            "probes.jsonl": jl({"name": "a", "prompt": "x"}, {"name": "a", "prompt": "y"}),
        },
        ["probes.jsonl line 2", "already named"],
    ),
    "eval without expected": (
        {"scenario.toml": "", "c.txt": CORPUS, "eval_x.jsonl": jl({"prompt": "q"})},
        ["eval_x.jsonl line 1", 'missing "expected"'],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gives_one_line_naming_file_line_and_field(tmp_path: Path, case: str) -> None:
    files, fragments = BAD[case]
    message = str(error_for(tmp_path, files))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario folder"):
        load_scenario(tmp_path / "nowhere")
    (tmp_path / "book.txt").write_text(CORPUS)
    with pytest.raises(ScenarioError, match="--corpus"):
        load_scenario(tmp_path / "book.txt")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "file not found"),
        ("", "empty"),
        ("   \n", "empty"),
        (b"\x00\x01", "binary"),
        (b"ok \xff", "not UTF-8"),
        ("short", "at least 258"),
    ],
)
def test_corpus_scenario_bad_files(tmp_path: Path, content, fragment: str) -> None:
    path = tmp_path / "c.txt"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ScenarioError, match=fragment):
        corpus_scenario(path)


def test_corpus_scenario_rejects_a_folder_and_bad_overrides(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="folder"):
        corpus_scenario(tmp_path)
    with pytest.raises(ScenarioError, match="not a regular file"):  # it exists: say so
        corpus_scenario(os.devnull)
    path = tmp_path / "c.txt"
    path.write_text(CORPUS)
    with pytest.raises(
        ScenarioError, match=r'\[pretrain\] lr: must be a positive number, got "fast"'
    ):
        corpus_scenario(path, pretrain={"lr": "fast"})
    with pytest.raises(ScenarioError, match='did you mean "steps"'):
        corpus_scenario(path, pretrain={"step": 3})
    with pytest.raises(ScenarioError, match="at least 2050"):
        corpus_scenario(path, model={"context": 1024})


def test_settings_validate_when_built_in_code() -> None:
    for bad in ({"n_head": 5}, {"context": 4}, {"dropout": 1.0}, {"d_model": 0}):
        with pytest.raises(ScenarioError):
            ModelSettings(**bad)
    for bad in ({"lr": 0}, {"steps": -1}, {"batch_size": 0}, {"seed": -1}, {"lr": math.inf}):
        with pytest.raises(ScenarioError):
            StageSettings(**bad)
    with pytest.raises(ScenarioError, match="beta"):
        PreferenceSettings(beta=0)
    assert issubclass(ScenarioError, ValueError)


def test_error_messages_stay_on_one_line() -> None:
    e = ScenarioError("bad\nthing\u2028here", file="a\nb.txt", line=3, field="x\ry")
    assert len(str(e).splitlines()) == 1 and "\\x0a" in str(e)
    assert (e.file, e.line, e.field) == ("a\nb.txt", 3, "x\ry")
