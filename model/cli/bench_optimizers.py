"""`trainterm bench --optimizers`: the scenario's pretraining with AdamW and with Muon, step
by step in turn (a shared machine's noise then falls on both alike), as validation loss
against steps and seconds, and the step where Muon first reaches AdamW's final loss."""

from __future__ import annotations

import dataclasses
import statistics
import time

from model.cli.common import CliError
from scenarios.schema import OPTIMIZERS


def parse_steps(text: str) -> tuple[int, int]:
    """``A,M``: AdamW's steps and Muon's."""
    try:
        steps = tuple(int(part) for part in text.split(","))
    except ValueError:
        steps = ()
    if len(steps) != 2 or min(steps) < 1:
        raise CliError(f"--optimizer-steps wants two positive step counts, A,M; got {text!r}")
    return steps  # type: ignore[return-value]


class Run:
    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.seconds = 0.0  # its steps' and their validations' wall time
        self.step_times: list[float] = []
        self.at: list[tuple[int, float, float]] = []  # (step, validation loss, seconds)

    def step(self) -> None:
        from model.protocol import Divergence

        trainer = self.trainer
        evals = len(trainer.state.val_losses)
        started = time.perf_counter()
        report = trainer.step(display=False)
        elapsed = time.perf_counter() - started
        if isinstance(report, Divergence):
            raise CliError(f"{trainer.settings.optimizer}: {report.message}")
        self.seconds += elapsed
        if len(trainer.state.val_losses) > evals:
            step, loss = trainer.state.val_losses[-1]
            self.at.append((step, loss, self.seconds))
        else:  # a step without a validation: its time alone
            self.step_times.append(elapsed)


def first_reaching(run: Run, target: float) -> tuple[int, float, float] | None:
    return next((point for point in run.at if point[1] <= target), None)


def run_optimizer_bench(args, scenario, threads: int) -> int:
    from model.pipeline import PipelineError, new_trainer, stage_settings

    steps = parse_steps(args.optimizer_steps)
    runs = {}
    for optimizer, n in zip(OPTIMIZERS, steps, strict=True):
        settings = stage_settings(scenario, "pretrain", seed=args.seed, steps=n)
        settings = dataclasses.replace(settings, optimizer=optimizer)
        try:
            runs[optimizer] = Run(new_trainer(scenario, "pretrain", settings=settings,
                                              threads=threads))  # fmt: skip
        except PipelineError as e:
            raise CliError(str(e)) from None
    while not all(run.trainer.done for run in runs.values()):
        for run in runs.values():
            if not run.trainer.done:
                run.step()
    adamw, muon = runs["adamw"], runs["muon"]
    print(f"scenario      {scenario.name} · pretraining · {threads} thread(s) · seed "
          f"{adamw.trainer.settings.seed}")  # fmt: skip
    print("validation loss by step (seconds of training so far):")
    points = sorted({step for run in runs.values() for step, _, _ in run.at})
    for step in points:
        row = f"  step {step:>5}"
        for name, run in runs.items():
            found = next(((loss, s) for at, loss, s in run.at if at == step), None)
            cell = f"{found[0]:.3f} ({found[1]:5.1f} s)" if found else "—"
            row += f"   {name} {cell:<16}"
        print(row)
    per_step = statistics.median(muon.step_times) / statistics.median(adamw.step_times)
    print(f"step time     Muon {per_step:.2f}× AdamW's (medians, steps without a validation)")
    if not adamw.at or not muon.at:
        every = adamw.trainer.settings.eval_every
        print(f"no validation to compare: give each run at least {every} steps (eval_every)")
        return 0
    target_step, target, target_seconds = adamw.at[-1]
    reached = first_reaching(muon, target)
    if reached is None:
        print(f"Muon never reached AdamW's final validation loss {target:.3f} "
              f"in {muon.trainer.settings.steps} steps")  # fmt: skip
    else:
        step, loss, seconds = reached
        print(f"to AdamW's    {target:.3f} (its step {target_step}, {target_seconds:.1f} s): "
              f"Muon at step {step} ({loss:.3f}), {seconds:.1f} s = "
              f"{seconds / target_seconds:.2f}× the time")  # fmt: skip
    final_step, final, seconds = muon.at[-1]
    print(f"Muon's end    {final:.3f} at step {final_step} in {seconds:.1f} s "
          f"({seconds / target_seconds:.2f}× AdamW's {target_step}-step run)")  # fmt: skip
    return 0
