"""`trainterm scaling`: train several model sizes on the scenario's corpus at one token
budget each, fit L(N) = a·N^(−α) + c to their validation losses, and ask which size wins at
one fixed compute. Its arguments are here (light: the parser imports this module); torch
loads only when it runs."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from model.cli.common import (
    DIVERGED,
    CliError,
    _positive_float,
    _positive_int,
    check_writable,
)

DEFAULT_OUT = "runs/scaling"
# Two threads: the experiment is meant for a quiet machine of one's own, where they are
# 1.2–1.6× faster than one (docs/architecture.md); --threads 1 on a shared, busy one.
DEFAULT_THREADS = 2
# The world's corpus read 3.3 times, under MAX_EPOCHS: the corpus, not the time, bounds
# it. The five default sizes took 4 min 12 s at 1 thread on a busy 2-core machine (load
# 6-8; docs/cli.md), about 1.5 min on a quiet one.
DEFAULT_TOKENS = 400_000
# Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"): up to about 4
# epochs, repeated tokens are worth almost as much as new ones; past that, much less, and a
# budget's law would be the corpus's repetition as much as the model's size.
MAX_EPOCHS = 4
BOOTSTRAP_RESAMPLES = 1000
# Validation losses measured per run, spaced evenly in log steps: 16 cost about a seventh
# of a default run's time (an evaluation took 1.4–2.2 steps' time, measured) and place C
# within each run's curve.
CURVE_POINTS = 16


def add_parser(sub) -> None:
    from model.scaling.runs import DEFAULT_SIZES

    p = sub.add_parser(
        "scaling",
        help="a scaling experiment in minutes: sizes, a power-law fit, compute-optimal size",
        description=(
            "Train several model sizes at one token budget each, fit L(N) = a·N^(−α) + c to "
            "their validation losses, and ask which size wins at one fixed compute."
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--scenario", metavar="DIR", help="scenario folder (default: world)")
    source.add_argument("--corpus", metavar="FILE", help="a plain UTF-8 text file to train on")
    p.add_argument(
        "--sizes", default=DEFAULT_SIZES, metavar="WxL[xH],…",
        help=f"model sizes: width x layers [x heads] (default {DEFAULT_SIZES})",
    )  # fmt: skip
    p.add_argument(
        "--tokens", type=_positive_int, default=DEFAULT_TOKENS, metavar="N",
        help=f"training tokens per size (default {DEFAULT_TOKENS:,}; at most {MAX_EPOCHS} "
        "passes over the corpus)",
    )  # fmt: skip
    p.add_argument(
        "--compute", type=_positive_float, metavar="FLOPS",
        help="the budget of the compute-optimal question (default: the smallest size's run)",
    )  # fmt: skip
    p.add_argument(
        "--threads", type=_positive_int, default=DEFAULT_THREADS,
        help=f"torch threads (default {DEFAULT_THREADS}; 1 on a busy shared machine)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument(
        "--out", default=DEFAULT_OUT, help=f"where scaling.csv and .json go (default {DEFAULT_OUT})"
    )


@dataclass
class Plan:
    """Everything the experiment will train, checked before any of it does."""

    settings: object  # the scenario's pretraining settings for the sizes' runs
    runs: list  # SizeRun, one a size, by size
    configs: list  # GPTConfig, one a size
    batch_tokens: int
    train_tokens: int  # the corpus less its held-out tail
    vocab: int
    compute: float  # C of the compute-optimal question
    # Each size trained for C / 6N tokens with a schedule of its own, by size; None: less
    # than one step, or the same run as the size's own (the smallest one's, by default).
    at_compute: list = field(default_factory=list)
    steps_at: list = field(default_factory=list)  # each size's steps to C


def _plan(args, scenario) -> Plan:
    from dataclasses import replace

    from model.pipeline import make_stage, model_config, scenario_tokenizer, stage_settings
    from model.scaling.runs import SizeError, SizeRun, non_embedding, parse_sizes
    from model.stages.base import StageDataError
    from model.tokenizer import TokenizerError
    from scenarios import ScenarioError
    from scenarios.schema import check_fits

    try:
        sizes = parse_sizes(args.sizes)
    except SizeError as e:
        raise CliError(str(e)) from None
    base = stage_settings(scenario, "pretrain", seed=args.seed)
    batch_tokens = base.batch_size * scenario.model.context
    steps = args.tokens // batch_tokens
    if steps < 1:
        raise CliError(
            f"--tokens {args.tokens:,} is less than one batch ({base.batch_size} × "
            f"{scenario.model.context} = {batch_tokens:,} tokens)"
        )
    settings = _settings(scenario, args.seed, steps)
    try:
        tokenizer = scenario_tokenizer(scenario, scenario.model.vocab_size)
        config = replace(model_config(scenario), vocab_size=tokenizer.n_vocab)
        data = make_stage("pretrain", scenario, tokenizer, config, settings)
    except (TokenizerError, StageDataError) as e:
        raise CliError(str(e)) from None
    train_tokens = len(data.train_tokens)
    budget = steps * batch_tokens
    if budget > MAX_EPOCHS * train_tokens:
        raise CliError(
            f"--tokens {args.tokens:,}: the corpus has {train_tokens:,} training tokens, too "
            f"few for the sizes' budget (each would read it {budget / train_tokens:.1f} times; "
            f"at most {MAX_EPOCHS}): lower --tokens to {MAX_EPOCHS * train_tokens:,} or less"
        )
    runs, configs = [], []
    for size in sizes:
        shape = {"d_model": size.d_model, "n_layer": size.n_layer, "n_head": size.n_head}
        try:
            model = replace(scenario.model, **shape, vocab_size=config.vocab_size)
            check_fits(model, "pretrain", settings)
        except ScenarioError as e:
            raise CliError(f"--sizes {size.label}: {e.reason}") from None
        params = model.n_params()
        ne = non_embedding(params, model.vocab_size, model.context, size.d_model)
        runs.append(SizeRun(size, params, ne, steps))
        configs.append(replace(config, **shape))
    if len({r.params for r in runs}) != len(runs):
        raise CliError("--sizes: two sizes have the same number of parameters")
    order = sorted(range(len(runs)), key=lambda i: runs[i].params)
    runs, configs = [runs[i] for i in order], [configs[i] for i in order]
    plan = Plan(settings, runs, configs, batch_tokens, train_tokens, tokenizer.n_vocab, 0.0)
    _plan_at_compute(plan, args.compute)
    return plan


def _settings(scenario, seed, steps: int):
    """The scenario's pretraining for ``steps``, with its warm-up rule, evaluated by the
    trainer at its last step (train_size measures the curve's other points)."""
    from model.pipeline import stage_settings

    return stage_settings(scenario, "pretrain", seed=seed, steps=steps, eval_every=steps)


def _plan_at_compute(plan: Plan, given: float | None) -> None:
    """Each size's run of C / 6N tokens, C given or the smallest size's whole run."""
    from model.scaling.law import flops
    from model.scaling.runs import SizeRun

    smallest = plan.runs[0]
    plan.compute = given or flops(smallest.params, smallest.steps * plan.batch_tokens)
    plan.steps_at = [round(plan.compute / flops(r.params, plan.batch_tokens)) for r in plan.runs]
    for run, steps in zip(plan.runs, plan.steps_at, strict=True):
        if steps * plan.batch_tokens > MAX_EPOCHS * plan.train_tokens:
            raise CliError(
                f"--compute {plan.compute:.3g}: size {run.size.label} would need "
                f"{steps * plan.batch_tokens:,} tokens, more than {MAX_EPOCHS} passes over the "
                f"corpus's {plan.train_tokens:,}"
            )
    if sum(steps >= 1 for steps in plan.steps_at) < 2:
        raise CliError(
            f"--compute {plan.compute:.3g}: fewer than 2 sizes get a whole step of "
            f"{plan.batch_tokens:,} tokens from it"
        )
    plan.at_compute = [
        SizeRun(run.size, run.params, run.non_embedding, steps)
        if steps >= 1 and steps != run.steps
        else None
        for run, steps in zip(plan.runs, plan.steps_at, strict=True)
    ]


def _progress():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description:<20}"),
        BarColumn(bar_width=24),
        TaskProgressColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def _train_all(scenario, plan: Plan, seed, threads: int) -> None:
    """The sizes' runs (their curves measured), then the runs to C, under one progress bar
    whose total is the experiment's FLOPs."""
    from model.pipeline import PipelineError, new_trainer
    from model.scaling.runs import train_size

    pairs = zip(plan.runs, plan.configs, strict=True)
    jobs = [(run, config, plan.settings, CURVE_POINTS, "") for run, config in pairs]
    for at, config in zip(plan.at_compute, plan.configs, strict=True):
        if at is not None:
            jobs.append((at, config, _settings(scenario, seed, at.steps), 1, "to C "))
    tokens = {id(run): run.steps * plan.batch_tokens for run, *_ in jobs}
    total = sum(6 * run.params * tokens[id(run)] for run, *_ in jobs)
    done = 0.0
    with _progress() as progress:
        overall = progress.add_task("all runs", total=total, info="FLOPs, 6·N·D")
        for run, config, settings, points, prefix in jobs:
            name = f"{prefix}{run.size.label} {run.params:,}"
            task = progress.add_task(name, total=run.steps, info="")
            try:
                trainer = new_trainer(
                    scenario, "pretrain", settings=settings, config=config, threads=threads
                )
            except PipelineError as e:
                raise CliError(str(e)) from None

            def tick(r, loss, task=task, trainer=trainer, done=done) -> None:
                val = f" · val {r.val_loss:.3f}" if r.curve else ""
                speed = r.tokens / r.seconds if r.seconds else 0.0
                progress.update(
                    task, completed=trainer.state.step,
                    info=f"loss {loss:.3f}{val} · {speed:,.0f} tok/s",
                )  # fmt: skip
                progress.update(overall, completed=done + r.flops)

            train_size(trainer, run, tick, points)
            done += run.flops


