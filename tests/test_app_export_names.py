"""The files x and i write are named after the run the tab shows, on every tab: tab 3 by
DPO, by RLHF's reward model and by RLHF's policy (m picks the method) each its own, and the
batch named as the engine names the metrics it writes beside it. A stand-in engine fed with
a few real steps of every stage of the tiny scenario."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from stage_fixtures import later_tabs, until, write_preference, write_sft_scenario

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.compare import CompareView


@dataclass(frozen=True)
class Run:
    ready: p.EngineReady
    reports: tuple[p.StepReport, ...]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    """Two real steps of each stage, each from its (two-step) parent: what the engine
    would send as the stage runs."""
    from model.checkpoint import save_checkpoint
    from model.engine.ready_message import ready_message
    from model.loaded_model import load_model
    from model.pipeline import new_trainer
    from scenarios import load_scenario

    folder = tmp_path_factory.mktemp("tiny-every-stage")
    write_sft_scenario(folder)
    write_preference(folder)
    scenario = load_scenario(folder)
    out: dict[str, Run] = {}

    def run(stage: str, **models):
        trainer = new_trainer(scenario, stage, **models)
        ready = ready_message(trainer)
        out[stage] = Run(ready, (trainer.step(), trainer.step()))
        return load_model(save_checkpoint(trainer, folder / stage))

    sft = run("sft", base=run("pretrain"))
    run("dpo", base=sft)
    run("rlhf", base=sft, reward=run("reward-model", base=sft))
    return out


# The run shown → the keys that show it. Tab 3 opens on DPO+NLL: m plain DPO, m RLHF (its
# reward model's run, then its policy's).
SHOW = {
    "pretrain": (),
    "sft": ("2",),
    "dpo": ("3",),
    "reward-model": ("3", "m", "m"),
    "rlhf": ("3", "m", "m"),
}


def _activated(engine) -> str:
    """The run the engine was last told is shown: the one whose metrics it exports (it
    starts on pretraining's)."""
    told = [c.stage for c in engine.sent if isinstance(c, p.Activate)]
    return told[-1] if told else "pretrain"


@pytest.mark.parametrize("stage", list(SHOW))
async def test_x_and_i_name_their_files_after_the_run_shown(fake_engine, runs, tmp_path, stage):
    shown = runs[stage]
    if stage != "pretrain":
        fake_engine.feed(runs["pretrain"].ready)  # the app opens on pretraining's run
    fake_engine.feed(shown.ready, *shown.reports)
    app = TrainTermApp(fake_engine, save_dir=str(tmp_path))
    last = shown.reports[-1].step
    async with app.run_test(size=(100, 30)) as pilot:
        await later_tabs(pilot)
        await pilot.press(*SHOW[stage])

        def shows_last() -> bool:
            if stage == "pretrain":
                return app.first.drawn is not None and app.first.drawn.step == last
            view = app.tab
            return view is not None and view.latest is not None and view.latest.step == last

        await until(pilot, shows_last, f"{stage}'s step {last} on screen")
        await pilot.press("x")
        await until(pilot, lambda: any(isinstance(c, p.ExportMetrics) for c in fake_engine.sent),
                    "the metrics asked of the engine")  # fmt: skip
        await pilot.press("i")
        await until(pilot, lambda: list(tmp_path.glob("*.svg")), "the screenshot")
        # The engine writes the metrics of the run it was last told is shown.
        assert _activated(fake_engine) == stage
    assert {f.name for f in tmp_path.iterdir()} == {
        f"{stage}-batch-step{last}.jsonl",
        f"screen-{stage}-step{last}.svg",
    }
    assert (tmp_path / f"{stage}-batch-step{last}.jsonl").read_text().count("\n") == len(
        shown.reports[-1].row
    ) + sum(len(pair.chosen) + len(pair.rejected) for pair in shown.reports[-1].pairs)


def _answer(text: str) -> p.CompareAnswer:
    candidate = p.Candidate(1, text, 0.9, 0.9, 0.9, 0.9)
    return p.CompareAnswer(text, (p.TokenChoice(1, text, (candidate,), 40, 40),), stop="end")


async def test_x_and_i_on_the_compare_tab_name_theirs_compare(fake_engine, runs, tmp_path):
    fake_engine.feed(runs["pretrain"].ready, *runs["pretrain"].reports)
    app = TrainTermApp(fake_engine, save_dir=str(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await later_tabs(pilot)
        await pilot.press("4")
        ask = fake_engine.sent[-1]
        assert isinstance(ask, p.CompareAsk)
        fake_engine.feed(p.ComparePrompts(ask.ask_id, (("q", "Capital of Tarsk?"),)))
        fake_engine.feed(*(
            p.CompareColumn(ask.ask_id, stage, "tab", 2, 2, answers=(_answer("Tarport."),))
            for stage in p.COMPARE_STAGES
        ))  # fmt: skip
        view = app.query_one(CompareView)
        await until(pilot, lambda: not view.busy, "the answers on screen")
        await pilot.press("x", "i")
        await until(pilot, lambda: list(tmp_path.glob("*.svg")), "the screenshot")
    assert {f.name for f in tmp_path.iterdir()} == {
        "compare-answers.jsonl",
        "screen-compare-step0.svg",
    }
