"""The app where colour is off (NO_COLOR), at 80×24: what colour says elsewhere still reads.
The token chips end in a bar as high as their loss, the phase being computed stands out in
the loop by being reversed, and Compare's answers get a line of ▁…█ bars under each line
of text. Fed with reports recorded from the real trainer (timings fixed): one screenshot,
and the same facts read from the screen's cells, so they are checked without snapshots."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import pytest
from stage_fixtures import later_tabs, until
from test_app_snapshots import settle as settle_panes

from model import protocol as p
from tui.app import TrainTermApp
from tui.tabs.compare import CompareView
from tui.widgets.common.token_stream import BARS, TokenStream, chips_for
from tui.widgets.compare.compare_grid import BARS as PROBABILITY_BARS
from tui.widgets.compare.compare_grid import CompareGrid
from tui.widgets.pretrain.loop_diagram import LoopDiagram
from tui.widgets.pretrain.loop_words import loop_nodes


@pytest.fixture
def no_color(monkeypatch):
    # Read (and removed from the environment) by the App as it is made.
    monkeypatch.setenv("NO_COLOR", "1")


async def settle(pilot, app: TrainTermApp, step: int) -> None:
    await settle_panes(pilot, app, step, timeout=30)


async def loss_phase_lit(pilot, app: TrainTermApp, fake_engine, recording) -> None:
    """40 steps trained, then p: the next step walked up to its loss (the engine's figures
    of that phase stand in as the recorded step's, relabelled)."""
    await settle(pilot, app, len(recording.reports))
    await pilot.press("p")
    assert fake_engine.sent[-1] == p.StepPhase()
    fake_engine.feed(replace(recording.reports[-1].figures, phase="loss"))
    diagram = app.query_one(LoopDiagram)
    await until(pilot, lambda: diagram.active_phase == "loss", "the loss phase lit")
    await pilot.pause()


def screen_cells(app: TrainTermApp) -> list[list[tuple[str, object]]]:
    """The screen as sent to the terminal (colour filters applied): per row, per cell, its
    character and style."""
    update = app.screen._compositor.render_update(full=True)
    rows = []
    for line in update.strips:
        cells = []
        for strip in line:
            for segment in strip:
                if segment.control:
                    continue
                cells += [(ch, segment.style) for ch in segment.text]
        rows.append(cells)
    return rows


def colours(cells) -> set:
    return {
        c
        for row in cells
        for _, style in row
        if style is not None
        for c in (style.color, style.bgcolor)
        if c is not None
    }


def is_grey(colour) -> bool:
    triplet = colour.get_truecolor()
    return triplet.red == triplet.green == triplet.blue


def test_paused_without_colour_80x24(snap_compare, no_color, fake_engine, recording):
    fake_engine.feed(recording.ready, *recording.reports)
    app = TrainTermApp(fake_engine)

    async def run_before(pilot):
        await loss_phase_lit(pilot, app, fake_engine, recording)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_without_colour_the_chips_and_the_loop_still_say_it(no_color, fake_engine, recording):
    fake_engine.feed(recording.ready, *recording.reports)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loss_phase_lit(pilot, app, fake_engine, recording)
        assert app.no_color
        cells = screen_cells(app)
        assert colours(cells) and all(map(is_grey, colours(cells))), "no colour on screen"

        # Each chip that counts in the loss ends in a bar, higher for a higher loss.
        stream = app.query_one(TokenStream)
        chips = chips_for(stream.row)
        lines = stream.lines()
        marks = []  # (loss, bar) for each chip on screen
        for n, line in enumerate(stream._lines[stream._top : stream._top + len(lines) // 2]):
            text = lines[2 * n]
            for index, x, w in line:
                position = chips[index].position
                if position is not None and position.counts_in_loss and x + w < len(text):
                    marks.append((position.loss, text[x + w]))
        assert len(marks) >= 10 and all(bar in BARS for _, bar in marks), marks
        assert len({bar for _, bar in marks}) >= 3, "the bars tell losses apart"
        for (loss_a, bar_a), (loss_b, bar_b) in combinations(marks, 2):
            if loss_a > loss_b:
                assert BARS.index(bar_a) >= BARS.index(bar_b), (loss_a, bar_a, loss_b, bar_b)
            elif loss_b > loss_a:
                assert BARS.index(bar_b) >= BARS.index(bar_a), (loss_a, bar_a, loss_b, bar_b)
        # And the screen shows them as the widget drew them.
        region = stream.content_region
        first = "".join(ch for ch, _ in cells[region.y][region.x : region.right]).rstrip()
        assert first == lines[0][: region.width].rstrip()

        # The phase being computed (the loss) stands out by reverse video, and only it.
        loop = app.query_one(LoopDiagram).content_region
        lit = "".join(
            ch
            for row in cells[loop.y : loop.bottom]
            for ch, style in row[loop.x : loop.right]
            if style is not None and style.reverse
        )
        assert "Loss" in lit
        others = {node.label for node in loop_nodes(3)} - {"Loss"}
        assert not any(label in lit for label in others), lit


def answer(*tokens: tuple[str, float]) -> p.CompareAnswer:
    """An answer whose tokens the model gave these probabilities (each its favourite)."""
    choices = tuple(
        p.TokenChoice(i, text, (p.Candidate(i, text, prob, prob, prob, prob),), 1, 1)
        for i, (text, prob) in enumerate(tokens)
    )
    return p.CompareAnswer("".join(t for t, _ in tokens), choices, stop="")


@pytest.mark.parametrize("colour", [False, True], ids=["NO_COLOR", "colour"])
async def test_compare_answers_get_a_line_of_bars_only_without_colour(
    monkeypatch, fake_engine, recording, colour
):
    if not colour:
        monkeypatch.setenv("NO_COLOR", "1")
    fake_engine.feed(recording.ready)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await later_tabs(pilot)
        await pilot.press("4")
        ask = fake_engine.sent[-1]
        assert isinstance(ask, p.CompareAsk)
        sure_then_unsure = answer(("Tarport", 0.95), (" maybe", 0.05))
        columns = [
            p.CompareColumn(ask.ask_id, stage, "tab", 3, 3, answers=(sure_then_unsure,))
            if n == 0
            else p.CompareColumn(ask.ask_id, stage, missing="untrained")
            for n, stage in enumerate(p.COMPARE_STAGES)
        ]
        fake_engine.feed(p.ComparePrompts(ask.ask_id, (("q", "Capital of Tarsk?"),)), *columns)
        view = app.query_one(CompareView)
        await until(pilot, lambda: not view.busy, "the answers on screen")
        await pilot.pause()
        grid = app.query_one(CompareGrid).content_region
        cells = screen_cells(app)
        shown = [
            "".join(ch for ch, _ in row[grid.x : grid.right]) for row in cells[grid.y : grid.bottom]
        ]
        text_row = next(n for n, line in enumerate(shown) if "Tarport" in line)
        if colour:
            assert not any(set(PROBABILITY_BARS) & set(line) for line in shown), shown
            return
        under = shown[text_row + 1]
        at = shown[text_row].index("Tarport")
        # Sure: the top bar under each of its cells; unsure: the bottom one.
        assert under[at : at + 7] == PROBABILITY_BARS[-1] * 7, shown
        assert under[at + 7 : at + 13] == PROBABILITY_BARS[0] * 6, shown
