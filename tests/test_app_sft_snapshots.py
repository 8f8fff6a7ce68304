"""Screenshots of the fine-tuning tab, fed with messages recorded from a real tiny run
(timings fixed): the hand-off, and the live run at 80×24 and 120×40."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from stage_fixtures import settle_view, until, write_sft_scenario

from model import protocol as p
from tui.app import TrainTermApp
from tui.views.sft import SFTView


@dataclass(frozen=True)
class SFTRecording:
    pretrain_ready: p.EngineReady
    base: p.BaseModel
    ready: p.EngineReady
    before: p.EvalTable
    reports: tuple[p.StepReport, ...]
    after: p.EvalTable
    probes: p.ProbeAnswers


@pytest.fixture(scope="module")
def sft_recording(tmp_path_factory) -> SFTRecording:
    from model.announce import ready_message
    from model.evals import probe_answers, run_evals
    from model.pipeline import new_trainer, run_headless
    from scenarios import load_scenario

    folder = tmp_path_factory.mktemp("tiny-sft")
    write_sft_scenario(folder)
    scenario = load_scenario(folder)
    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    import copy

    from model.models import LoadedModel

    base_model = copy.deepcopy(pretrain.model)
    meta = {"state": {"step": 12}, "settings": {"steps": 12}}
    base = LoadedModel(
        folder, "pretrain", pretrain.model, pretrain.tokenizer, pretrain.config,
        pretrain.settings, meta,
    )  # fmt: skip
    sft = new_trainer(scenario, "sft", base=base)
    tok = sft.tokenizer
    before = run_evals(sft.model, tok, scenario, "sft", 0)
    reports = []
    for _ in range(sft.settings.steps):
        r = sft.step()
        reports.append(replace(r, tokens_per_s=9000.0, step_seconds=0.03))
    after = run_evals(sft.model, tok, scenario, "sft", sft.state.step)
    probes = scenario.probes
    rows = tuple(
        (pr.name, pr.prompt, b, n)
        for pr, b, n in zip(
            probes,
            probe_answers(base_model, tok, probes, chat=False),
            probe_answers(sft.model, tok, probes, chat=True),
            strict=True,
        )
    )
    base_offer = p.BaseModel("sft", "cache", 12, 12, 2.5, "cache", sft.data.describe())
    return SFTRecording(
        # The base's path is a temporary folder: fixed here, so the screen is the same.
        ready_message(pretrain), base_offer,
        replace(ready_message(sft), starts_from="pretrain step 12/12, the cached run"),
        before, tuple(reports), after,
        p.ProbeAnswers("sft", sft.state.step, rows),
    )  # fmt: skip


async def settle(pilot, app) -> None:
    await settle_view(pilot, app, SFTView, "#sft-evals")


def fed(fake_engine, rec: SFTRecording, running: bool = True) -> TrainTermApp:
    fake_engine.feed(rec.pretrain_ready, rec.base)
    if running:
        fake_engine.feed(rec.ready, rec.before, *rec.reports, rec.after, rec.probes)
    return TrainTermApp(fake_engine)


def test_hand_off_80x24(snap_compare, fake_engine, sft_recording):
    app = fed(fake_engine, sft_recording, running=False)

    async def run_before(pilot):
        await pilot.press("2")
        await until(pilot, lambda: app.query_one(SFTView).base is not None, "the base model")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_fine_tuning_live(snap_compare, fake_engine, sft_recording, size):
    app = fed(fake_engine, sft_recording)

    async def run_before(pilot):
        await pilot.press("2")
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_probes_side_by_side_80x24(snap_compare, fake_engine, sft_recording):
    app = fed(fake_engine, sft_recording)

    async def run_before(pilot):
        await pilot.press("2")
        await settle(pilot, app)
        await pilot.press("v")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
