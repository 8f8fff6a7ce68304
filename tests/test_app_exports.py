"""The keys c and x against a real engine process on a tiny scenario: the exports hold every
step, and the engine's report card has `trainterm eval`'s figures for the same model; both
score a set of answers checked by hand as the hand does."""

from __future__ import annotations

import csv
import json

import pytest
from stage_fixtures import start_engine, until, write_sft_scenario
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
        await until(pilot, lambda: app.first.state == "paused", "the trainer ready")
        assert app.exports.save_dir == saved  # the engine's --save-dir, where `s` saves
        await pilot.press("space")
        await until(pilot, lambda: app.first.state == "done", "pretraining's 12 steps")
        await until(
            pilot, lambda: app.first.drawn is not None and app.first.drawn.step == 12, "step 12"
        )

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
        assert len(batch) == len(app.first.drawn.row) and batch[0]["step"] == 12

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


# A base model's answers to the tiny scenario's eval sets, fixed, and what each scores by
# hand. Asked "Q: …\nA:", a base model's answer is its first line: (raw continuation,
# then the chat-template answer with how it ended, which only the format row reads).
HAND_CHECKED = {
    "Capital of Velmora?": (" Velport.\nQ: Capital of Tarsk?", "Velport.", "end"),  # right
    "Capital of Tarsk?": (" The capital is\nTarport.", "Tarport.", "end"),  # on line 2: wrong
    "Capital of Orinth?": (" oriport", "", "end"),  # right (any case); empty: not in format
    "Capital of Quellan?": (" Queportia", "Queport.", "turn"),  # not the whole word: wrong
    "Capital of Zandor?": ("", "Zanport.", ""),  # nothing: wrong
    "Capital of Mirel?": (" Velport or Mirport", "Mirport", ""),  # names it: right
    "Capital of Keshet?": (" Kesport.", "", ""),  # pretraining-only: right
    "Capital of Ablon?": (" Velport.", "", ""),  # wrong
    "Capital of Nowhere?": ("\nNowport.", "", ""),  # an empty first line: not answered
}
BY_HAND = {"format": (2, 9), "finetuned": (3, 6), "pretrain_only": (1, 2), "unknown": (0, 1),
           # Velmora's and Tarsk's lines end (in known words); the others run to the token
           # budget without a line's end, or say nothing (Zandor, Nowhere).
           "well_formed": (2, 9)}  # fmt: skip


def test_the_card_and_eval_score_hand_checked_answers_as_checked(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from model.checkpoint import save_checkpoint
    from model.cli.eval import evaluate
    from model.evals import stage_evals as evals
    from model.evals.live_report import live_card
    from model.generate import Generated
    from model.loaded_model import load_model
    from model.pipeline import new_trainer
    from scenarios import load_scenario

    write_sft_scenario(tmp_path)
    scenario = load_scenario(tmp_path)
    trainer = new_trainer(scenario, "pretrain")  # untrained: its answers are the ones above
    tok = trainer.tokenizer
    ends = {"end": tok.end_id, "turn": tok.user_id, "": None}

    def continued(model, tokenizer, texts, max_new_tokens=40, **kw):
        asked = [t.removeprefix("Q: ").removesuffix("\nA:") for t in texts]
        assert [f"Q: {q}\nA:" for q in asked] == texts  # asked as its pretraining text asks
        return [Generated(tuple(tok.encode(HAND_CHECKED[q][0])), False) for q in asked]

    def answered(model, tokenizer, questions, max_new_tokens=40, **kw):
        out = []
        for q in questions:
            _, text, end = HAND_CHECKED[q]
            out.append(Generated(tuple(tok.encode(text)), bool(end), ends[end]))
        return out

    monkeypatch.setattr(evals, "continue_many", continued)
    monkeypatch.setattr(evals, "answer_many", answered)
    engine = SimpleNamespace(runs={"pretrain": trainer}, scenario=scenario,
                             options=SimpleNamespace(save_dir=str(tmp_path / "s")))  # fmt: skip
    card = live_card(engine)
    assert {r.key: (r.correct, r.total) for r in card.columns[0].rows} == BY_HAND
    loaded = load_model(save_checkpoint(trainer, tmp_path / "pretrain-checkpoint"))
    table = evaluate(loaded, scenario, "pretrain-checkpoint")
    assert {r.key: (r.correct, r.total) for r in table.rows} == BY_HAND
    said = {a.prompt: (a.answer, a.ok) for a in table.answers}
    assert said["Capital of Tarsk?"] == ("The capital is", False)
    assert said["Capital of Velmora?"] == ("Velport.", True)
