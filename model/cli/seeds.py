"""`trainterm report --seeds 1,2,3`: the pipeline trained once per seed (or found in the
stage cache), each stage scored as `trainterm eval` scores it, and every eval printed with
its median and range over the seeds.

A seed is the seed of every stage, as `train --seed` sets it, so each seed's runs are cache
entries of their own and `train --seed 2` finds seed 2's. The scores are cached too, by the
model's cache key, the scenario's data and the engine's code: a second report is a read.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from model import protocol as p
from model.cli.common import CliError, load_source
from model.evals import over_seeds
from model.evals import report_card as card
from model.settings import DEFAULT_THREADS
from model.stage_cache import cache_root, read_only
from model.stages import ORDER, lacking, settings_section

SCORES_FORMAT = 1


def seeded(scenario, seed: int):
    """``scenario`` with every stage's seed set to ``seed`` (what `train --seed` does to the
    stage it trains): the stage sections of the registry's stages, whichever they are."""
    sections = dict.fromkeys(settings_section(stage) for stage in ORDER)
    changed = {
        s: replace(getattr(scenario, s), seed=seed) for s in sections if hasattr(scenario, s)
    }
    return replace(scenario, **changed)


def run_seeds(args) -> int:
    if args.folder:
        raise CliError("give a `train --stage all` folder or --seeds, not both")
    if args.seed is not None:
        raise CliError("--seeds sets every stage's seed: drop --seed")
    import torch

    threads = args.threads or DEFAULT_THREADS
    torch.set_num_threads(threads)
    scenario = load_source(args)
    stages = [stage for stage in ORDER if not lacking(scenario, stage)]
    if not stages:
        raise CliError(f"the scenario {scenario.name!r} has no data to train a stage on")
    console = Console(stderr=True)
    cards: dict[int, p.ReportCard] = {}
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console,
        # Not a terminal (a log, a pipe): a plain line as each stage is done, not redraws.
        disable=not console.is_terminal,
    ) as progress:  # fmt: skip
        try:
            for seed in args.seeds:
                run = seeded(scenario, seed)
                columns = [_column(run, scenario, seed, stage, threads, progress)
                           for stage in stages]  # fmt: skip
                cards[seed] = p.ReportCard(scenario.name, tuple(columns))
        except CliError:
            progress.live.transient = True  # the error is the one line left to read
            raise
    if args.json:
        print(json.dumps(over_seeds.as_json(cards)))
    else:
        print(over_seeds.markdown(cards))
    return 0


def _column(run, scenario, seed: int, stage: str, threads: int, progress) -> p.ReportColumn:
    """``stage`` of seed ``seed``'s run: from the cache or trained now, then scored."""
    from model.checkpoint import CheckpointError
    from model.loaded_model import load_model
    from model.pipeline import Cancelled, PipelineError, cached_stage, ensure_stage

    task = progress.add_task(f"seed {seed} · {stage}", total=None, status="")
    try:
        path = cached_stage(run, stage)
        trained = path is None
        if trained and (read_only() or cache_root() is None):
            raise CliError(f"seed {seed}'s {stage} is not in the stage cache, and that cache "
                           "cannot be written here: each seed's runs are kept there")  # fmt: skip
        if trained:

            def tick(trainer) -> bool:
                status = "training" + (f" {trainer.stage}" if trainer.stage != stage else "")
                progress.update(
                    task, total=trainer.settings.steps, completed=trainer.state.step,
                    status=status,
                )  # fmt: skip
                return True

            progress.update(task, status="training")
            if progress.disable:
                print(f"seed {seed} · {stage}: training", file=sys.stderr, flush=True)
            path = ensure_stage(run, stage, threads=threads, progress=tick)
        loaded = load_model(path)
        progress.update(task, total=loaded.total_steps, completed=loaded.step,
                        status=("trained" if trained else "cached") + " · scoring")  # fmt: skip
        table, was_scored = _scores(loaded, scenario, path)
    except (CheckpointError, PipelineError) as e:
        raise CliError(str(e)) from None
    except Cancelled:
        raise CliError("cancelled") from None
    status = (
        ("trained" if trained else "cached") + " · " + ("scores cached" if was_scored else "scored")
    )
    progress.update(task, status=status)
    if progress.disable:
        print(f"seed {seed} · {stage}: step {loaded.step}/{loaded.total_steps} · {status}",
              file=sys.stderr, flush=True)  # fmt: skip
    return card.column(stage, loaded.step, loaded.total_steps, loaded.meta["state"], table,
                       str(path))  # fmt: skip


# --- the scores' cache --------------------------------------------------------------------


def _scores(loaded, scenario, path) -> tuple[p.EvalTable, bool]:
    """``loaded``'s eval table, and whether it came from the cache."""
    from model.cli.eval import evaluate

    file = _scores_file(loaded, scenario)
    if file is not None and file.is_file():
        try:
            saved = json.loads(file.read_text(encoding="utf-8"))
            rows = tuple(p.EvalRow(**row) for row in saved["rows"])
            return p.EvalTable(loaded.stage, loaded.step, rows), True
        except (OSError, ValueError, TypeError, KeyError):
            pass  # a damaged entry is scored again, and replaced
    table = evaluate(loaded, scenario, str(path))
    if file is not None and not read_only():
        _write(file, {"format": SCORES_FORMAT, "rows": [asdict(r) for r in table.rows]})
    return table, False


def _scores_file(loaded, scenario) -> Path | None:
    """Where ``loaded``'s scores are kept: None for a model the stage cache does not know."""
    root, key = cache_root(), loaded.meta.get("cache_key", "")
    if root is None or not key:
        return None
    h = hashlib.sha256(f"{SCORES_FORMAT}:{key}:{_code_digest()}".encode())
    h.update(scenario.corpus.encode("utf-8", "replace"))
    # The eval sets, and the files the well-formed eval takes its words from.
    for part in (scenario.sft_examples, scenario.preference_pairs, sorted(scenario.evals.items())):
        h.update(repr(part).encode())
    return root / "scores" / f"{loaded.stage}-{h.hexdigest()[:32]}.json"


@functools.cache
def _code_digest() -> str:
    """The engine's code and torch's version: a change to either may change a score."""
    import torch

    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(torch.__version__.encode())
    for file in sorted(package.rglob("*.py")):
        h.update(str(file.relative_to(package)).encode())
        h.update(file.read_bytes())
    return h.hexdigest()


def _write(file: Path, record: dict) -> None:
    """Written aside and renamed in: a reader never sees half a file. Not written is no
    harm: the next report scores again."""
    tmp = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, file)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        print(f"trainterm: scores not cached ({e.strerror or e})", file=sys.stderr)
