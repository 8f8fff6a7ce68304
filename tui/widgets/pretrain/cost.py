"""What the run costs, in floating-point operations: this step's, the run's so far, the rate
the machine trains at against its own ceiling (MFU), and the run beside real ones."""

from __future__ import annotations

from model.flops import beside, per_token, si
from model.protocol import EngineReady, StepReport
from tui.widgets.common.formatting import sci


def flops(ready: EngineReady, report: StepReport | None) -> tuple[float, float, float]:
    """(FLOPs per token, this step's FLOPs, the run's so far)."""
    token = per_token(ready.params, ready.n_layer, ready.d_model, ready.context)
    step = token * ready.batch_size * ready.context
    return token, step, token * (report.tokens_seen if report else 0)


def cost_line(ready: EngineReady, report: StepReport | None) -> str:
    """The model pane's line: "FLOPs step 2.9e10 · run 1.1e12"."""
    _, step, run = flops(ready, report)
    return f"FLOPs step {sci(step)} · run {sci(run)}"


def rate(ready: EngineReady, report: StepReport | None) -> tuple[float, float | None]:
    """The FLOP/s training runs at now, and its share of the machine's ceiling (None when
    the engine did not measure one)."""
    if report is None or report.tokens_per_s <= 0:
        return 0.0, None
    per_s = flops(ready, report)[0] * report.tokens_per_s
    return per_s, per_s / ready.peak_flops if ready.peak_flops > 0 else None


def rate_words(ready: EngineReady, report: StepReport | None) -> str:
    """The status line's part: "3.1 GFLOP/s · MFU 12%"."""
    per_s, mfu = rate(ready, report)
    if per_s <= 0:
        return ""
    return f"{si(per_s)}FLOP/s" + (f" · MFU {mfu:.0%}" if mfu is not None else "")


def cost_words(ready: EngineReady, report: StepReport | None) -> str:
    """The optimizer box's paragraph on cost: how a step is counted, and the run beside a
    real one."""
    token, step, run = flops(ready, report)
    text = (
        f"This step cost about {step:.2g} FLOPs: 6 × {ready.params:,} parameters per token "
        f"(2 for a multiply-add, forward, and twice that backward) plus attention's "
        f"12 × {ready.n_layer} layers × {ready.d_model} × {ready.context} per token, which no "
        f"weight counts: {token:,.0f} a token, × {ready.batch_size * ready.context:,} tokens. "
        f"The run so far: {run:.2g} FLOPs."
    )
    per_s, mfu = rate(ready, report)
    if per_s > 0:
        if mfu is not None:
            text += (
                f" This machine trains at {si(per_s)}FLOP/s, {mfu:.0%} of the "
                f"{si(ready.peak_flops)}FLOP/s its matmuls reach (MFU)."
            )
        if run > 0:
            text += " " + beside(run, per_s)
    return text
