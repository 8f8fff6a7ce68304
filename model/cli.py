"""Headless commands: `trainterm train`, `eval`, `report`, `ask`, `bench`. No screen, no textual."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

USAGE_ERROR = 2
DEFAULT_OUT = "runs/pretrain"
DIVERGED = 3


class CliError(Exception):
    """A one-line problem with what the user asked for; exits with code 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage over several lines
        raise CliError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _number(accept, rule: str):
    """An argparse type: a float that ``accept`` takes, else "must be ``rule``"."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return parse


_positive_float = _number(lambda v: 0 < v < float("inf"), "a positive number")
_non_negative = _number(lambda v: 0 <= v < float("inf"), "0 or a positive number")
_temperature = _number(lambda v: 0 <= v < float("inf"), "0 (greedy) or a positive number")
_top_p = _number(lambda v: 0 < v <= 1, "in (0, 1]")


def add_sampler_args(parser: argparse.ArgumentParser) -> None:
    sampling = parser.add_argument_group("sampling (greedy unless --temperature is above 0)")
    sampling.add_argument(
        "--temperature", type=_temperature, default=0.0, metavar="T",
        help="divide the logits by T before the draw; 0 is greedy (default)",
    )  # fmt: skip
    sampling.add_argument(
        "--top-k", type=_positive_int, metavar="K", help="draw only from the K most likely tokens"
    )
    sampling.add_argument(
        "--top-p", type=_top_p, metavar="P",
        help="draw only from the fewest most likely tokens holding probability P",
    )  # fmt: skip
    sampling.add_argument("--seed", type=int, default=0, metavar="S", help="the draw's seed")


def add_source_args(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scenario", metavar="DIR", help="scenario folder (default: world)")
    source.add_argument("--corpus", metavar="FILE", help="a plain UTF-8 text file to pretrain on")
    parser.add_argument("--threads", type=_positive_int, help="torch threads (default 1)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")


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
    report = sub.add_parser("report", help="the report card of a `train --stage all` folder")
    add_source_args(report)
    report.add_argument("folder", metavar="DIR", help="the --out folder of `train --stage all`")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "train":
            from model.cli_train import run_train

            return run_train(args)
        if args.command in ("eval", "ask"):
            from model.cli_eval import run_ask, run_eval

            return run_eval(args) if args.command == "eval" else run_ask(args)
        if args.command == "report":
            from model.cli_report import run_report

            return run_report(args)
        if args.command == "bench":
            from model.cli_bench import run_bench

            return run_bench(args)
        raise CliError("choose a command: train, eval, report, ask or bench")
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


def load_source(args):
    """The scenario named by --scenario/--corpus (or the default), or a CliError."""
    from scenarios import ScenarioError, corpus_scenario, default_scenario, load_scenario

    try:
        if args.corpus:
            return corpus_scenario(args.corpus)
        if args.scenario:
            return load_scenario(args.scenario)
        return default_scenario()
    except ScenarioError as e:
        raise CliError(str(e)) from None


def check_writable(out: Path) -> None:
    """Fail before training, not after, when results could not be written.

    Tried for real (make the folder, write and remove a probe file): `os.access` says yes
    to root even where the kernel says no (/proc, /sys, a read-only mount). A folder made
    only for the probe is removed again, so a refused run leaves nothing behind.
    """
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CliError(f"--out {out}: {existing} is not a folder")
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".trainterm-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise CliError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    finally:
        if made:
            _remove_empty(out, existing)


def _remove_empty(folder: Path, stop: Path) -> None:
    with contextlib.suppress(OSError):
        while folder != stop and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def append_jsonl(path: Path, record: dict) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
