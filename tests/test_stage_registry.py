"""The stage registry: one line per stage in model/stages/__init__.py, read by the pipeline,
the cache, the evals, the CLI and the engine. A new stage is a new module and one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
from stage_fixtures import write_preference, write_sft_scenario

from model.stages import ORDER, REGISTRY, REWARD_MODEL, answers, lacking, parent_of, stage_class
from scenarios import load_scenario
from scenarios.schema import STAGES as SECTIONS


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-registry")
    write_sft_scenario(path)
    write_preference(path)
    return path


@pytest.fixture(scope="module")
def scenario(folder):
    return load_scenario(folder)


@pytest.fixture(scope="module")
def sft_only(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-sft-only")
    write_sft_scenario(path)
    return load_scenario(path)


# Worked out by the code before the registry replaced its `if stage == …` chains (commit
# 71b2d10): a cache entry made then must be found now. A change here is every user's
# cache missed once: make it on purpose (stage_cache.CACHE_FORMAT), not by accident.
PINNED = {
    "pretrain": (
        "77cbccf4160881dc7e8132312fbc4eaf03f522d2b33e44ede7dd445e604ed5d0",
        "aa23c5a185e87918b7103a08bfbfa80434dcd13ab9a342fa1538e47924d703fe",
    ),
    "sft": (
        "c4f6d623a2db16f7524597e1ab997a185f8a478604da5a0085008e5aa3b816dc",
        "ee42c222b008988b6af3739b2f9ff6b51f2400f21f70089f37f5f4339da1008f",
    ),
    "dpo": (
        "a465c653cc03c64359cfae88d9f4a237e2036f3ac060f6fe45450c17141cb4a5",
        "20942b39201a9d34b8d27571322c36b2ff342d99a20a43be68d536b62c64f382",
    ),
    "reward-model": (
        "189d1c72e0991c393db9344354079bf51d99ff651b235c049eba748e10cab026",
        "e208788034114557412a3bc02b711adc994939365d36a648acc7c8a71c47161b",
    ),
    # RLHF's default β went from 0.05 to 0.1 on purpose (2026-12-08): its recipe changed.
    "rlhf": (
        "88de565ef3665179cb15802b879ce0b02d4ca9045edef90f5f564d43258dca38",
        "71b9a35a2ad6cac2828efd1d335bc990a47af5d638304ee4af626d1153e5714e",
    ),
}


def test_the_cache_keys_of_every_stage_are_the_ones_made_before_the_registry(scenario):
    from model.pipeline import stage_recipe
    from model.stage_cache import data_fingerprint

    # The stages there were then, in their order; a stage added since has a key of its own.
    assert [s for s in ORDER if s in PINNED] == list(PINNED)
    for stage, (fingerprint, key) in PINNED.items():
        assert data_fingerprint(scenario, stage) == fingerprint, stage
        assert stage_recipe(scenario, stage)[0] == key, stage


def test_every_line_names_a_plugin_of_its_name_built_on_stages_listed_before_it():
    for n, (name, entry) in enumerate(REGISTRY.items()):
        assert stage_class(name).name == name
        assert entry.parent in ("", *ORDER[:n]), name
        assert all(need in ORDER[:n] for need in entry.needs), name
        assert (entry.section or name) in SECTIONS, name
    assert [s for s in ORDER if not parent_of(s)] == ["pretrain"]
    assert REWARD_MODEL in REGISTRY and not answers(REWARD_MODEL)


def test_the_registry_and_the_protocol_load_without_torch():
    code = (
        "import sys, model.stages, model.protocol.compare\n"
        "columns = model.protocol.compare.COMPARE_STAGES\n"
        "assert columns[:4] == ('pretrain', 'sft', 'dpo', 'rlhf')\n"
        "assert 'reward-model' not in columns\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_what_a_scenario_lacks_for_a_stage_includes_what_it_builds_on(scenario, sft_only):
    assert all(lacking(scenario, s) == "" for s in ORDER)
    assert lacking(sft_only, "sft") == ""
    # RLHF needs the pairs (its own data and its reward model's), not found here.
    assert lacking(sft_only, "rlhf") == sft_only.missing_for("preference") != ""
    corpus_only = load_scenario_without_sft(sft_only)
    assert lacking(corpus_only, "dpo") == corpus_only.missing_for("sft") != ""


def load_scenario_without_sft(scenario):
    from dataclasses import replace

    return replace(scenario, sft_examples=())


def test_the_server_warms_what_the_later_tabs_start_from(scenario, sft_only):
    from model.cli.fill_cache import stages_for

    assert stages_for(scenario) == ["pretrain", "sft", "reward-model"]
    # Without pairs no later tab starts from the fine-tuned model, and without conversations
    # none starts at all: Compare still asks the base model.
    assert stages_for(sft_only) == ["pretrain"]
    assert stages_for(load_scenario_without_sft(sft_only)) == ["pretrain"]


def test_the_engine_offers_a_start_to_each_later_tab_the_scenario_has_data_for(
    scenario, sft_only, monkeypatch
):
    from model.engine.engine import Engine

    monkeypatch.setattr("model.engine.engine.base_info", lambda engine, stage: stage)
    every = [s for s in ORDER if parent_of(s) and s != REWARD_MODEL]
    assert every[:3] == ["sft", "dpo", "rlhf"]
    for which, offered in ((scenario, every), (sft_only, ["sft"])):
        sent = []
        engine = Engine.__new__(Engine)
        engine.conn, engine.scenario = SimpleNamespace(send=sent.append), which
        engine._send_base()
        # The reward model has no offer of its own: RLHF's tab trains it first.
        assert sent == offered


def test_what_a_plugin_needs_from_the_scenario_besides_its_section_stops_it_everywhere(
    scenario, folder, tmp_path, monkeypatch, capsys
):
    """A stage's plug-in may need more of a scenario than its section's data (RLVR: a gold
    judge); saying so in ``scenario_lacks`` is all it takes for the engine's offers and
    sentences, Compare and `train` to say it, and for the stages after it to need it too."""
    from model.cli.main import main
    from model.engine.engine import Engine
    from model.engine.ready_message import stage_data
    from model.stages.sft import SFTStage

    said = "this scenario has no oracle: the stage asks it"
    monkeypatch.setattr(SFTStage, "scenario_lacks", classmethod(lambda cls, s: said))
    assert lacking(scenario, "sft") == lacking(scenario, "dpo") == said
    assert lacking(scenario, "dpo", built_on=False) == lacking(scenario, "pretrain") == ""
    assert ("sft", said) not in stage_data(scenario)  # the section's data is there
    assert dict(stage_data(scenario))["rlhf"].endswith("are ready for it.")
    monkeypatch.setattr("model.engine.engine.base_info", lambda engine, stage: stage)
    sent = []
    engine = Engine.__new__(Engine)
    engine.conn, engine.scenario = SimpleNamespace(send=sent.append), scenario
    engine._send_base()
    assert sent == []  # every later stage builds on fine-tuning
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    code = main(["train", "--scenario", str(folder), "--stage", "dpo", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err == f"trainterm: error: --stage dpo: {said}\n"
    assert not (tmp_path / "cache").exists()  # refused before any parent was trained


def test_the_names_a_learner_may_reach_for_say_which_stages_train_them(monkeypatch):
    import model.stages as stages
    from model.cli import train

    hint = train.trained_as("preference")
    assert hint.startswith("dpo, or reward-model then rlhf")
    assert train.trained_as("reward") == "reward-model"
    assert train.trained_as("rlhf") == train.trained_as("nowhere") == ""
    # Another method of tab 3 joins the hint by its registry line alone.
    extra = stages.StageEntry("rl-again", "rlhf:RLHFStage", parent="sft", section="rlhf")
    monkeypatch.setattr(stages, "REGISTRY", {**REGISTRY, extra.name: extra})
    monkeypatch.setattr(train, "ORDER", (*ORDER, extra.name))
    assert train.trained_as("preference") == hint + ", or rl-again"


def test_a_run_started_from_a_tab_says_which_tab():
    from model.engine.ready_message import starts_from

    said = starts_from({"stage": "sft", "path": "tab", "step": 4, "total_steps": 8})
    assert said == "tab 2's model at step 4/8"
    assert starts_from({"stage": "pretrain", "path": "tab", "step": 1, "total_steps": 2}) == (
        "tab 1's model at step 1/2"
    )


# A stage added the way the registry promises: a plug-in module of its own, and one line.
# Here it is fine-tuning again, on top of the fine-tuned model; nothing else in the engine
# is told about it, yet it trains headless (its parents first, cached), is cached under its
# own key, is scored by `eval` and has a Compare column.
NEW_STAGE = """
import sys, types
import model.stages as stages

