"""`trainterm report DIR`: the report card of a `train --stage all` folder, printed and
written beside the checkpoints as report.md and report.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from model import protocol as p
from model.cli.common import CliError, load_source
from model.cli.eval import _load, check_scenario, evaluate
from model.evals import report_card as card
from model.settings import DEFAULT_THREADS
from model.stages import ORDER


def stage_folders(root: Path) -> list[tuple[str, Path]]:
    if not root.exists():
        raise CliError(f"{root}: no such folder")
    if not root.is_dir():
        raise CliError(f"{root} is not a folder: give the --out folder of `train --stage all`")
    found = [(s, root / s / "checkpoint") for s in ORDER if (root / s).is_dir()]
    if not found:
        raise CliError(
            f"{root} has no stage folders ({', '.join(ORDER)}): is it the --out folder of "
            "`train --stage all`?"
        )
    return found


def run_report(args) -> int:
    if args.seeds is not None:
        from model.cli.seeds import run_seeds

        return run_seeds(args)
    if not args.folder:
        raise CliError("give the --out folder of `train --stage all`, or --seeds 1,2,3")
    root = Path(args.folder)
    found = stage_folders(root)
    # Every checkpoint is read and matched to the scenario before any is scored: a damaged
    # one fails in a second, not after minutes of evals.
    loaded = [_load(str(path)) for _, path in found]
    torch.set_num_threads(args.threads or DEFAULT_THREADS)
    scenario = load_source(args)
    for (stage, path), model in zip(found, loaded, strict=True):
        if model.stage != stage:
            raise CliError(f"{path} holds a {model.stage} model, not {stage}")
        check_scenario(model, scenario, str(path))
    columns = []
    for (stage, path), model in zip(found, loaded, strict=True):
        print(f"trainterm: scoring {stage} ({path})", file=sys.stderr)
        table = evaluate(model, scenario, str(path))
        state = model.meta["state"]
        columns.append(card.column(stage, model.step, model.total_steps, state, table, str(path)))
    report = p.ReportCard(scenario.name, tuple(columns))
    text = card.markdown(report)
    try:
        md, js = card.write(report, root)
    except OSError as e:
        raise CliError(f"cannot write the report card into {root}: {e.strerror or e}") from None
    print(json.dumps(card.as_json(report)) if args.json else text)
    print(f"trainterm: wrote {md} and {js}", file=sys.stderr)
    return 0
