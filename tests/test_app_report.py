"""The report card screen (c) and the exports (x, i), against a stand-in engine fed with
recorded reports: what is sent, what is written, what is said; screenshots of the card."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from rich.console import Console
from stage_fixtures import until
from test_app_sft_snapshots import sft_recording  # noqa: F401 — a fixture, shared
from test_app_snapshots import settle
from textual.containers import VerticalScroll

from model import protocol as p
from tui.app import TrainTermApp
from tui.screens.report import ReportScreen
from tui.tabs.sft import SFTView


def _rows(stage: str) -> tuple[p.EvalRow, ...]:
    """The eval rows each stage has, with figures like docs/measured.md's (fixed: a screenshot)."""
    rows = [
        p.EvalRow("format", "format", 0 if stage == "pretrain" else 69, 70),
        p.EvalRow("finetuned", "facts: fine-tuned", 58, 70),
        p.EvalRow("pretrain_only", "facts: pretrain-only", 59 if stage == "pretrain" else 44, 70),
        p.EvalRow("unknown", "unknown: answered", 21, 21),
    ]
    if stage != "pretrain":
        rows += [
            p.EvalRow("refusals", "refuses harm", 15 if stage == "dpo" else 0, 20),
            p.EvalRow(
                "false_refusals",
                "refuses harmless",
                20 if stage == "dpo" else 1,
                20,
                lower_is_better=True,
            ),
        ]
    if stage == "dpo":
        rows.insert(0, p.EvalRow("preference", "prefers chosen", 15, 20))
    return tuple(rows)


CARD = p.ReportCard(
    "world",
    (
        p.ReportColumn("pretrain", 1200, 1200, 0.470, 121.4, 2_457_600, _rows("pretrain")),
        p.ReportColumn("sft", 600, 600, 0.61, 164.0, 1_843_200, _rows("sft")),
        p.ReportColumn("dpo", 300, 300, None, 29.2, 153_600, _rows("dpo")),
    ),
    written="runs/app",
)


def fed_app(fake_engine, recording, save_dir, steps: int = 5) -> TrainTermApp:
    fake_engine.feed(recording.ready, *recording.reports[:steps])
    return TrainTermApp(fake_engine, save_dir=str(save_dir))


async def test_c_asks_the_engine_and_shows_its_card(fake_engine, recording, tmp_path):
    app = fed_app(fake_engine, recording, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, 5)
        await pilot.press("c")
        assert isinstance(app.screen, ReportScreen)
        await until(pilot, lambda: any(isinstance(c, p.MakeReport) for c in fake_engine.sent),
                    "the card asked of the engine")  # fmt: skip
        await pilot.press("escape", "c")  # closed and opened again: the same card is awaited
        assert isinstance(app.screen, ReportScreen)
        assert sum(isinstance(c, p.MakeReport) for c in fake_engine.sent) == 1
        fake_engine.feed(CARD)
        await until(pilot, lambda: app.screen.card == CARD, "the card on screen")
        await pilot.pause()
        body = _text(app.screen.query_one("#report-body").content)
        assert "facts: fine-tuned" in body and "82.9 %" in body and "2 min 44 s" in body
        await pilot.press("escape")
        assert not isinstance(app.screen, ReportScreen)


async def test_x_writes_the_shown_batch_and_asks_for_the_metrics(fake_engine, recording, tmp_path):
    app = fed_app(fake_engine, recording, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, 5)
        await pilot.press("x")
        await until(pilot, lambda: any(isinstance(c, p.ExportMetrics) for c in fake_engine.sent),
                    "the metrics asked of the engine")  # fmt: skip
        batch = tmp_path / "pretrain-batch-step5.jsonl"
        lines = [json.loads(line) for line in batch.read_text().splitlines()]
        row = recording.reports[4].row
        assert len(lines) == len(row) and [r["target"] for r in lines] == [
            pos.target_text for pos in row
        ]
        assert {"token", "target_prob", "loss", "top"} <= set(lines[0])
        fake_engine.feed(p.Exported("pretrain", 5, ("m.csv", "m.jsonl")))
        await until(pilot, lambda: _said(app, "Exported pretrain @ step 5"), "the files said")
        said = _said(app, "Exported pretrain @ step 5")
        assert "m.csv" in said.message and str(batch) in said.message


