"""The model: each group of weights, input to output, with a live bar of how much the last
step changed it; the optimizer, the learning-rate schedule with the current point, progress."""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from model.protocol import EngineReady, StepReport
from tui.widgets.common.formatting import bar, count, sci
from tui.widgets.common.lines import LinesWidget
from tui.widgets.pretrain.cost import cost_line
from tui.widgets.pretrain.lr_schedule import Schedule

DIM = Style(dim=True)
BOLD = Style(bold=True)
# Update sizes (|Δw| / |w| per step) drawn on a log scale: 1e-5 empty … 1e-1 full.
LOG_LO, LOG_HI = -5.0, -1.0


def update_fraction(ratio: float) -> float:
    if not ratio > 0 or not math.isfinite(ratio):
        return 0.0
    return max(0.0, min(1.0, (math.log10(ratio) - LOG_LO) / (LOG_HI - LOG_LO)))


def layer_names(ready: EngineReady | None) -> list[str]:
    if ready is None:
        return []
    return ["Embed", *(f"Block {i + 1}" for i in range(ready.n_layer)), "Logits"]


class ModelPane(LinesWidget):
    ready: reactive[EngineReady | None] = reactive(None, repaint=False)
    report: reactive[StepReport | None] = reactive(None, repaint=False, always_update=True)
    schedule: reactive[Schedule | None] = reactive(None, repaint=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Model"

    def watch_ready(self, ready: EngineReady | None) -> None:
        self.border_title = "Model" if ready is None else f"Model · {count(ready.params)} params"
        # The columns' names, even where the header line has no room (80×24).
        self.border_subtitle = "update (log) · |grad|"
        self.redraw()

    def watch_report(self) -> None:
        self.redraw()

    def watch_schedule(self) -> None:
        self.redraw()

    def build(self) -> list[Text]:
        ready, report = self.ready, self.report
        width, height = self.size
        if ready is None:
            return [Text("starting the trainer…", DIM)]
        name_w = max(len(n) for n in layer_names(ready)) + 1
        bar_w = max(1, width - name_w - 13)
        stats = {s.name: s for s in report.layers} if report else {}
        layers = []
        for name in layer_names(ready):
            stat = stats.get(name)
            line = Text(name.ljust(name_w), BOLD, no_wrap=True, end="")
            if stat is None:
                line.append("·" * bar_w, DIM)
            else:
                line.append(bar(update_fraction(stat.update_ratio), bar_w).ljust(bar_w), "cyan")
                line.append(f" {sci(stat.update_ratio):>6}")
                line.append(f" {stat.grad_norm:5.2f}"[:6], DIM)
            layers.append(line)
        step = report.step if report else ready.step
        progress = Text(f"step {step}/{ready.total_steps}", BOLD)
        if report:
            for extra in (
                f" · {count(report.tokens_seen)} tokens",
                f" · {report.step_seconds * 1000:.0f} ms/step",
            ):
                if len(progress) + len(extra) <= width:
                    progress.append(extra, DIM)
        header = Text.assemble(
            ("layer".ljust(name_w), DIM),
            ("update (log)".ljust(bar_w + 7), DIM),
            ("|grad|", DIM),
        )
        shape = Text(
            f"{ready.n_layer} blocks · d {ready.d_model} · context {ready.context} · "
            f"vocab {ready.vocab_size}",
            DIM,
        )
        optimizer = Text(f"{ready.optimizer} · batch {ready.batch_size}×{ready.context}", DIM)
        cost = Text(cost_line(ready, report), DIM)
        # What must show comes first; the rest joins, in this order, as the height allows.
        lines: list[tuple[int, Text]] = [(2, line) for line in layers]
        lines += [(5, self._lr_line(width)), (6, progress)]
        # The cost before the optimizer: what a step costs is said nowhere else on tab 1.
        for order, optional in ((1, header), (7, cost), (4, optimizer), (0, shape)):
            if len(lines) < height:
                lines.append((order, optional))
        lines.sort(key=lambda item: item[0])
        return [line for _, line in lines]

    def _lr_line(self, width: int) -> Text:
        report, schedule = self.report, self.schedule
        line = Text(no_wrap=True, end="")
        line.append("lr ", DIM)
        line.append(sci(report.lr) if report else "—", BOLD)
        line.append(" ")
        curve_w = max(0, width - len(line) - 1)
        if schedule is None or curve_w < 4:
            return line
        curve = schedule.curve(curve_w)
        at = schedule.column(report.step - 1 if report else 0, curve_w)
        line.append(curve[:at], "magenta")
        line.append(curve[at], Style(color="magenta", reverse=True, bold=True))
        line.append(curve[at + 1 :], Style(color="magenta", dim=True))
        return line
