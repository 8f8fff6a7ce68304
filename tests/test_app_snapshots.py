"""Screenshots of paused states, fed with reports recorded from the real trainer (timings
fixed; tests/record.py), so they are the same on every run and every torch; a run trained
live, checked by what its screen must say rather than by pixels; and what the app does with
messages that a healthy engine rarely sends (divergence, a non-fatal error)."""

from __future__ import annotations

import io
import re
import time

import pytest
import record
from stage_fixtures import later_tabs, until

from model import protocol as p
from tui.app import TrainTermApp
from tui.widgets.common.formatting import fit, token_display
from tui.widgets.common.loss_plot import LossPlot
from tui.widgets.common.status import StatusBar
from tui.widgets.common.token_stream import BARS, SEPARATOR, TokenStream


async def settle(pilot, app: TrainTermApp, step: int, timeout: float = 10) -> None:
    """Wait until the panes show ``step`` and no throttled redraw is pending."""
    await later_tabs(pilot)  # tab 1's panes too come after the first frame
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drawn = app.query_one("ModelPane").report
        plots = app.query(LossPlot)
        plot = plots.first() if plots else None
        if (
            plot is not None
            and drawn is not None
            and drawn.step == step
            and app._draw_throttle._timer is None
            and plot._throttle._timer is None
            and plot.building == 0
        ):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError(f"the panes never showed step {step}")


def fed_app(fake_engine, recording, *, steps: int = 40, sample: bool = False) -> TrainTermApp:
    fake_engine.feed(recording.ready, *recording.reports[:steps])
    if sample:
        fake_engine.feed(recording.sample)
    return TrainTermApp(fake_engine)


def drawn_text(widget) -> str:
    """What ``widget`` shows inside its border, as drawn."""
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


def shown_chips(stream: TokenStream) -> list[tuple[int, str, str, bool]]:
    """The chips on screen, read off the drawn lines: (token id, the chip's cells, the mark
    that ends it, dimmed), in order. A chip's text line is over its id line, both starting at
    the same cell; its mark is the first separator or loss bar after its start."""
    marks = SEPARATOR + BARS
    drawn = [stream.render_line(y) for y in range(stream.size.height)]
    chips = []
    for text_line, id_line in zip(drawn[::2], drawn[1::2], strict=False):
        text = text_line.text
        styles = [style for piece, style, _ in text_line for _ in piece]
        for m in re.finditer(r"\d+", id_line.text):
            start = m.start()
            end = next(i for i in range(start + 1, len(text)) if text[i] in marks)
            chips.append((int(m.group()), text[start:end], text[end], bool(styles[end].dim)))
    return chips


def assert_chips_show(stream: TokenStream, row: tuple[p.Position, ...]) -> list:
    """The chips on screen are a run of the row's tokens, in order, each with its text; the
    ones the loss skips dimmed and marked │, the others ended by a loss bar. Returns, for
    each chip shown, the position whose target it is (None: the window's first token)."""
    wanted = [(row[0].token_id, row[0].text, None)]
    wanted += [(q.target_id, q.target_text, q) for q in row]
    shown = shown_chips(stream)
    assert shown, "no chips on screen"
    starts = [
        k for k in range(len(wanted) - len(shown) + 1)
        if [w[0] for w in wanted[k : k + len(shown)]] == [c[0] for c in shown]
    ]  # fmt: skip
    assert starts, f"the ids shown {[c[0] for c in shown]} are not a run of the row's"
    positions = []
    for (token_id, cells, mark, dim), (_, text, q) in zip(shown, wanted[starts[0] :], strict=False):
        assert cells == fit(token_display(text), len(cells)), (token_id, cells, text)
        counted = q is not None and q.counts_in_loss
        assert (mark in BARS, dim) == (counted, not counted), (text, mark, dim, q)
        positions.append(q)
    return positions


async def test_a_run_trained_now_shows_its_last_report(fake_engine, tmp_path):
    """Five steps trained here, with whatever numbers this torch computes: the screen says
    what the last report says. Invariants, not pixels: a new kernel cannot break this."""
    live = record.pretrain(tmp_path, steps=5)
    reports = live["reports"]
    last = reports[-1]
    fake_engine.feed(live["ready"], *reports)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, last.step)
        status = app.query_one(StatusBar).render().plain
        assert f"step {last.step}/{last.total_steps}" in status
        assert f"loss {last.loss:.3f}" in status
        assert f"step {last.step}/{last.total_steps}" in "\n".join(app.query_one("#model").lines())
        assert app.first.series.train == [(r.step, r.loss) for r in reports], "a loss point lost"
        positions = assert_chips_show(app.query_one("#stream", TokenStream), last.row)
        assert len(positions) > 10, "most of the batch fits at 120×40"
        cursor = app.query_one("#stream", TokenStream).cursor
        prediction = "\n".join(app.query_one("#prediction").lines())
        q = last.row[cursor]
        prob = f"{q.target_prob:.3f}" if q.target_prob >= 0.001 else f"{q.target_prob:.0e}"
        assert f"p(actual) {prob}" in prediction
        assert f"loss  {q.loss:.2f}" in prediction


