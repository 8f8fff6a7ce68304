"""Report cards of the same pipeline trained with several seeds, as one table: each eval of
each stage as its median and its range (min–max) over the seeds. One run's figure can be
luck; a median with its range says how much of it is. Light (the protocol only)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from model import protocol as p
from model.evals import report_card as card

NONE = card.NONE


@dataclass(frozen=True)
class Spread:
    """One figure over the seeds: its value for each seed that has it, in the seeds' order."""

    seeds: tuple[int, ...]
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


def stages(cards: dict[int, p.ReportCard]) -> list[str]:
    """Every stage a card has a column of, in the order the cards list them."""
    return list(dict.fromkeys(c.stage for rc in cards.values() for c in rc.columns))


def _columns(cards: dict[int, p.ReportCard], stage: str) -> list[tuple[int, p.ReportColumn]]:
    return [(seed, c) for seed, rc in cards.items() for c in rc.columns if c.stage == stage]


def _value(row: p.EvalRow) -> float:
    return row.score if row.score is not None else row.rate


def spreads(cards: dict[int, p.ReportCard], stage: str) -> dict[str, Spread]:
    """Each eval key of ``stage`` (and "val_loss", "seconds") over the seeds that have it."""
    values: dict[str, dict[int, float]] = {}
    for seed, column in _columns(cards, stage):
        if column.val_loss is not None:
            values.setdefault("val_loss", {})[seed] = column.val_loss
        if column.seconds is not None:
            values.setdefault("seconds", {})[seed] = column.seconds
        for row in column.rows:
            if row.total:
                values.setdefault(row.key, {})[seed] = _value(row)
    return {k: Spread(tuple(v), tuple(v.values())) for k, v in values.items()}


def _scored(cards: dict[int, p.ReportCard], key: str) -> bool:
    return any(r.key == key and r.score is not None
               for rc in cards.values() for c in rc.columns for r in c.rows)  # fmt: skip


def cell(spread: Spread | None, kind: str) -> str:
    """ "93 % (90–96)": the median, then the lowest and highest seed's."""
    if spread is None:
        return NONE

    def show(v: float) -> str:
        if kind == "rate":
            return f"{100 * v:.0f}"
        if kind == "score":
            return f"{v:+.2f}"
        if kind == "seconds":
            return f"{v:.0f}" if v >= 10 else f"{v:.1f}"
        return f"{v:.3f}"

    unit = {"rate": " %", "seconds": " s"}.get(kind, "")
    low, high = show(spread.low), show(spread.high)
    if low == high:
        return low + unit
    between = " … " if "-" in low + high else "–"  # "-0.20–-0.15" reads as a subtraction
    return f"{show(spread.median)}{unit} ({low}{between}{high})"


def rows(cards: dict[int, p.ReportCard]) -> list[tuple[str, list[str]]]:
    """(metric label, one cell per stage), in the report card's order."""
    names = stages(cards)
    by_stage = {s: spreads(cards, s) for s in names}
    merged = p.ReportCard("", tuple(c for rc in cards.values() for c in rc.columns))
    out = [("validation loss", [cell(by_stage[s].get("val_loss"), "loss") for s in names])]
    for key, label in card.eval_keys(merged):
        kind = "score" if _scored(cards, key) else "rate"
        out.append((label, [cell(by_stage[s].get(key), kind) for s in names]))
    out.append(("wall time", [cell(by_stage[s].get("seconds"), "seconds") for s in names]))
    return out


def markdown(cards: dict[int, p.ReportCard]) -> str:
    seeds = ", ".join(map(str, cards))
    scenario = next(iter(cards.values())).scenario if cards else ""
    out = [f"# Over seeds {seeds} · {scenario}", ""]
    out += card.markdown_table(
        ["metric", *stages(cards)], [[label, *cells] for label, cells in rows(cards)]
    )
    out += [
        "",
        f"Each cell is the median over the {len(cards)} seeds, then the lowest and the highest "
        "seed's figure; one figure when every seed gave the same. Each seed's figure is "
        "`trainterm eval`'s for that seed's model: the whole of each eval set, answered "
        f"greedily. {card.VALIDATION_WORDS} Wall time is the training's.",
        "",
    ]
    return "\n".join(out)


def as_json(cards: dict[int, p.ReportCard]) -> dict:
    """Per stage, per eval key: median, min, max and each seed's value."""
    seeds = list(cards)
    out: dict = {"scenario": next(iter(cards.values())).scenario if cards else "",
                 "seeds": seeds, "stages": {}}  # fmt: skip
    for stage in stages(cards):
        labels = {r.key: (r.label, r.lower_is_better, r.score is not None)
                  for _, c in _columns(cards, stage) for r in c.rows}  # fmt: skip
        figures = {}
        for key, spread in spreads(cards, stage).items():
            label, lower, scored = labels.get(key, (key, key == "val_loss", False))
            figures[key] = {
                "label": label,
                "median": spread.median,
                "min": spread.low,
                "max": spread.high,
                "values": {str(k): v for k, v in zip(spread.seeds, spread.values, strict=True)},
                "lower_is_better": lower,
                "kind": "score" if scored else "rate" if key in labels else key,
            }
        out["stages"][stage] = figures
    return out