plugin = types.ModuleType("model.stages.again")
exec("from model.stages.sft import SFTStage\\n"
     "class AgainStage(SFTStage):\\n"
     "    name = 'sft-again'\\n", plugin.__dict__)
sys.modules["model.stages.again"] = plugin
stages.STAGES += (stages.StageEntry("sft-again", "again:AgainStage", parent="sft", section="sft"),)
stages.REGISTRY = {s.name: s for s in stages.STAGES}
stages.ORDER = tuple(stages.REGISTRY)
"""


def run_with_new_stage(code: str, tmp_path) -> subprocess.CompletedProcess:
    script = NEW_STAGE + textwrap.dedent(code)
    env = {**os.environ, "TRAINTERM_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )


def test_a_new_stage_is_a_module_and_one_registry_line(folder, tmp_path):
    out = tmp_path / "again"
    code = f"""
    import json
    from pathlib import Path
    from model.cli.main import main
    from model.protocol.compare import COMPARE_STAGES
    from model.pipeline import cached_stage, stage_recipe
    from scenarios import load_scenario

    assert COMPARE_STAGES[-1] == "sft-again", COMPARE_STAGES
    assert main(["train", "--scenario", {str(folder)!r}, "--stage", "sft-again",
                 "--out", {str(out)!r}]) == 0
    meta = json.loads(Path({str(out)!r}, "checkpoint", "meta.json").read_text())
    assert meta["stage"] == "sft-again" and meta["parent"]["stage"] == "sft", meta["parent"]
    scenario = load_scenario({str(folder)!r})
    assert cached_stage(scenario, "sft-again") is not None  # its own key, parent's included
    assert stage_recipe(scenario, "sft-again")[0] != stage_recipe(scenario, "sft")[0]
    assert main(["eval", "--scenario", {str(folder)!r}, "--json",
                 "--model", {str(out / "checkpoint")!r}]) == 0
    """
    result = run_with_new_stage(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["stage"] == "sft-again" and "format" in record["evals"]
    assert "training the sft stage first" in result.stderr
