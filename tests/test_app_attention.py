"""The attention pane in the real app, fed with reports recorded from the real trainer: a and
A step through the heads of every block, the cursor moves where the heads look from, a
previous-token head is announced once it forms, and under 34 rows the pane folds into a
line that a opens."""

from __future__ import annotations

from dataclasses import replace

from stage_fixtures import until
from test_app_snapshots import drawn_text, fed_app, settle

from model import protocol as p
from tui.screens.attention import AttentionScreen
from tui.widgets.pretrain.attention_pane import AttentionPane


async def test_keys_step_through_every_blocks_heads(fake_engine, recording):
    app = fed_app(fake_engine, recording)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, 40)
        pane = app.query_one("#attention", AttentionPane)
        heads = len(recording.reports[-1].figures.head_shares[0])  # 2 a block, 3 blocks
        assert pane.border_title.startswith("Attention B1 H1") and "▸H1" in drawn_text(pane)
        before = drawn_text(pane)
        await pilot.press("a")
        assert pane.selected == 1 and pane.border_title.startswith("Attention B1 H2")
        assert "▸H2" in drawn_text(pane) and drawn_text(pane) != before
        await pilot.press("a")  # past block 1's last head: block 2's first
        assert pane.selected == heads and pane.border_title.startswith("Attention B2 H1")
        await pilot.press("A", "A", "A")  # back through block 1, round to block 3's last
        assert pane.border_title.startswith(f"Attention B3 H{heads}")
        looked_from = pane.border_title
        await pilot.press("right")
        assert pane.position == app.query_one("#stream").cursor
        assert pane.border_title != looked_from  # another token looks back now
        # Nothing folds at this height: the Next-token pane keeps its bottom line empty.
        assert app.query_one("#prediction").border_subtitle == ""


def with_a_previous_token_head(report: p.StepReport) -> p.StepReport:
    """The report, as if block 2's head 1 put 80 % of its weight on the token before."""
    f = report.figures
    shares = [list(block) for block in f.head_shares]
    shares[1][0] = p.HeadShares(0.8, 0.05, 0.0)
    return replace(report, figures=replace(f, head_shares=tuple(map(tuple, shares))))


async def test_a_previous_token_head_is_said_in_words_once_it_forms(fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=39)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, 39)
        pane = app.query_one("#attention", AttentionPane)
        assert "No previous-token head yet" in drawn_text(pane).replace("\n", " ")
        fake_engine.feed(with_a_previous_token_head(recording.reports[39]))
        await settle(pilot, app, 40)
        said = " ".join(drawn_text(pane).split())
        assert "previous-token head formed at step 40: block 2 head 1" in said, said


async def test_at_80x24_the_pane_folds_into_a_line_and_a_opens_it(fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=39)
    notes = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.first.notify = lambda message, **kw: notes.append((kw.get("title"), message))
        await settle(pilot, app, 39)
        prediction = app.query_one("#prediction")
        assert prediction.border_subtitle.startswith("a: attention B1 H1 prev")
        await pilot.press("a")  # opens the pane over the screen, at the head it was at
        await until(pilot, lambda: isinstance(app.screen, AttentionScreen), "the attention view")
        view = app.screen.query_one(AttentionPane)
        await until(pilot, lambda: view.figures is not None, "the view's figures")
        assert view.selected == 0 and "▸H1" in drawn_text(view)
        await pilot.press("a")
        assert view.selected == 1 and "▸H2" in drawn_text(view)
        # It stays live: a shown step that brings a previous-token head reaches it.
        fake_engine.feed(with_a_previous_token_head(recording.reports[39]))
        await until(pilot, lambda: view.formed is not None, "the view to hear of the head")
        assert "formed at step 40" in " ".join(drawn_text(view).split())
        assert not notes, "the pane is on screen: it says so itself"
        await pilot.press("escape")
        assert not isinstance(app.screen, AttentionScreen)
        assert prediction.border_subtitle == "a: B2 H1 previous-token head"
        await pilot.press("right", "left")  # the tab's keys are its own again
        assert app.query_one("#stream").cursor == view.position


async def test_a_head_that_forms_out_of_sight_is_a_notification(fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=39)
    notes = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.first.notify = lambda message, **kw: notes.append((kw.get("title"), message))
        await settle(pilot, app, 39)
        fake_engine.feed(with_a_previous_token_head(recording.reports[39]))
        await settle(pilot, app, 40)
        assert notes == [
            (
                "A previous-token head formed",
                "block 2 head 1 became a previous-token head at step 40: a shows where it looks",
            )
        ]