async def test_i_saves_an_svg_of_the_screen_shown(fake_engine, recording, tmp_path):
    app = fed_app(fake_engine, recording, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, 5)
        await pilot.press("i")
        await pilot.press("c")
        fake_engine.feed(CARD)
        await until(pilot, lambda: app.screen.card == CARD, "the card on screen")
        await pilot.press("i")
        await until(pilot, lambda: len(list(tmp_path.glob("*.svg"))) == 2, "two screenshots")
    main, card = tmp_path / "screen-pretrain-step5.svg", tmp_path / "screen-report-step5.svg"
    for svg in (main, card):
        assert ET.parse(svg).getroot().tag.endswith("svg")
    assert "Report" in card.read_text() and "Report" not in main.read_text()


@pytest.mark.parametrize("key", ["x", "i"])
async def test_an_unwritable_save_folder_is_one_line_said(fake_engine, recording, tmp_path, key):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app = fed_app(fake_engine, recording, blocker / "exports")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, 5)
        await pilot.press(key)
        failed = "Export failed" if key == "x" else "Screenshot failed"
        await until(pilot, lambda: _said(app, failed), "the failure said")
        note = _said(app, failed)
        assert "cannot write to" in note.message and "\n" not in note.message
        assert not any(isinstance(c, p.ExportMetrics) for c in fake_engine.sent)
        assert app.is_running


def _text(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _said(app, title: str):
    return next((n for n in app._notifications if n.title == title), None)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_report_card_screen(snap_compare, fake_engine, recording, tmp_path, size):
    app = fed_app(fake_engine, recording, tmp_path)

    async def run_before(pilot):
        await settle(pilot, app, 5)
        await pilot.press("c")
        fake_engine.feed(CARD)
        await until(pilot, lambda: app.screen.card == CARD, "the card on screen")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_a_preference_batch_exports_each_answer_token(tmp_path):
    from model.exports import write_predictions

    pair = p.PairView("Capital of Tarsk?", (("Tar", 0.5), ("port", 0.25)), (("Go", -0.75),))
    report = p.StepReport("dpo", 7, 10, 0.6, 1e-3, 1.0, 100.0, 640, 0.1, (), (), pairs=(pair,))
    path = write_predictions(report, tmp_path / "dpo-batch-step7.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["answer"], r["token"], r["log_ratio"]) for r in lines] == [
        ("chosen", "Tar", 0.5), ("chosen", "port", 0.25), ("rejected", "Go", -0.75),
    ]  # fmt: skip


async def test_x_on_tab_2_exports_the_fine_tuning_batch(fake_engine, sft_recording, tmp_path):  # noqa: F811
    fake_engine.feed(sft_recording.pretrain_ready, sft_recording.base, sft_recording.ready)
    fake_engine.feed(*sft_recording.reports)
    app = TrainTermApp(fake_engine, save_dir=str(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        view = app.query_one(SFTView)
        last = sft_recording.reports[-1]
        await until(pilot, lambda: view.latest is not None and view.latest.step == last.step,
                    "the last fine-tuning step")  # fmt: skip
        await pilot.press("x")
        await until(pilot, lambda: any(isinstance(c, p.ExportMetrics) for c in fake_engine.sent),
                    "the metrics asked of the engine")  # fmt: skip
    batch = tmp_path / f"sft-batch-step{last.step}.jsonl"
    lines = [json.loads(line) for line in batch.read_text().splitlines()]
    # The prompt is read but not trained on: the export says which tokens count.
    assert [r["counts_in_loss"] for r in lines] == [pos.counts_in_loss for pos in last.row]
    assert not lines[0]["counts_in_loss"] and any(r["counts_in_loss"] for r in lines)


@pytest.mark.parametrize("key", ["question_mark", "c"])
async def test_help_and_a_tall_card_scroll_with_the_arrows(fake_engine, recording, tmp_path, key):
    extra = tuple(p.EvalRow(f"extra{i}", f"extra {i}", 1, 2) for i in range(12))
    tall = replace(CARD, columns=tuple(replace(c, rows=c.rows + extra) for c in CARD.columns))
    app = fed_app(fake_engine, recording, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, 5)
        await pilot.press(key)
        fake_engine.feed(tall)
        scroll = app.screen.query_one(VerticalScroll)
        if key == "c":
            await until(pilot, lambda: app.screen.card == tall, "the card on screen")
        await until(pilot, lambda: scroll.max_scroll_y > 0, "more than fits")
        await pilot.press("down", "down")
        await until(pilot, lambda: scroll.scroll_y > 0, "scrolled down")
