"""What `trainterm scaling` prints and writes: the table, the fit, two log–log charts
(plotext), the answer at equal compute with its caveats, and scaling.csv / scaling.json.
Plain numbers in, text out: no torch."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.scaling.law import (
    CHINCHILLA_TOKENS_PER_PARAM,
    AlphaRange,
    Curve,
    Optimum,
    PowerLaw,
    flops,
)
from model.scaling.runs import SizeRun

# scaling.txt's width: the app's scaling screen shows it inside an 80-column terminal.
SCREEN_WIDTH = 74
INDENT = " " * 9  # under the text of "winner   …", "caveats  …"
# One character per size: the charts must read without colour (NO_COLOR, a projector).
MARKERS = ("o", "x", "+", "*", "#", "@", "%", "&")
# Published exponents for scale, not for comparison: Kaplan et al. 2020 (eq. 1.1, N without
# embeddings, models trained to convergence) and Hoffmann et al. 2022 (approach 3, all
# parameters, L = E + A/N^0.34 + B/D^0.28).
KAPLAN_ALPHA = 0.076
CHINCHILLA_ALPHA = 0.34


def human(n: float) -> str:
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{n:.3g}"


def table(runs: Sequence[SizeRun], law: PowerLaw | None) -> str:
    head = ("size", "params", "non-emb", "tokens", "tok/param", "steps", "seconds", "val loss")
    head += ("fit",) if law else ()
    rows = []
    for r in runs:
        row = (
            r.size.label, f"{r.params:,}", f"{r.non_embedding:,}", f"{r.tokens:,}",
            f"{r.tokens / r.params:.1f}", f"{r.steps:,}", f"{r.seconds:.1f}", f"{r.val_loss:.4f}",
        )  # fmt: skip
        rows.append(row + ((f"{float(law(r.params)):.4f}",) if law else ()))
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    lines = []
    for row in (head, *rows):
        cells = [x.rjust(w) for x, w in zip(row, widths, strict=True)]
        cells[0] = row[0].ljust(widths[0])
        lines.append("  ".join(cells))
    return "\n".join(lines)


def fit_lines(
    law: PowerLaw | None, spread: AlphaRange | None, law_ne: PowerLaw | None, sizes: int,
    reason: str = "",
) -> list[str]:  # fmt: skip
    if law is None:
        return [f"no power law fits: {reason}"]
    lines = [
        f"fit      L(N) = {law.a:.4g} · N^−{law.alpha:.3f} + {law.c:.3f}   "
        f"(N: all parameters; rms residual {law.rmse:.4f})"
    ]
    if spread is None:
        why = "3 sizes: a bootstrap can only redraw them" if sizes <= 3 else "no resample fitted"
        lines.append(f"α        {law.alpha:.3f}   (no range: {why})")
    else:
        lines.append(
            f"α        {law.alpha:.3f}   ({100 * spread.level:.0f} % range {spread.low:.3f}–"
            f"{spread.high:.3f}: bootstrap over the {sizes} sizes, {spread.fits:,} of "
            f"{spread.resamples:,} resamples fitted)"
        )
    if law_ne is not None:
        lines.append(
            f"         α = {law_ne.alpha:.3f} with N counted without embeddings, as Kaplan "
            "et al. count it"
        )
    lines.append(
        f"         for scale: α ≈ {KAPLAN_ALPHA} (Kaplan et al. 2020, N without embeddings) and "
        f"{CHINCHILLA_ALPHA} (Hoffmann et al. 2022, all parameters), at 10^7–10^11 parameters"
    )
    if law.c > 0:
        lines.append(
            f"         c = {law.c:.3f}: the floor no size would pass at this token budget, the "
            "corpus's own entropy plus what this many tokens cannot teach"
        )
    else:
        lines.append("         c = 0: these points show no floor yet")
    return lines


def _plot_setup(width: int, height: int, colour: bool):
    import plotext as plt

    plt.clf()
    plt.plotsize(width, height)
    plt.theme("pro" if colour else "clear")
    plt.xscale("log")
    plt.yscale("log")
    return plt


def _log_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    return list(np.geomspace(lo, hi, count))


def _finish_plot(plt, colour: bool) -> str:
    text = plt.build()
    return text if colour else plt.uncolorize(text)


def law_chart(runs: Sequence[SizeRun], law: PowerLaw | None, width: int, colour: bool) -> str:
    plt = _plot_setup(width, 16, colour)
    n = [r.params for r in runs]
    loss = [r.val_loss for r in runs]
    if law is not None:
        grid = np.geomspace(min(n), max(n), 60)
        plt.plot(list(grid), list(law(grid)), marker=".", label=f"fit, α = {law.alpha:.2f}")
    plt.scatter(n, loss, marker="o", label="measured")
    plt.xticks(n, [human(x) for x in n])
    ys = _log_ticks(min(loss), max(loss), 4)
    plt.yticks(ys, [f"{y:.2f}" for y in ys])
    plt.title("final validation loss against parameters N (log–log)")
    plt.xlabel("parameters")
    return _finish_plot(plt, colour)


def compute_chart(curves: Sequence[Curve], compute: float, width: int, colour: bool) -> str:
    plt = _plot_setup(width, 18, colour)
    xs_all, ys_all = [], []
    for i, curve in enumerate(curves):
        xs = [flops(curve.params, t) for t, _ in curve.points]
        ys = [loss for _, loss in curve.points]
        xs_all += xs
        ys_all += ys
        label = f"{curve.label} {human(curve.params)}"
        plt.plot(xs, ys, marker=MARKERS[i % len(MARKERS)], label=label)
    plt.vline(compute)
    low, high = math.log10(min(xs_all)), math.log10(max(xs_all))
    xt = [10.0**k for k in range(math.ceil(low), math.floor(high) + 1)]
    plt.xticks(xt, [f"1e{round(math.log10(x))}" for x in xt])
    ys = _log_ticks(min(ys_all), max(ys_all), 5)
    plt.yticks(ys, [f"{y:.2f}" for y in ys])
    plt.title(f"validation loss against compute 6·N·D (FLOPs); the line: C = {compute:.2g}")
    return _finish_plot(plt, colour)


def optimum_lines(
    trained: Optimum, read: Optimum | None, chosen: str, batch_tokens: int
) -> list[str]:
    lines = [
        f"at equal compute: C = {trained.compute:.3g} FLOPs (6·N·D; {chosen}): each size "
        "trained for C/6N tokens on a schedule of its own, and its loss read at C from its "
        "run above"
    ]
    head = ("size", "params", "tokens", "per param", "steps", "trained to C", "read mid-run")
    rows = [head]
    for i, e in enumerate(trained.entries):
        r = read.entries[i] if read else None
        rows.append((
            e.label, human(e.params), human(e.tokens), f"{e.tokens / e.params:.3g}",
            f"{e.tokens / batch_tokens:.0f}" if e.loss is not None else "<1",
            _marked(e.loss, i == trained.winner),
            _marked(r.loss if r else None, read is not None and i == read.winner),
        ))  # fmt: skip
    widths = [max(len(row[k]) for row in rows) for k in range(len(head))]
    for row in rows:
        cells = [x.rjust(w) for x, w in zip(row, widths, strict=True)]
        cells[0] = row[0].ljust(widths[0])
        lines.append("  " + "  ".join(cells))
    w = trained.best
    ratio = trained.tokens_per_param / CHINCHILLA_TOKENS_PER_PARAM
    lines.append(
        f"winner   {w.label} ({w.params:,} params) trained on {w.tokens:,.0f} tokens: "
        f"{trained.tokens_per_param:.1f} tokens per parameter"
    )
    lines.append(
        INDENT + f"Chinchilla's rule is ~{CHINCHILLA_TOKENS_PER_PARAM} tokens per parameter "
        f"(Hoffmann et al. 2022); this winner saw {ratio:.2g}× that"
    )
    measured = [e for e in trained.entries if e.loss is not None]
    if trained.n_opt is not None:
        d_opt = trained.compute / (6 * trained.n_opt)
        lines.append(
            INDENT + "a parabola in log N through the winner and its neighbours puts the optimum "
            f"at N ≈ {human(trained.n_opt)}, {d_opt / trained.n_opt:.1f} tokens per parameter"
        )
    elif w is measured[0]:
        lines.append(
            INDENT + "the smallest size won: the optimum may lie below the sizes tried (add a "
            "smaller one to see)"
        )
    elif w is measured[-1]:
        lines.append(INDENT + "the largest size won: the optimum may lie above the sizes tried")
    if read is not None and read.best.label != w.label:
        lines.append(
            INDENT + f"read mid-run, the curves would pick {read.best.label}: part-way through a "
            "longer run is not a run that ends there (its learning rate has not decayed), the "
            "reason Hoffmann et al. trained each size to its own budget"
        )
    elif read is not None:
        lines.append(INDENT + "read mid-run from the curves, the same size wins")
    return lines


def _marked(loss: float | None, best: bool) -> str:
    return "—" if loss is None else f"{loss:.4f}" + (" ◀" if best else "  ")


def caveats(
    runs: Sequence[SizeRun], corpus_tokens: int, epochs: float, steps_at: Sequence[int]
) -> list[str]:
    lo, hi = min(r.params for r in runs), max(r.params for r in runs)
    share = max((r.params - r.non_embedding) / r.params for r in runs)
    return [
        f"tiny models: {human(lo)}–{human(hi)} parameters; the published laws were measured "
        "from about 10^7 up, and may bend below that",
        f"one corpus ({corpus_tokens:,} training tokens, read {epochs:.2g} times by each "
        "size), one seed, one learning rate for every size (small models like a higher one)",
        f"short schedules: {runs[0].steps:,} steps each, warm-up then cosine decay to the end",
        f"the runs to C are short for the larger sizes ({steps_at[-1]} step(s) for the "
        "largest): at a small C a large model has no time to learn, as with real ones",
        f"embeddings are up to {100 * share:.0f} % of a size's parameters here; Kaplan et al. "
        "leave them out of N, Chinchilla counts them (Pearce & Song 2024 trace much of the "
        "two papers' disagreement to that)",
    ]


def wrap(lines: Sequence[str], width: int, first: str = "", indent: int = 9) -> str:
    """Each line filled to ``width``, continuation lines indented under the text."""
    import textwrap

    out = []
    for i, line in enumerate(lines):
        if first:  # a heading in the margin, the lines beside it
            line = (first if i == 0 else "").ljust(indent) + line
        out.append(textwrap.fill(line, width, subsequent_indent=" " * indent))
    return "\n".join(out)


def colour_wanted(stream) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


CSV_FIELDS = (
    "size", "d_model", "n_layer", "n_head", "params", "non_embedding_params", "tokens",
    "steps", "seconds", "val_loss", "fit_loss", "flops",
)  # fmt: skip


def write_csv(path: Path, runs: Sequence[SizeRun], law: PowerLaw | None) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(CSV_FIELDS)
        for r in runs:
            fit = f"{float(law(r.params)):.6f}" if law else ""
            out.writerow([
                r.size.label, r.size.d_model, r.size.n_layer, r.size.n_head, r.params,
                r.non_embedding, r.tokens, r.steps, f"{r.seconds:.3f}", f"{r.val_loss:.6f}",
                fit, f"{r.flops:.6g}",
            ])  # fmt: skip


def run_record(r: SizeRun) -> dict:
    return {
        "size": r.size.label,
        "d_model": r.size.d_model,
        "n_layer": r.size.n_layer,
        "n_head": r.size.n_head,
        "params": r.params,
        "non_embedding_params": r.non_embedding,
        "tokens": r.tokens,
        "steps": r.steps,
        "seconds": round(r.seconds, 3),
        "val_loss": r.val_loss,
        "train_loss": r.train_loss,
        "flops": r.flops,
        "curve": [
            {"step": s, "tokens": t, "flops": flops(r.params, t), "val_loss": v}
            for s, t, v in r.curve
        ],
    }


def law_record(law: PowerLaw | None) -> dict | None:
    return None if law is None else {"a": law.a, "alpha": law.alpha, "c": law.c, "rmse": law.rmse}


def optimum_record(best: Optimum | None) -> dict | None:
    if best is None:
        return None
    return {
        "compute_flops": best.compute,
        "winner": best.best.label,
        "winner_params": best.best.params,
        "winner_tokens": best.best.tokens,
        "tokens_per_param": best.tokens_per_param,
        "chinchilla_tokens_per_param": CHINCHILLA_TOKENS_PER_PARAM,
        "parabola_n_opt": best.n_opt,
        "at_compute": [
            {"size": e.label, "params": e.params, "tokens": e.tokens, "val_loss": e.loss}
            for e in best.entries
        ],
    }


def write_json(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
