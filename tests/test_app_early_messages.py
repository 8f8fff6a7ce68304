"""What a run says before its tab's panes have mounted (they mount after the first frame)
waits in the tab, in order, and is replayed when they do; tab 1's run never waits."""

from __future__ import annotations

from stage_fixtures import until

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.base import Panes
from tui.widgets.common.token_stream import TokenStream


async def test_messages_before_a_tabs_panes_wait_for_them_in_order(
    fake_engine, recording, monkeypatch
):
    # The panes mount after the first frame (Lazy). Held here until the test says so: what a
    # run says before then waits in its tab, in order; tab 1's run does not wait at all, so
    # a key pressed that early acts on the run as it is.
    monkeypatch.setattr(Panes, "on_mount", lambda self: None)
    reports = recording.reports[:3]
    offer = p.BaseModel("sft", "tab", reports[0].step, reports[0].total_steps, None)
    moved = p.BaseModel("sft", "tab", reports[-1].step, reports[-1].total_steps, None)
    fake_engine.feed(recording.ready, offer, *reports, moved)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        first, sft = app.first, app.later[0]
        await until(pilot, lambda: len(sft._early) == 2, what="tab 2's messages")
        assert first.latest == reports[-1] and not first.panes_ready, "tab 1's run waits not"
        assert sft.base is None and sft._early == [offer, moved]
        await pilot.press("n")
        assert fake_engine.sent == [p.Step(1)] and first.state == "paused"
        for tab in (first, sft):
            tab.query_one(Panes).post_message(Panes.Mounted())
        await until(pilot, lambda: first.panes_ready and sft.panes_ready, what="the panes")
        await pilot.pause()
        assert sft.base == moved and not sft._early, "kept, and replayed in order"
        assert app.query_one(TokenStream).row == reports[-1].row
