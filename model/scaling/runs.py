"""The sizes of a scaling experiment and their runs: each is the scenario's own pretraining
(its tokenizer, batch, context, learning rate and seed) through the project's Trainer, with
only the model's width, depth and heads overridden, stopped at the same token budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from model.scaling.law import eval_steps, flops

# About 25 k to 1.3 M parameters at the world's vocabulary (512) and context (128), each
# about 2.8× the last; width over depth stays between 20 and 40, where Kaplan et al. (2020,
# fig. 5) found the shape to matter little next to the size.
DEFAULT_SIZES = "24x1x2,40x2x2,64x3x4,96x4x3,160x4x5"
MAX_SIZES = 8
# The project's default head: 96 wide over 3 heads.
HEAD_SIZE = 32


class SizeError(ValueError):
    """A --sizes list that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Size:
    d_model: int
    n_layer: int
    n_head: int

    @property
    def label(self) -> str:
        return f"{self.d_model}x{self.n_layer}x{self.n_head}"


def head_count(d_model: int) -> int:
    """The divisor of d_model whose head size is nearest the project's (more heads on a tie)."""
    divisors = [h for h in range(1, d_model + 1) if d_model % h == 0]
    return min(divisors, key=lambda h: (abs(d_model / h - HEAD_SIZE), -h))


def parse_sizes(text: str) -> list[Size]:
    """ "24x1x2,40x2,…": width x layers [x heads], heads chosen when left out."""
    sizes = []
    for item in (part.strip() for part in text.split(",")):
        numbers = item.lower().replace("×", "x").split("x")
        if not item or len(numbers) not in (2, 3) or not all(n.isdigit() for n in numbers):
            raise SizeError(f"--sizes: {item!r} is not WIDTHxLAYERS or WIDTHxLAYERSxHEADS")
        d, layers, *heads = (int(n) for n in numbers)
        if d < 1 or layers < 1 or (heads and heads[0] < 1):
            raise SizeError(f"--sizes: {item!r} has a zero; width, layers and heads are ≥ 1")
        sizes.append(Size(d, layers, heads[0] if heads else head_count(d)))
    if len(set(sizes)) != len(sizes):
        raise SizeError("--sizes: a size is listed twice")
    if not 3 <= len(sizes) <= MAX_SIZES:
        raise SizeError(
            f"--sizes: {len(sizes)} given; a power law with a floor needs 3 to {MAX_SIZES} sizes"
        )
    return sizes


def non_embedding(params: int, vocab: int, context: int, d_model: int) -> int:
    """Kaplan et al.'s N: the parameters less the token and position embeddings."""
    return params - (vocab + context) * d_model


@dataclass
class SizeRun:
    """One size's run, as the table, the chart and the files show it."""

    size: Size
    params: int
    non_embedding: int
    steps: int
    tokens: int = 0
    seconds: float = 0.0
    val_loss: float = float("nan")
    train_loss: float = float("nan")
    # (step, tokens seen, validation loss), at the steps law.eval_steps chose
    curve: list[tuple[int, int, float]] = field(default_factory=list)

    @property
    def flops(self) -> float:
        return flops(self.params, self.tokens)


class Diverged(Exception):
    pass


Tick = Callable[[SizeRun, float | None], None]


def train_size(trainer, run: SizeRun, tick: Tick, curve_points: int = 16) -> SizeRun:
    """Step ``trainer`` (built for ``run``) to its end, measuring validation loss at
    ``curve_points`` steps spaced evenly in log steps (1: at the end only). ``tick(run,
    loss)`` after each step."""
    from model.protocol import Divergence

    measure = set(eval_steps(run.steps, curve_points)) if curve_points > 1 else {run.steps}
    started = time.perf_counter()
    while not trainer.done:
        report = trainer.step(display=False)
        if isinstance(report, Divergence):
            raise Diverged(f"size {run.size.label}: {report.message}")
        step = trainer.state.step
        run.tokens = trainer.state.tokens_seen
        run.train_loss = report.loss
        if step in measure:
            # The run's last step is measured by the trainer itself (eval_every = steps).
            loss = report.val_loss if report.val_loss is not None else trainer.evaluate()
            run.curve.append((step, run.tokens, loss))
            run.val_loss = loss
        run.seconds = time.perf_counter() - started
        tick(run, report.loss)
    return run
