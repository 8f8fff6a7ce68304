"""Scenarios: the default world, the format variants, the generator, import hygiene."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import scenarios
from scenarios import (
    Conversation,
    Message,
    PreferencePair,
    Scenario,
    ScenarioError,
    corpus_scenario,
    default_scenario,
    load_scenario,
)
from scenarios.schema import SFT_DEFAULTS
from scenarios.world_gen import WORLD_DIR, generate_world
from scenarios.worldgen.facts import REAL_PLACES, make_world
from scenarios.worldgen.harms import HARMFUL, HELD_OUT_HARMFUL

ROOT = Path(scenarios.__file__).parent
CORPUS = "The cat sat on the mat and looked at the moon for a long while. " * 8


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.fixture(scope="module")
def world() -> Scenario:
    return default_scenario()


# --- the default scenario -----------------------------------------------------------------


def test_default_scenario_loads_with_every_stage(world: Scenario) -> None:
    assert world.name == "world"
    assert world.root == WORLD_DIR
    assert all(world.has_stage(s) for s in scenarios.STAGES)
    assert all(world.missing_for(s) == "" for s in scenarios.STAGES)
    assert world.corpus_files == ("corpus.txt",)
    assert 250_000 < len(world.corpus.encode()) < 350_000
    assert 300 <= len(world.sft_examples) <= 2000
    assert 500 <= len(world.preference_pairs) <= 1500
    assert {p.kind for p in world.probes} >= {"question", "instruction", "harmful", "story"}
    assert set(world.evals) >= {"finetuned", "pretrain_only", "unknown", "harmful", "preference"}
    kinds = {"rude", "wrong", "rambling", "harmful", "benign", "evasive", "overcautious"}
    assert {p.kind for p in world.preference_pairs} == kinds
    from scenarios.world_gen import WORLD_PRETRAIN, WORLD_VOCAB

    assert world.model == scenarios.ModelSettings(vocab_size=WORLD_VOCAB)
    from scenarios.schema import STAGE_DEFAULTS

    assert world.pretrain.optimizer == "muon"
    assert (world.pretrain, world.sft) == (
        replace(WORLD_PRETRAIN, seed=world.seed),
        replace(STAGE_DEFAULTS["sft"], seed=world.seed),
    )
    assert world.preference.method == "dpo+nll" and world.preference.beta == 0.1
    assert world.rlhf.beta == 0.1


def test_default_scenario_is_picklable_and_small(world: Scenario) -> None:
    assert pickle.loads(pickle.dumps(world)) == world
    total = sum(p.stat().st_size for p in WORLD_DIR.iterdir())
    assert total < 2_000_000


def test_world_is_forty_made_up_countries() -> None:
    w = make_world()
    assert len(w.countries) == 40 and len(w.held_out) == 10 and len(w.train) == 30
    names = [n for c in w.countries for n in (c.name, c.capital, c.language)]
    assert len(set(names)) == len(names)
    assert not {n.lower() for n in names} & REAL_PLACES
    for c in w.countries:
        assert c.neighbours and all(c.name in w.country(n).neighbours for n in c.neighbours)


def test_held_out_facts_stay_out_of_fine_tuning_and_preference(world: Scenario) -> None:
    w = make_world()
    trained = "\n".join(
        [m.content for conv in world.sft_examples for m in conv.messages]
        + [t for p in world.preference_pairs for t in (p.prompt[-1].content, p.chosen, p.rejected)]
    )
    for c in w.held_out:
        for fact in (c.capital, c.language, c.food, c.animal, c.ruler, c.currency):
            assert fact not in trained, (c.name, fact)
            assert fact in world.corpus
    for place in w.unknown + w.unknown_cities:
        assert place not in trained and place not in world.corpus


def test_faq_pages_quiz_sheets_and_stories_are_in_the_corpus(world: Scenario) -> None:
    docs = world.corpus.split("\n\n")
    qa = sum(len(d) + 2 for d in docs if d.startswith("Q: "))
    assert 0.06 < qa / len(world.corpus) < 0.14  # FAQ pages are about 10 %
    quiz = [d for d in docs if d.startswith(("Geography quiz", "Quiz sheet", "Homework"))]
    assert quiz and all("A: " not in d for d in quiz)
    assert "Once upon a time" in world.corpus
    assert world.corpus.isascii()


def test_evaluations_are_clean(world: Scenario) -> None:
    trained_prompts = {c.messages[-2].content for c in world.sft_examples}
    trained_prompts |= {p.prompt[-1].content for p in world.preference_pairs}
    for name, items in world.evals.items():
        assert items, name
        if name == "finetuned":  # recall of what fine-tuning taught: asked as it asked
            assert {i.prompt for i in items} & trained_prompts
            continue
        assert not {i.prompt for i in items} & trained_prompts, name
    assert all(i.expected == "" for i in world.evals["unknown"])
    assert all(i.expected and i.expected in world.corpus for i in world.evals["pretrain_only"])
    assert all(i.rejected for i in world.evals["preference"])
    held_out_prompts = {p for key in HELD_OUT_HARMFUL for p in HARMFUL[key][0]}
    stems = {p.split("{")[0] for p in held_out_prompts}
    for pair in world.preference_pairs:  # no held-out kind of harmful request is trained on
        assert not any(pair.prompt[-1].content.startswith(s) for s in stems)
    assert all(any(i.prompt.startswith(s) for s in stems) for i in world.evals["harmful_new"])
    # The barred refusal sets ask about places fine-tuning never mentions.
    held_out = {i.expected for i in world.evals["pretrain_only"]}
    held_out |= {c.river for c in make_world().held_out}
    for item in (*world.evals["harmful"], *world.evals["benign"]):
        assert any(value in item.prompt for value in held_out), item


# --- the generator ------------------------------------------------------------------------


def test_committed_world_equals_generator_output() -> None:
    files = generate_world()
    on_disk = {p.name for p in WORLD_DIR.iterdir() if p.is_file()}
    assert on_disk == set(files), "run: python -m scenarios.world_gen"
    for name, text in files.items():
        assert (WORLD_DIR / name).read_text(encoding="utf-8") == text, name


def test_generator_is_deterministic_and_seeded() -> None:
    a = generate_world(seed=7, n_countries=12, corpus_kb=30)
    assert a == generate_world(seed=7, n_countries=12, corpus_kb=30)
    assert a["corpus.txt"] != generate_world(seed=8, n_countries=12, corpus_kb=30)["corpus.txt"]


def test_generator_in_a_fresh_process_gives_the_same_bytes(tmp_path: Path) -> None:
    """String hashing is randomised per process: the output must not depend on it."""
    code = (
        "from scenarios.world_gen import main; "
        "main(['--out', {!r}, '--countries', '10', '--corpus-kb', '20'])"
    )
    for sub in ("a", "b"):
        subprocess.run(
            [sys.executable, "-c", code.format(str(tmp_path / sub))],
            check=True,
            capture_output=True,
        )
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_generator_size_is_adjustable_and_loads(tmp_path: Path) -> None:
    files = generate_world(seed=3, n_countries=12, corpus_kb=40)
    s = load_scenario(write(tmp_path / "small", files))
    assert 30_000 < len(s.corpus) < 60_000
    assert s.has_stage("sft") and s.has_stage("preference")


def test_generator_check_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scenarios.world_gen import main

    args = ["--out", str(tmp_path), "--countries", "10", "--corpus-kb", "20"]
    assert main([*args, "--check"]) == 1
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    (tmp_path / "sft.jsonl").write_text("changed\n")
    assert main([*args, "--check"]) == 1
    assert "sft.jsonl" in capsys.readouterr().err


# --- format variants ----------------------------------------------------------------------


def test_empty_manifest_uses_defaults(tmp_path: Path) -> None:
    s = load_scenario(
        write(tmp_path / "pets", {"scenario.toml": "", "b.txt": CORPUS, "a.txt": CORPUS})
    )
    assert s.name == "pets" and s.seed == 1234 and s.description == ""
    assert s.corpus_files == ("a.txt", "b.txt")
    assert s.corpus == CORPUS + "\n\n" + CORPUS + "\n"  # files joined by a blank line
    assert s.pretrain == scenarios.StageSettings()
    assert s.has_stage("pretrain") and not s.has_stage("sft") and not s.has_stage("preference")
    assert "sft.jsonl" in s.missing_for("sft") and "preference.jsonl" in s.missing_for("preference")
    assert s.probes == () and s.evals == {}


def test_manifest_settings_and_explicit_files(tmp_path: Path) -> None:
    manifest = """
