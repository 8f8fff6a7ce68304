"""Tab 3 starts each run at the β of the scenario it was given, not at a β of its own: the
engine says it with the offer (p.BaseModel.beta), and [ ] or o override it."""

from __future__ import annotations

from dataclasses import replace

from engine_fixtures import engine_in_process
from stage_fixtures import later_tabs, until, write_preference, write_sft_scenario
from test_rlhf_overoptimise import open_rlhf, rlhf_offer

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.dpo import PreferenceView
from tui.widgets.later.handoff import HandoffBody


def test_the_engine_offers_each_stage_its_scenarios_beta(tmp_path, monkeypatch):
    from model.engine.base_models import base_info
    from model.engine.options import EngineOptions
    from model.settings import DEFAULT_THREADS

    folder = tmp_path / "tiny"
    folder.mkdir()
    write_sft_scenario(folder)
    write_preference(folder)
    manifest = folder / "scenario.toml"
    text = manifest.read_text()
    text = text.replace("[preference]\n", "[preference]\nbeta = 0.3\n")
    manifest.write_text(text.replace("[rlhf]\n", "[rlhf]\nbeta = 0.01\n"))
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    options = EngineOptions(str(folder), threads=DEFAULT_THREADS, save_dir=str(tmp_path / "s"))
    with engine_in_process(options) as (engine, _):
        assert engine._build()
        offered = {stage: base_info(engine, stage).beta for stage in ("sft", "dpo", "rlhf", "rlvr")}
    assert offered == {"sft": None, "dpo": 0.3, "rlhf": 0.01, "rlvr": 0.01}


async def test_rlhf_starts_at_the_offered_beta_until_the_learner_picks_one(fake_engine, recording):
    offer = replace(rlhf_offer(reward_model="cache"), beta=0.01)
    fake_engine.feed(recording.ready, offer)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(100, 34)) as pilot:
        rl = await open_rlhf(pilot, app)
        assert rl.beta == 0.01
        assert "β 0.01" in str(rl.query_one(HandoffBody).choices)
        await pilot.press("right_square_bracket")
        assert rl.beta == 0.05
        rl.on_base(replace(offer, step=299))  # a later offer keeps the learner's choice
        assert rl.beta == 0.05
        sent = len(fake_engine.sent)
        await pilot.press("enter")
        assert fake_engine.sent[sent:] == [p.StartStage("rlhf", beta=0.05)]


async def test_dpo_starts_at_the_offered_beta(fake_engine, recording):
    offer = p.BaseModel("dpo", "cache", 300, 300, 1.2, "/cache/sft", "pairs", beta=0.3)
    fake_engine.feed(recording.ready, offer)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await later_tabs(pilot)
        await pilot.press("3")
        dpo = app.query_one(PreferenceView)
        await until(pilot, lambda: dpo.base is not None, "DPO's offer")
        assert dpo.beta == 0.3
        assert "β 0.3" in str(dpo.query_one(HandoffBody).choices)
        sent = len(fake_engine.sent)
        await pilot.press("enter")
        assert fake_engine.sent[sent:] == [p.StartStage("dpo", beta=0.3, method="dpo+nll")]
