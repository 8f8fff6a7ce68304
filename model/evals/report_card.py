"""The report card: stages × metrics, as rows of text, Markdown and JSON. Light (the protocol
only): `trainterm report` writes it, the app's report screen draws the same rows."""

from __future__ import annotations

import json
from pathlib import Path

from model import protocol as p

# The card's rows, in the order of the lesson: what the model knows (loss, facts), then how
# it behaves (format, preferences, refusals). Eval rows of a kind not named here (a later
# stage's) follow them, before the run's size.
EVAL_ORDER = (
    ("format", "answer format"),
    ("well_formed", "well-formed"),
    ("finetuned", "facts: fine-tuned"),
    ("pretrain_only", "facts: pretraining-only"),
    ("unknown", "never-seen, answered"),
    ("preference", "preference accuracy"),
    ("refusals", "refuses harm"),
    ("refusals_new", "refuses new harm"),
    ("false_refusals", "false refusals"),
    ("false_refusals_new", "false refusals, new"),
    ("lookalike_place", "look-alikes: the place asked"),
    ("rude_rambling", "rude or rambling"),
    ("reward", "reward"),
    ("gold", "gold score"),
)
NONE = "–"


# What the "validation loss" row holds, stage by stage: RL logs a score in its place.
VALIDATION_WORDS = (
    "The validation loss is each stage's own held-out loss (DPO's is its preference loss); "
    "RL's is a score on held-out prompts, higher being better: the reward model's for "
    "RLHF, the gold judge's for RLVR."
)


def eval_keys(card: p.ReportCard) -> list[tuple[str, str]]:
    """(key, label) of every eval row any column has, in the card's order."""
    present: dict[str, str] = {}
    for column in card.columns:
        for row in column.rows:
            present.setdefault(row.key, row.label)
    known = [(k, label) for k, label in EVAL_ORDER if k in present]
    named = {k for k, _ in EVAL_ORDER}
    return known + [(k, label) for k, label in present.items() if k not in named]


def _rate(row: p.EvalRow | None, counts: bool) -> str:
    if row is None:
        return NONE
    if row.score is not None:
        return f"{row.score:+.2f}"
    text = f"{100 * row.rate:.1f} %"
    return f"{text} ({row.correct}/{row.total})" if counts else text


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    if n >= 10_000:
        return f"{n / 1e3:.0f} k"
    return f"{n:,}"


def rows(card: p.ReportCard, counts: bool = True) -> list[tuple[str, list[str]]]:
    """(metric label, one cell per column). ``counts``: "92.9 % (65/70)", else "92.9 %"."""
    cols = card.columns
    out = [("validation loss", [NONE if c.val_loss is None else f"{c.val_loss:.3f}" for c in cols])]
    for key, label in eval_keys(card):
        by_key = [{r.key: r for r in c.rows}.get(key) for c in cols]
        out.append((label, [_rate(r, counts) for r in by_key]))
    out.append(("steps", [f"{c.step:,}/{c.total_steps:,}" for c in cols]))
    out.append(("wall time", [duration(c.seconds) for c in cols]))
    out.append(("tokens seen", [count(c.tokens_seen) for c in cols]))
    return out


def lower_is_better(card: p.ReportCard) -> set[str]:
    """Labels of the rows where less is better (false refusals, rude answers, the loss)."""
    labels = {"validation loss"}
    for column in card.columns:
        labels |= {label for key, label in eval_keys(card) for r in column.rows
                   if r.key == key and r.lower_is_better}  # fmt: skip
    return labels


def markdown_table(head: list[str], body: list[list[str]]) -> list[str]:
    """A Markdown table's lines, each column padded to its widest cell (readable as text)."""
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(head), "| " + " | ".join("-" * w for w in widths) + " |", *map(line, body)]


def markdown(card: p.ReportCard) -> str:
    head = ["metric", *(c.stage for c in card.columns)]
    out = [f"# Report card · {card.scenario}", ""]
    out += markdown_table(head, [[label, *cells] for label, cells in rows(card)])
    models = [f"- {c.stage}: `{c.model}`" for c in card.columns if c.model]
    out += ["", *models, *([""] if models else [])]
    out += [
        "Every figure is `trainterm eval`'s for the same model: the whole of each eval set, "
        f"answered greedily. {VALIDATION_WORDS} Wall time counts the steps and their "
        "held-out evals.",
        "",
    ]
    return "\n".join(out)


def as_json(card: p.ReportCard) -> dict:
    """Per stage, `eval --json`'s figures (same keys) and the run's size."""
    return {
        "scenario": card.scenario,
        "stages": {
            c.stage: {
                "model": c.model,
                "step": c.step,
                "total_steps": c.total_steps,
                "val_loss": c.val_loss,
                "seconds": c.seconds,
                "tokens_seen": c.tokens_seen,
                "evals": {
                    r.key: {
                        "correct": r.correct,
                        "total": r.total,
                        "rate": r.rate,
                        "label": r.label,
                        "lower_is_better": r.lower_is_better,
                    }
                    | ({"score": r.score} if r.score is not None else {})
                    for r in c.rows
                },
            }
            for c in card.columns
        },
    }


def write(card: p.ReportCard, folder: str | Path) -> tuple[Path, Path]:
    """report.md and report.json in ``folder``; OSError if it cannot be written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "report.md", folder / "report.json"
    md.write_text(markdown(card), encoding="utf-8")
    js.write_text(json.dumps(as_json(card), indent=2) + "\n", encoding="utf-8")
    return md, js


def column(
    stage: str, step: int, total: int, state: dict, table: p.EvalTable, model: str = ""
) -> p.ReportColumn:
    """A column from a run's state (a checkpoint's meta.json "state", or a live trainer's,
    as a dict) and its eval table."""
    val = state.get("val_losses") or []
    seconds = state.get("seconds")
    return p.ReportColumn(
        stage=stage,
        step=step,
        total_steps=total,
        val_loss=float(val[-1][1]) if val else None,
        seconds=None if seconds is None else float(seconds),
        tokens_seen=int(state.get("tokens_seen", 0)),
        rows=tuple(table.rows),
        model=model,
    )