def run_scaling(args) -> int:
    from model.cli.common import load_source
    from model.scaling.runs import Diverged

    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    out = Path(args.out)
    check_writable(out)
    scenario = load_source(args)
    plan = _plan(args, scenario)
    s = plan.settings
    print(
        f"trainterm: scaling · {scenario.name} · {len(plan.runs)} sizes × {s.steps:,} steps of "
        f"{s.batch_size} × {plan.configs[0].context} tokens · vocab {plan.vocab} · lr {s.lr:g} "
        f"· seed {s.seed} · {args.threads} thread(s)",
        file=sys.stderr,
    )
    cores = os.cpu_count() or 1
    if args.threads > 1 and load_start > cores:
        print(
            f"trainterm: the load average is {load_start:.1f} on {cores} cores: {args.threads} "
            "torch threads slow down sharply on a busy machine (--threads 1 is steadier)",
            file=sys.stderr,
        )
    try:
        _train_all(scenario, plan, args.seed, args.threads)
    except Diverged as e:
        print(f"trainterm: error: {e}", file=sys.stderr)
        return DIVERGED
    _show_and_write(args, scenario, plan, out, started, load_start)
    return 0


def _at_compute(plan: Plan):
    """The sizes trained to C, as law.pick takes them (a size's own run where it is that)."""
    from model.scaling.law import AtCompute, flops

    entries = []
    for run, at, steps in zip(plan.runs, plan.at_compute, plan.steps_at, strict=True):
        done = at or (run if steps == run.steps else None)
        tokens = done.tokens if done else plan.compute / flops(run.params, 1)
        entries.append(AtCompute(run.size.label, run.params, tokens, done and done.val_loss))
    return entries


