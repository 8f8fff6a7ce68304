"""Screenshots of the fine-tuning tab, fed with messages recorded from a real tiny run
(timings fixed; tests/record.py): the hand-off, and the live run at 80×24 and 120×40; and a
run trained now, checked by what its screen must say rather than by pixels."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import record
from recorded import load
from stage_fixtures import settle_view, until
from test_app_snapshots import assert_chips_show, drawn_text

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.sft import SFTView
from tui.widgets.common.status import StatusBar


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
def sft_recording() -> SFTRecording:
    """A real tiny run pretrained then fine-tuned, recorded by tests/record.py (``sft``)."""
    return SFTRecording(**load("sft"))


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


async def test_a_fine_tuning_run_trained_now_shows_its_last_report(fake_engine, tmp_path):
    """Fine-tuned here, with whatever numbers this torch computes: the screen says what
    the run's messages say, and the prompt's tokens are shown out of the loss."""
    live = SFTRecording(**record.sft(tmp_path))
    last = live.reports[-1]
    app = fed(fake_engine, live)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot, app)
        status = app.query_one(StatusBar).render().plain
        assert f"step {last.step}/{last.total_steps}" in status
        assert f"loss {last.loss:.3f}" in status
        positions = assert_chips_show(app.query_one("#sft-stream"), last.row)
        counted = [q is not None and q.counts_in_loss for q in positions]
        assert not counted[0] and counted[-1], "the prompt out of the loss, the answer in it"
        evals = drawn_text(app.query_one("#sft-evals"))
        assert "base @0" in evals and f"@{live.after.step}" in evals
        for row in live.after.rows:
            assert row.label in evals and f"{100 * row.rate:3.0f}%" in evals, row
        await pilot.press("v")
        await pilot.pause()
        probes = drawn_text(app.query_one("#sft-probes"))
        for _, prompt, base, now in live.probes.rows:
            for said in (prompt, base, now):
                assert " ".join(said.split())[:20] in probes, said
