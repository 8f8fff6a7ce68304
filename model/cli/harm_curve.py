"""`trainterm harm-curve`: refusal of kinds of harm no training file has, against the number
of kinds fine-tuning and preference data refuse. Per seed one pretrained model (the stage
cache's, or trained once), then for each number of kinds its world, fine-tuned and tuned by
DPO from that base, and scored. Its arguments are here (light: the parser imports this
module); torch loads only when it runs."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from model.cli.common import CliError, _positive_int, _seeds, check_writable

DEFAULT_OUT = "runs/harm-curve"
DEFAULT_THREADS = 2  # as `trainterm scaling`: --threads 1 on a busy shared machine
TRAINED_KINDS = 10  # len(TRAIN_HARMFUL), checked by a test: the parser stays light


def _kinds(text: str) -> tuple[int, ...]:
    """ "1,3,6,10": distinct numbers of kinds, each 1 to TRAINED_KINDS, in rising order."""
    parts = [part.strip() for part in text.split(",")]
    kinds: list[int] = []
    for part in parts:
        try:
            n = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected numbers of kinds separated by commas (e.g. 1,3,6,10), got {part!r}"
            ) from None
        if not 1 <= n <= TRAINED_KINDS:
            raise argparse.ArgumentTypeError(
                f"a number of kinds is 1 to {TRAINED_KINDS} (the world's trained kinds), got {n}"
            )
        if n in kinds:
            raise argparse.ArgumentTypeError(f"{n} kinds is given twice")
        kinds.append(n)
    return tuple(sorted(kinds))


def _steps(text: str) -> dict[str, int]:
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected P,S,D (three step counts), got {text!r}")
    values = [_positive_int(part.strip()) for part in parts]
    return dict(zip(("pretrain", "sft", "dpo"), values, strict=True))


def add_parser(sub) -> None:
    p = sub.add_parser(
        "harm-curve",
        help="refusal of unseen kinds of harm against the number of kinds trained",
        description=(
            "Fine-tune and DPO-tune the world's model with its refusals limited to the first N "
            "kinds of harm (as many examples whatever N), per seed, and measure how often it "
            "refuses the 5 kinds of harm no training file has."
        ),
    )
    p.add_argument(
        "--kinds", type=_kinds, default="1,3,6,10", metavar="N,N,…",
        help=f"numbers of kinds of harm trained, 1 to {TRAINED_KINDS} (default 1,3,6,10)",
    )  # fmt: skip
    p.add_argument(
        "--seeds", type=_seeds, default="1,2,3", metavar="S,S,…",
        help="every stage's seed; one pretrained model per seed (default 1,2,3)",
    )  # fmt: skip
    p.add_argument(
        "--threads", type=_positive_int, default=DEFAULT_THREADS,
        help=f"torch threads (default {DEFAULT_THREADS}; 1 on a busy shared machine)",
    )  # fmt: skip
    p.add_argument(
        "--out", default=DEFAULT_OUT,
        help=f"the worlds (kinds-N/), harm_curve.json and .csv (default {DEFAULT_OUT})",
    )  # fmt: skip
    world = p.add_argument_group("a smaller experiment (the defaults are the built-in world's)")
    world.add_argument("--steps", type=_steps, metavar="P,S,D",
                       help="pretraining, fine-tuning and DPO steps")  # fmt: skip
    world.add_argument("--countries", type=_positive_int, default=40, help="the world's countries")
    world.add_argument("--corpus-kb", type=_positive_int, default=300, help="its corpus's size")


def _progress():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]{task.description:<23}"), BarColumn(bar_width=16),
        MofNCompleteColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
        console=console,
        # Not a terminal (a log, a pipe): a plain line as each model is done, not redraws.
        disable=not console.is_terminal,
    )  # fmt: skip


def _check_cache() -> None:
    from model.stage_cache import cache_root, read_only

    if read_only() or cache_root() is None:
        raise CliError("the stage cache cannot be written here, and the experiment keeps each "
                       "seed's pretrained model there: unset TRAINTERM_CACHE_READONLY")  # fmt: skip


def _scenarios(args, out: Path) -> dict[int, object]:
    """Each N's world, written and loaded: every fault here is found before anything trains."""
    from model import harm_curve as hc
    from scenarios import ScenarioError, load_scenario

    try:
        folders = hc.write_variants(out, args.kinds, args.countries, args.corpus_kb)
        return {n: load_scenario(folder) for n, folder in folders.items()}
    except (ValueError, ScenarioError) as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"--out {out}: cannot write the worlds there ({e.strerror or e})") from None


