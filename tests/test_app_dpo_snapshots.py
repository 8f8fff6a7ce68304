"""Screenshots of the Preference tab, fed with messages recorded from a real tiny DPO run
(timings fixed; tests/record.py): the hand-off with its choices, and the live run at 80×24
and 120×40; and a run trained now, checked by what its screen must say, not by pixels."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import record
from recorded import load
from stage_fixtures import settle_view, until
from test_app_snapshots import drawn_text

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.dpo import PreferenceView
from tui.widgets.common.status import StatusBar


@dataclass(frozen=True)
class DPORecording:
    pretrain_ready: p.EngineReady
    base: p.BaseModel
    ready: p.EngineReady
    before: p.EvalTable
    reports: tuple[p.StepReport, ...]
    after: p.EvalTable


@pytest.fixture(scope="module")
def dpo_recording() -> DPORecording:
    """A real tiny run pretrained, fine-tuned, then DPO, recorded by tests/record.py."""
    return DPORecording(**load("dpo"))


def fed(fake_engine, rec: DPORecording, running: bool = True) -> TrainTermApp:
    fake_engine.feed(rec.pretrain_ready, rec.base)
    if running:
        fake_engine.feed(rec.ready, rec.before, *rec.reports, rec.after)
    return TrainTermApp(fake_engine)


async def settle(pilot, app) -> None:
    await settle_view(pilot, app, PreferenceView, "#dpo-evals")


def test_preference_hand_off_80x24(snap_compare, fake_engine, dpo_recording):
    app = fed(fake_engine, dpo_recording, running=False)

    async def run_before(pilot):
        await pilot.press("3")
        await until(pilot, lambda: app.query_one(PreferenceView).base is not None, "the base")
        await pilot.press("m", "left_square_bracket")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_preference_live(snap_compare, fake_engine, dpo_recording, size):
    app = fed(fake_engine, dpo_recording)

    async def run_before(pilot):
        await pilot.press("3")
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_a_dpo_run_trained_now_shows_its_last_report(fake_engine, tmp_path):
    """DPO trained here, with whatever numbers this torch computes: the screen says what
    the last report says, a pair's chosen and rejected answers token by token."""
    live = DPORecording(**record.dpo(tmp_path))
    last = live.reports[-1]
    app = fed(fake_engine, live)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot, app)
        status = app.query_one(StatusBar).render().plain
        assert f"step {last.step}/{last.total_steps}" in status
        assert f"loss {last.loss:.3f}" in status
        pair = last.pairs[0]
        shown = drawn_text(app.query_one("#dpo-pair"))
        for label, answer in (("chosen", pair.chosen), ("rejected", pair.rejected)):
            said = "".join(piece for piece, _ in answer)
            up = sum(r for _, r in answer)
            assert f"{label:<9}{said}  Σ {up:+.1f}" in shown.splitlines(), shown
        metrics = drawn_text(app.query_one("#dpo-metrics"))
        for name, value in last.metrics:
            assert f"{value:.3f}" in metrics, (name, value)