def _show_and_write(args, scenario, plan: Plan, out: Path, started: float, load_start: float):
    import shutil

    from model.scaling import law as lw
    from model.scaling import report as rp

    runs = plan.runs
    n, loss = [r.params for r in runs], [r.val_loss for r in runs]
    try:
        law, reason = lw.fit_power_law(n, loss), ""
    except lw.FitError as e:
        law, reason = None, str(e)
    seed = plan.settings.seed
    spread = lw.bootstrap_alpha(n, loss, BOOTSTRAP_RESAMPLES, seed=seed) if law else None
    try:
        law_ne = lw.fit_power_law([r.non_embedding for r in runs], loss) if law else None
    except lw.FitError:
        law_ne = None
    curves = [lw.Curve(r.size.label, r.params, tuple((t, v) for _, t, v in r.curve)) for r in runs]
    trained = lw.pick(plan.compute, _at_compute(plan))
    try:
        read = lw.compute_optimal(curves, plan.compute)
    except ValueError:
        read = None
    chosen = "--compute" if args.compute else "the smallest size's whole run"
    epochs = runs[0].tokens / plan.train_tokens
    notes = rp.caveats(runs, plan.train_tokens, epochs, plan.steps_at)

    def report(width: int, colour: bool) -> str:
        return "\n".join([
            rp.table(runs, law), "",
            rp.wrap(rp.fit_lines(law, spread, law_ne, len(runs), reason), width), "",
            rp.law_chart(runs, law, width, colour),
            rp.compute_chart(curves, plan.compute, width, colour), "",
            rp.wrap(rp.optimum_lines(trained, read, chosen, plan.batch_tokens), width), "",
            rp.wrap(notes, width, first="caveats"),
        ])  # fmt: skip

    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 110))
    print(report(width, rp.colour_wanted(sys.stdout)))
    wall = time.perf_counter() - started
    record = {
        "scenario": scenario.name,
        "corpus_train_tokens": plan.train_tokens,
        "epochs": epochs,
        "tokens_per_size": runs[0].tokens,
        "batch_size": plan.settings.batch_size,
        "context": plan.configs[0].context,
        "vocab": plan.vocab,
        "lr": plan.settings.lr,
        "seed": seed,
        "threads": args.threads,
        "runs": [rp.run_record(r) for r in runs],
        "fit": rp.law_record(law),
        "fit_error": reason or None,
        "fit_non_embedding": rp.law_record(law_ne),
        "alpha_range": None if spread is None else {
            "low": spread.low, "high": spread.high, "level": spread.level,
            "fits": spread.fits, "resamples": spread.resamples, "seed": seed,
        },
        "compute_optimal": rp.optimum_record(trained),
        "compute_optimal_read_mid_run": rp.optimum_record(read),
        "caveats": notes,
        "wall_seconds": round(wall, 2),
        "load_average": [load_start, os.getloadavg()[0]],
    }  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
        rp.write_csv(out / "scaling.csv", runs, law)
        rp.write_json(out / "scaling.json", record)
        # What the app's scaling screen shows: the same report, no colour, 80 columns wide.
        (out / "scaling.txt").write_text(report(rp.SCREEN_WIDTH, False) + "\n", "utf-8")
    except OSError as e:
        raise CliError(f"cannot write to {out}: {e.strerror or e}") from None
    print()
    print(
        f"wall time {int(wall // 60)} min {wall % 60:.0f} s ({wall:.1f} s) · load average "
        f"{load_start:.2f} → {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    if wall > 240:
        print(
            "         over the 4 minutes it aims at: a busy machine (see the load), or try "
            "--threads 1, or fewer --tokens"
        )
    print(f"wrote    {out / 'scaling.csv'}, {out / 'scaling.json'} and {out / 'scaling.txt'}")