def run_harm_curve(args) -> int:
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    out = Path(args.out)
    check_writable(out)
    _check_cache()
    worlds = _scenarios(args, out)
    import torch

    from model import harm_curve as hc

    torch.set_num_threads(args.threads)
    jobs = [(seed, n, stage) for seed in args.seeds for n in args.kinds for stage in hc.STAGES]
    print(f"trainterm: harm-curve · {len(args.kinds)} numbers of kinds ({_join(args.kinds)}) × "
          f"{len(args.seeds)} seeds ({_join(args.seeds)}) × {' then '.join(hc.STAGES)} · "
          f"{args.threads} thread(s) · worlds in {out}", file=sys.stderr)  # fmt: skip
    results = _run(args, worlds, jobs)
    _show_and_write(args, out, results, started, load_start)
    return 0


def _join(values) -> str:
    return ",".join(map(str, values))


def _run(args, worlds, jobs) -> list:
    results = []
    with _progress() as progress:
        overall = progress.add_task("all models", total=len(jobs), info="")
        try:
            for seed, n, stage in jobs:
                results.append(_one(args, worlds[n], seed, n, stage, progress))
                progress.update(overall, advance=1)
        except CliError:
            progress.live.transient = True  # the error is the one line left to read
            raise
    return results


def _one(args, world, seed: int, n: int, stage: str, progress):
    """One model of the curve: trained (or found in the cache) and scored, shown as it goes."""
    from model import harm_curve as hc
    from model.checkpoint import CheckpointError
    from model.pipeline import PipelineError

    name = f"seed {seed} · {n} kinds · {stage}"
    task = progress.add_task(name, total=None, info="")
    started: set[str] = set()

    def tick(trainer) -> bool:
        which = "" if trainer.stage == stage else f" ({trainer.stage} first)"
        progress.update(task, total=trainer.settings.steps, completed=trainer.state.step,
                        info=f"training{which}")  # fmt: skip
        if progress.disable and trainer.stage not in started:  # a log: a line per stage
            started.add(trainer.stage)
            print(f"{name}: training {trainer.stage}, {trainer.settings.steps} steps",
                  file=sys.stderr, flush=True)  # fmt: skip
        return True

    run = hc.configured(world, seed, args.steps)
    try:
        result = hc.run_one(run, seed, n, stage, args.threads, tick, args.countries)
    except (CheckpointError, PipelineError) as e:
        raise CliError(f"{name}: {e}") from None
    said = _brief(result)
    progress.update(task, info=said)
    if progress.disable:
        print(f"{name}: {'trained' if result.trained else 'cached'} · {said}",
              file=sys.stderr, flush=True)  # fmt: skip
    return result


def _brief(result) -> str:
    f = result.figures
    parts = [("held-out", "held_out"), ("trained", "trained"), ("look-alikes", "lookalikes")]
    return " · ".join(f"{label} {f[k].refused}/{f[k].total}" for label, k in parts if k in f)


def _show_and_write(args, out: Path, results, started: float, load_start: float) -> None:
    from model import harm_curve as hc
    from model import harm_curve_report as rp
    from model.scaling.report import colour_wanted

    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 110))
    totals = rp.totals(results)
    print(f"# Harm curve · seeds {_join(args.seeds)} · medians (min–max)")
    print()
    print(rp.table(results, hc.STAGES))
    print()
    print(
        f"Requests per figure: held-out kinds {totals.get('held_out', '-')} (5 kinds no "
        f"training file has); trained kinds {totals.get('trained', '-')} ({hc.PER_KIND} a kind, "
        "about countries fine-tuning never mentions); look-alikes "
        f"{totals.get('lookalikes', '-')}, held-out look-alikes "
        f"{totals.get('lookalikes_new', '-')}. Every answer greedy."
    )
    print()
    print(rp.chart(results, hc.STAGES, width, colour_wanted(sys.stdout)))
    wall = time.perf_counter() - started
    meta = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "kinds": list(args.kinds),
        "seeds": list(args.seeds),
        "kinds_order": list(hc.TRAIN_HARMFUL),
        "countries": args.countries,
        "corpus_kb": args.corpus_kb,
        "steps": args.steps,
        "threads": args.threads,
        "wall_seconds": round(wall, 1),
        "load_average": [load_start, os.getloadavg()[0]],
    }
    try:
        rp.write_csv(out / "harm_curve.csv", results)
        rp.write_json(out / "harm_curve.json", rp.record(results, hc.STAGES, meta))
    except OSError as e:
        raise CliError(f"cannot write to {out}: {e.strerror or e}") from None
    print()
    print(f"wall time {int(wall // 60)} min {wall % 60:.0f} s · load average {load_start:.2f} → "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"wrote    {out / 'harm_curve.csv'} and {out / 'harm_curve.json'}")
