"""`trainterm train`, `eval`, `report`, `ask`, `bench`, `scaling`, `harm-curve`: the headless
commands' parser, and the dispatch to their modules (each loads torch only when it runs). No screen,
no textual."""

from __future__ import annotations

import contextlib
import os
import sys

from model.cli.common import (
    DEFAULT_OUT,
    USAGE_ERROR,
    CliError,
    OneLineParser,
    _non_negative,
    _positive_float,
    _positive_int,
    _seeds,
    add_sampler_args,
    add_source_args,
)
from model.cli.harm_curve import add_parser as add_harm_curve_parser
from model.cli.scaling import add_parser as add_scaling_parser


def build_parser() -> OneLineParser:
    from model.stages import ORDER

    parser = OneLineParser(prog="trainterm", description="Watch a small GPT learn.")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    train = sub.add_parser("train", help="train headless with a progress bar")
    add_source_args(train)
    train.add_argument(
        "--stage",
        default=ORDER[0],
        help=f"{', '.join(ORDER)}, or all (every stage, each from its parent)",
    )
    train.add_argument(
        "--from",
        dest="base",
        metavar="CHECKPOINT",
        help="start a later stage from this model (default: the cached one, trained if missing)",
    )
    train.add_argument("--fresh", action="store_true", help="ignore the stage cache")
    train.add_argument("--method", choices=("dpo+nll", "dpo"), help="DPO's loss (default dpo+nll)")
    train.add_argument(
        "--reward-model",
        metavar="CHECKPOINT",
        help="RLHF's reward model (default: the cached one, trained if missing)",
    )
    train.add_argument(
        "--beta",
        type=_non_negative,
        help="DPO's β, or RLHF's KL weight (0 allowed: over-optimisation); default the scenario's",
    )
    train.add_argument("--steps", type=_positive_int, help="length of the run (lr schedule)")
    train.add_argument("--stop-at", type=_positive_int, help="stop after this step and save")
    train.add_argument("--lr", type=_positive_float, help="peak learning rate")
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--vocab", type=int, help="BPE vocabulary size, specials included")
    train.add_argument("--out", default=DEFAULT_OUT, help="folder for checkpoint + metrics")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a saved run exactly")
    train.add_argument("--save-every", type=_positive_int, help="also checkpoint every N steps")
    evaluate = sub.add_parser("eval", help="score a checkpoint on the scenario's evals")
    add_source_args(evaluate)
    evaluate.add_argument("--model", required=True, metavar="CHECKPOINT")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")
    report = sub.add_parser(
        "report",
        help="the report card of a `train --stage all` folder, or of the pipeline over seeds",
    )
    add_source_args(report)
    report.add_argument(
        "folder", metavar="DIR", nargs="?", help="the --out folder of `train --stage all`"
    )
    report.add_argument(
        "--seeds", type=_seeds, metavar="S,S,…",
        help="train every stage once per seed (or find it in the stage cache) and print each "
        "eval's median and range (min–max) over the seeds",
    )  # fmt: skip
    report.add_argument("--json", action="store_true", help="one JSON object, not the table")
    ask = sub.add_parser("ask", help="answer prompts with a checkpoint (greedy by default)")
    ask.add_argument("--model", required=True, metavar="CHECKPOINT")
    ask.add_argument("--json", action="store_true", help="one JSON object per prompt per line")
    ask.add_argument("--raw", action="store_true", help="continue the text, no chat template")
    ask.add_argument("--max-tokens", type=_positive_int, default=60)
    ask.add_argument("--threads", type=_positive_int, help="torch threads (default 1)")
    add_sampler_args(ask)
    ask.add_argument("prompts", nargs="+", metavar="PROMPT")
    bench = sub.add_parser("bench", help="measure training speed and MFU")
    add_source_args(bench)
    bench.add_argument("--steps", type=_positive_int, default=30, help="timed steps")
    bench.add_argument(
        "--until-loss",
        type=_positive_float,
        metavar="L",
        help="then keep training until the mean of the last 20 losses is below L",
    )
    bench.add_argument("--max-seconds", type=_positive_float, default=300.0)
    bench.add_argument(
        "--tokenizer-kb",
        type=_positive_int,
        metavar="KB",
        help="also time BPE training to 1,024 tokens on a generated corpus of this size",
    )
    bench.add_argument(
        "--optimizers",
        action="store_true",
        help="instead: pretrain with AdamW and with Muon in turn, and compare their "
        "validation loss by step and by seconds",
    )
    bench.add_argument(
        "--optimizer-steps",
        default="1200,700",
        metavar="A,M",
        help="with --optimizers: AdamW's steps and Muon's (default 1200,700)",
    )
    add_scaling_parser(sub)
    add_harm_curve_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "train":
            from model.cli.train import run_train

            return run_train(args)
        if args.command in ("eval", "ask"):
            from model.cli.eval import run_ask, run_eval

            return run_eval(args) if args.command == "eval" else run_ask(args)
        if args.command == "report":
            from model.cli.report import run_report

            return run_report(args)
        if args.command == "bench":
            from model.cli.bench import run_bench

            return run_bench(args)
        if args.command == "scaling":
            from model.cli.scaling import run_scaling

            return run_scaling(args)
        if args.command == "harm-curve":
            from model.cli.harm_curve import run_harm_curve

            return run_harm_curve(args)
        raise CliError("choose a command: train, eval, report, ask, bench, scaling or harm-curve")
    except CliError as e:
        print(f"trainterm: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("trainterm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `trainterm eval … | head`: the reader has seen enough
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 — silence the exit-time flush
        return 0
