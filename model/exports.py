"""Files a run can be taken away as: per-step metrics (CSV and JSONL), one batch's per-token
predictions (JSONL), the Compare tab's answers (JSONL). Light (no torch): the engine writes
the metrics, the screen the batch and the answers it shows."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path

from model import protocol as p


class ExportError(Exception):
    """A file that could not be written; the message is one line."""


def step_record(report: p.StepReport, seconds: float | None = None) -> dict:
    """One step as `train` writes it to metrics.jsonl (and the app exports it)."""
    record = {
        "step": report.step,
        "loss": report.loss,
        "lr": report.lr,
        "grad_norm": report.grad_norm,
        "tokens_per_s": report.tokens_per_s,
        "tokens_seen": report.tokens_seen,
    }
    if seconds is not None:
        record["seconds"] = seconds
    if report.val_loss is not None:
        record["val_loss"] = report.val_loss
    for name, _, value in report.series:
        record[_series_key(name)] = value
    for name, value in report.metrics:
        record.setdefault(name, value)  # a stage's own "loss" is the step's loss above
    return record


def _series_key(name: str) -> str:
    """ "pretrain val" → pretrain_val_loss; a series that is not a loss keeps its name
    ("val accuracy" → val_accuracy)."""
    key = name.replace(" ", "_")
    return key + "_loss" if key.endswith("val") else key


def _columns(records: list[dict]) -> list[str]:
    """Every key any record has, in first-seen order: validation losses appear only on the
    steps that measured them, and a CSV needs them all in its header."""
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    return list(seen)


def write_metrics(records: Iterable[dict], folder: str | Path, stem: str) -> tuple[Path, Path]:
    """``stem``.csv and ``stem``.jsonl in ``folder``, one row per step."""
    records = list(records)
    folder = Path(folder)
    csv_path, jsonl_path = folder / f"{stem}.csv", folder / f"{stem}.jsonl"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _replacing(jsonl_path) as f:
            for record in records:
                f.write(json.dumps(record) + "\n")
        with _replacing(csv_path) as f:
            writer = csv.DictWriter(f, fieldnames=_columns(records), restval="")
            writer.writeheader()
            writer.writerows(records)
    except OSError as e:
        raise ExportError(f"cannot write to {folder}: {e.strerror or e}") from None
    return csv_path, jsonl_path


def prediction_records(report: p.StepReport) -> list[dict]:
    """The shown batch, one record per token: what the model saw, what came next, what it
    guessed. A preference step shows pairs instead: each answer token with log π/π_ref."""
    out = []
    for i, pos in enumerate(report.row):
        out.append(
            {
                "step": report.step,
                "position": i,
                "token_id": pos.token_id,
                "token": pos.text,
                "target_id": pos.target_id,
                "target": pos.target_text,
                "target_prob": pos.target_prob,
                "loss": pos.loss,
                "counts_in_loss": pos.counts_in_loss,
                "top": [{"id": a.token_id, "token": a.text, "prob": a.prob} for a in pos.top],
            }
        )
    for n, pair in enumerate(report.pairs):
        for answer, tokens in (("chosen", pair.chosen), ("rejected", pair.rejected)):
            for i, (text, ratio) in enumerate(tokens):
                out.append(
                    {
                        "step": report.step,
                        "pair": n,
                        "prompt": pair.prompt,
                        "answer": answer,
                        "position": i,
                        "token": text,
                        "log_ratio": ratio,
                    }
                )
    return out


def write_predictions(report: p.StepReport, path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _replacing(path) as f:
            for record in prediction_records(report):
                f.write(json.dumps(record) + "\n")
    except OSError as e:
        raise ExportError(f"cannot write to {path.parent}: {e.strerror or e}") from None
    return path


def compare_records(prompts, columns, sampler: p.Sampler) -> list[dict]:
    """The Compare tab's answers, one record per prompt and model: the answer, and token by
    token the probability its model gave it and the model's favourites there."""
    out = []
    for column in columns:
        for (name, prompt), answer in zip(prompts, column.answers, strict=False):
            out.append(
                {
                    "prompt_name": name,
                    "prompt": prompt,
                    "stage": column.stage,
                    "source": column.source,
                    "step": column.step,
                    "total_steps": column.total_steps,
                    "asked": answer.asked,
                    "answer": answer.text,
                    "stop": answer.stop,
                    "sampler": dataclasses.asdict(sampler),
                    "tokens": [_choice(c) for c in answer.choices],
                }
            )
    return out


def _choice(c: p.TokenChoice) -> dict:
    prob = next((k.prob for k in c.candidates if k.token_id == c.drawn_id), None)
    top = [{"id": k.token_id, "token": k.text, "prob": k.prob} for k in c.candidates]
    return {"id": c.drawn_id, "token": c.drawn_text, "prob": prob, "rank": c.drawn_rank,
            "top": top}  # fmt: skip


def write_records(records: Iterable[dict], path: str | Path) -> Path:
    """One JSON object a line, written whole or not at all."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _replacing(path) as f:
            for record in records:
                f.write(json.dumps(record) + "\n")
    except OSError as e:
        raise ExportError(f"cannot write to {path.parent}: {e.strerror or e}") from None
    return path


class _replacing:
    """Write beside ``path`` and rename into place: a reader never sees half a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")

    def __enter__(self):
        self.file = self.tmp.open("w", encoding="utf-8", newline="")
        return self.file

    def __exit__(self, kind, value, tb) -> None:
        self.file.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
