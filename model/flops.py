"""What training costs in floating-point operations, and a run beside real ones.

Plain Python (no torch): the screen computes it from the figures the engine sends."""

from __future__ import annotations

import math
from typing import NamedTuple

SECONDS_PER_YEAR = 365.25 * 24 * 3600


def per_token(params: int, n_layer: int, d_model: int, context: int) -> float:
    """Forward + backward FLOPs per token: 6·N for the weights (2 a multiply-add, forward,
    and twice that backward) plus 12·layers·d·context for attention's scores and mixing,
    which no weight counts (PaLM, Chowdhery et al. 2022, appendix B; nanoGPT's MFU)."""
    return 6 * params + 12 * n_layer * d_model * context


class RealRun(NamedTuple):
    name: str
    flops: float
    tokens: float


# Published training compute, each as its paper gives it.
REAL_RUNS = (
    # Brown et al. 2020, "Language Models are Few-Shot Learners", table D.1: GPT-3 175B,
    # 3.14e23 FLOPs, 300 billion tokens.
    RealRun("GPT-3", 3.14e23, 300e9),
    # Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", table 3:
    # Chinchilla 70B, 5.76e23 FLOPs, 1.4 trillion tokens.
    RealRun("Chinchilla", 5.76e23, 1.4e12),
    # Meta 2024, "The Llama 3 Herd of Models", section 3.2.1: Llama 3 405B, 3.8e25 FLOPs,
    # 15.6 trillion tokens.
    RealRun("Llama 3 405B", 3.8e25, 15.6e12),
)


def si(value: float) -> str:
    """1.2e9 → "1.2 G": FLOP/s as people say them."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.1f} {prefix}"
    return f"{value:.0f} "


def beside(run_flops: float, flops_per_s: float, real: RealRun = REAL_RUNS[0]) -> str:
    """This run against a real one: how many times its compute, and how long this machine
    would take to do that much at the rate it trains now."""
    if run_flops <= 0 or flops_per_s <= 0:
        return ""
    times = math.log10(real.flops / run_flops)
    years = real.flops / flops_per_s / SECONDS_PER_YEAR
    return (
        f"{real.name} took 10^{times:.1f} times this run's compute ({real.flops:.2g} FLOPs, "
        f"{real.tokens:.2g} tokens): at {si(flops_per_s)}FLOP/s this machine would need "
        f"{years:,.0f} years."
    )