def test_paused_80x24(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording)

    async def run_before(pilot):
        await settle(pilot, app, 40)
        stream, prediction = app.query_one("#stream"), app.query_one("#prediction")
        wanted = stream.cursor - 2
        await pilot.press("left", "left")

        # The move reaches the prediction pane as a message, and the panes redraw throttled:
        # on a loaded machine the screenshot could beat both.
        def moved() -> bool:
            idle = app._draw_throttle._timer is None
            return stream.cursor == prediction.cursor == wanted and idle

        await until(pilot, moved, "the cursor two tokens left")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_paused_120x40_with_a_sample(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording, sample=True)

    async def run_before(pilot):
        await settle(pilot, app, 40)
        await until(pilot, lambda: app.first.samples, "the sample")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_stage_2_card_80x24(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=5)

    async def run_before(pilot):
        await settle(pilot, app, 5)
        await pilot.press("2")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=5)

    async def run_before(pilot):
        await settle(pilot, app, 5)
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_loop_explanation_80x24(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording)

    async def run_before(pilot):
        await settle(pilot, app, 40)
        await pilot.press("tab", *["right"] * 9, "enter")  # corpus → … (3 blocks) → loss

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_loop_and_weights_120x40(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording)

    async def run_before(pilot):
        await settle(pilot, app, 40)
        await pilot.press("tab", *["right"] * 4)  # Block 1: its weights beside the samples

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_too_small_notice(snap_compare, fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=5)
    assert snap_compare(app, terminal_size=(60, 20))


async def test_divergence_stops_play_and_turns_the_status_red(fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=3)
    notes = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notes.append((kw.get("severity"), message))
        await settle(pilot, app, 3)
        await pilot.press("space")
        assert fake_engine.sent == [p.Play()] and app.first.state == "playing"
        message = "training diverged at step 4: the loss became nan"
        fake_engine.feed(p.Divergence("pretrain", 4, float("nan"), message))
        await until(pilot, lambda: app.first.state == "diverged", "the divergence to land")
        bar = app.query_one(StatusBar)
        assert bar.has_class("-diverged") and "diverged" in bar.render().plain
        assert ("error", message) in notes
        await pilot.press("space", "n")
        assert fake_engine.sent == [p.Play()], "a diverged run does not play on"
        assert any("r resets" in m for _, m in notes)


async def test_keys_send_commands(fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, 3)
        await pilot.press("space", "space", "n", "minus", "plus", "plus", "g", "s")
        assert fake_engine.sent == [
            p.Play(),
            p.Pause(),
            p.Step(1),
            p.SetSpeed(20),
            p.SetSpeed(None),
            p.SetSpeed(None),
            p.Sample(sampler=p.APP_SAMPLER),
            p.Save(),
        ]
        await pilot.press("p")
        assert fake_engine.sent[-1] == p.StepPhase()
        await pilot.press("r", "y")
        assert fake_engine.sent[-1] == p.Reset() and app.first.series.train == []


async def test_non_fatal_engine_error_is_a_notification(fake_engine, recording):
    app = fed_app(fake_engine, recording, steps=3)
    notes = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notes.append(message)
        fake_engine.feed(p.EngineError("cannot write runs/app: disk full"))
        await until(pilot, lambda: notes, "the error's notification")
        assert notes == ["cannot write runs/app: disk full"] and app.first.state == "paused"


@pytest.mark.parametrize("resumed_at", [0, 120])
async def test_loss_history_from_a_resumed_run(fake_engine, recording, resumed_at):
    ready = p.EngineReady(**{**recording.ready.__dict__, "step": resumed_at})
    points = tuple((s, 5.0 - s / 100) for s in range(1, resumed_at + 1))
    fake_engine.feed(ready, p.LossHistory(points))
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.first.ready is not None, "the engine's ready message")
        await until(pilot, lambda: app.first.series.train == list(points), "the resumed history")
        assert f"step {resumed_at}/400" in app.query_one(StatusBar).render().plain


async def test_later_stages_say_what_the_scenario_holds_or_lacks(fake_engine, recording):
    from dataclasses import replace

    lacks = "Fine-tuning needs prompt → answer pairs: add sft.jsonl to the scenario folder."
    ready = replace(
        recording.ready,
        stage_data=(("sft", lacks), ("preference", "750 pairs are ready for it.")),
    )
    fake_engine.feed(ready)
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(80, 30)) as pilot:
        await until(pilot, lambda: app.first.ready is not None, "the engine's ready message")
        await pilot.press("2")
        from tui.widgets.later.handoff import HandoffBody

        shown = rendered(app.query_one("#sft-handoff").query_one(HandoffBody).render())
        assert "This scenario" in shown and "add sft.jsonl" in shown
        await pilot.press("3")
        # Preference data is there: the tab shows its card, not what it lacks.
        shown = rendered(app.query_one("#dpo-handoff").query_one(HandoffBody).render())
        assert "DPO" in shown and "This scenario" not in shown


def rendered(renderable) -> str:
    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return " ".join(console.export_text().split())