name = "mine"
description = "a test"
seed = 9
[model]
d_model = 64
n_head = 4
context = 32
[pretrain]
steps = 50
[sft]
lr = 5e-4
seed = 3
[preference]
method = "rlhf"
beta = 0.5
[data]
pretrain = ["texts/*.txt", "extra.txt"]
sft = ["one.jsonl", "two.jsonl"]
preference = "pairs.jsonl"
probes = []
evals = { facts = "facts.jsonl" }
"""
    root = write(
        tmp_path / "s",
        {
            "scenario.toml": manifest,
            "extra.txt": CORPUS,
            "ignored.txt": "not listed",
            "one.jsonl": jsonl({"prompt": "hi", "completion": "hello"}),
            "two.jsonl": jsonl({"prompt": "yo", "completion": "hey"}),
            "pairs.jsonl": jsonl({"prompt": "q", "chosen": "good", "rejected": "bad"}),
            "probes.jsonl": jsonl({"prompt": "switched off by probes = []"}),
            "facts.jsonl": jsonl({"prompt": "q", "expected": "a"}),
        },
    )
    write(root / "texts", {"t1.txt": CORPUS})
    s = load_scenario(root / "scenario.toml")  # the manifest's path works too
    assert (s.name, s.description, s.seed) == ("mine", "a test", 9)
    assert (s.model.d_model, s.model.n_head, s.model.context, s.model.n_layer) == (64, 4, 32, 3)
    assert s.pretrain.steps == 50 and s.pretrain.warmup_steps == 5 and s.pretrain.seed == 9
    assert s.sft.lr == 5e-4 and s.sft.seed == 3 and s.sft.steps == SFT_DEFAULTS.steps
    assert s.preference.method == "rlhf" and s.preference.beta == 0.5
    assert s.corpus_files == ("texts/t1.txt", "extra.txt")
    assert [c.answer for c in s.sft_examples] == ["hello", "hey"]
    assert len(s.preference_pairs) == 1 and s.probes == ()
    assert s.evals == {"facts": (scenarios.EvalItem("q", "a", ""),)}


def test_sft_formats_are_normalised(tmp_path: Path) -> None:
    records = jsonl(
        {
            "messages": [
                {"role": "system", "content": "Be nice."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Bye"},
                {"role": "assistant", "content": "Goodbye!"},
            ],
            "id": 1,
        },
        {"prompt": "Q?", "completion": "A."},
        {
            "prompt": [{"role": "user", "content": "Q2?"}],
            "completion": [{"role": "assistant", "content": "A2."}],
        },
    )
    s = load_scenario(
        write(tmp_path / "s", {"scenario.toml": "", "sft.jsonl": "\n" + records + "\n\n"})
    )
    first, second, third = s.sft_examples
    assert first.messages[0] == Message("system", "Be nice.") and len(first.messages) == 5
    assert first.answer == "Goodbye!" and first.prompt[-1] == Message("user", "Bye")
    assert second == Conversation((Message("user", "Q?"), Message("assistant", "A.")))
    assert third == Conversation((Message("user", "Q2?"), Message("assistant", "A2.")))
    assert not s.has_stage("pretrain") and "Pretraining needs" in s.missing_for("pretrain")


def test_preference_formats_are_normalised(tmp_path: Path) -> None:
    user = {"role": "user", "content": "Q?"}
    records = jsonl(
        {"prompt": "Q?", "chosen": "Yes.", "rejected": "Ugh.", "kind": "rude"},
        {
            "prompt": [user],
            "chosen": [{"role": "assistant", "content": "Yes."}],
            "rejected": [{"role": "assistant", "content": "No."}],
        },
        {  # implicit prompt: whole conversations sharing all but the last message
            "chosen": [user, {"role": "assistant", "content": "Yes."}],
            "rejected": [user, {"role": "assistant", "content": "No."}],
        },
    )
    s = load_scenario(write(tmp_path / "s", {"scenario.toml": "", "preference.jsonl": records}))
    prompt = (Message("user", "Q?"),)
    assert s.preference_pairs == (
        PreferencePair(prompt, "Yes.", "Ugh.", "rude"),
        PreferencePair(prompt, "Yes.", "No.", ""),
        PreferencePair(prompt, "Yes.", "No.", ""),
    )


def test_probes_and_evals(tmp_path: Path) -> None:
    files = {
        "scenario.toml": "",
        "c.txt": CORPUS,
        "probes.jsonl": jsonl({"prompt": "Hi?"}, {"name": "s", "prompt": "Once", "kind": "story"}),
        "eval_a.jsonl": jsonl({"prompt": "p", "expected": "", "kind": "unknown", "rejected": "r"}),
    }
    s = load_scenario(write(tmp_path / "s", files))
    assert s.probes == (
        scenarios.Probe("probe 1", "Hi?", "question"),
        scenarios.Probe("s", "Once", "story"),
    )
    assert s.evals == {"a": (scenarios.EvalItem("p", "", "unknown", "r"),)}


def test_text_files_with_bom_and_crlf(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    (root / "scenario.toml").write_bytes(b"\xef\xbb\xbfname = 'x'\r\n")
    (root / "c.txt").write_bytes(b"\xef\xbb\xbf" + CORPUS.replace(". ", ".\r\n").encode())
    s = load_scenario(root)
    assert s.name == "x" and "\r" not in s.corpus and not s.corpus.startswith("\ufeff")


def test_corpus_scenario(tmp_path: Path) -> None:
    path = tmp_path / "book.txt"
    path.write_text(CORPUS)
    s = corpus_scenario(path, pretrain={"steps": 20}, model=scenarios.ModelSettings(context=16))
    assert s.name == "book" and s.root is None and s.corpus == CORPUS
    assert s.pretrain.steps == 20 and s.model.context == 16
    assert s.has_stage("pretrain") and not s.has_stage("sft") and not s.has_stage("preference")
    assert s.missing_for("sft").startswith("Fine-tuning needs")
    assert s.missing_for("preference").startswith("Preference tuning needs")
    assert not s.has_stage("rlhf")  # RL samples the preference pairs' prompts: none here
    with pytest.raises(ScenarioError, match="unknown stage"):
        s.has_stage("ppo")


def test_format_doc_minimal_example_loads(tmp_path: Path) -> None:
    doc = (ROOT / "FORMAT.md").read_text()
    example = doc.split("## A minimal example to copy")[1].split("\n## ")[0]
    blocks = re.findall(r"`([\w.]+)`[^\n]*:\n\n```\w*\n(.*?)```", example, re.S)
    files = dict(blocks)
    assert set(files) == {"scenario.toml", "corpus.txt", "sft.jsonl", "preference.jsonl"}
    s = load_scenario(write(tmp_path / "pets", files))
    assert s.name == "pets" and all(s.has_stage(st) for st in scenarios.STAGES)


# --- import hygiene -----------------------------------------------------------------------


def test_importing_scenarios_loads_no_textual_tui_or_torch() -> None:
    code = (
        "import sys, scenarios, scenarios.world_gen\n"
        "scenarios.default_scenario()\n"
        "heavy = ('textual', 'tui', 'torch', 'model')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_scenarios_sources_import_nothing_heavy() -> None:
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(textual|tui|torch|model)\b", text, re.M), path
