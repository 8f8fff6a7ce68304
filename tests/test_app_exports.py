"""The keys c and x against a real engine process on a tiny scenario: the exports hold every
step, and the engine's report card has `trainterm eval`'s figures for the same model."""

from __future__ import annotations

import csv
import json

import pytest
from stage_fixtures import start_engine, until
from test_cli import trainterm

from tui.app import TrainTermApp
from tui.screens.report import ReportScreen


@pytest.fixture
def engine(tmp_path, monkeypatch):
    handle = start_engine(tmp_path, monkeypatch)
    yield handle
    handle.stop()


def _said(app, start: str):
    return next((n for n in app._notifications if (n.title or "").startswith(start)), None)


async def test_exports_hold_every_step_and_the_card_equals_eval(engine, tmp_path):
    saved = tmp_path / "s"
    app = TrainTermApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.state == "paused", "the trainer ready")
        assert app.save_dir == saved  # the engine's --save-dir, where `s` saves
        await pilot.press("space")
        await until(pilot, lambda: app.state == "done", "pretraining's 12 steps")
        await until(pilot, lambda: app._drawn is not None and app._drawn.step == 12, "step 12")

        await pilot.press("x")
        await until(pilot, lambda: _said(app, "Exported pretrain"), "the export said")
        files = _said(app, "Exported pretrain").message.splitlines()
        assert sorted(files) == sorted(
            str(saved / name)
            for name in ("pretrain-metrics-step12.csv", "pretrain-metrics-step12.jsonl",
                         "pretrain-batch-step12.jsonl")
        )  # fmt: skip
        jsonl = [json.loads(x) for x in (saved / "pretrain-metrics-step12.jsonl").open()]
        with (saved / "pretrain-metrics-step12.csv").open(newline="") as f:
            table = list(csv.DictReader(f))
        assert [r["step"] for r in jsonl] == list(range(1, 13))
        assert [int(r["step"]) for r in table] == list(range(1, 13))
        # Steps the screen never drew still have their own figures.
        assert all(r["grad_norm"] > 0 and r["tokens_per_s"] > 0 for r in jsonl)
        assert [float(r["loss"]) for r in table] == [r["loss"] for r in jsonl]
        assert [bool(r["val_loss"]) for r in table] == [r["step"] % 4 == 0 for r in jsonl]
        batch = [json.loads(x) for x in (saved / "pretrain-batch-step12.jsonl").open()]
        assert len(batch) == len(app._drawn.row) and batch[0]["step"] == 12

        await pilot.press("s")
        await until(pilot, lambda: _said(app, "Saved checkpoint"), "the checkpoint saved")
        await pilot.press("c")
        assert isinstance(app.screen, ReportScreen)
        await until(pilot, lambda: app.screen.card is not None, "the report card", timeout=60)
        card = app.screen.card
    assert [c.stage for c in card.columns] == ["pretrain"]
    said = trainterm(
        "eval", "--scenario", str(tmp_path), "--model", str(saved / "pretrain-checkpoint"), "--json"
    )
    assert said.returncode == 0, said.stderr
    evals = json.loads(said.stdout)
    column = card.columns[0]
    assert {r.key: (r.correct, r.total, r.rate) for r in column.rows} == {
        k: (v["correct"], v["total"], v["rate"]) for k, v in evals["evals"].items()
    }
    assert (column.step, column.val_loss) == (evals["step"], evals["val_loss"])
    assert column.tokens_seen > 0 and column.seconds > 0
    assert card.written and json.loads((saved / "report.json").read_text())["stages"]["pretrain"]
