"""This machine's own ceiling: the FLOP/s of a square fp32 matmul, measured now. MFU (model
FLOPs utilisation) is the training's FLOP/s over it."""

from __future__ import annotations

import functools
import statistics
import time


@functools.lru_cache(maxsize=4)
def matmul_peak_flops(threads: int, size: int = 384, repeats: int = 7) -> float:
    """Median FLOP/s of ``size``² matmuls with ``threads`` torch threads (once a process)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(size, size), torch.randn(size, size)
        for _ in range(3):
            a @ b
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(10):
                a @ b
            rates.append(10 * 2 * size**3 / (time.perf_counter() - started))
    finally:
        torch.set_num_threads(before)
    return statistics.median(rates)
