"""What the headless commands share: one-line errors and exit codes, the arguments that
name a scenario and a sampler, and checks of where results go. Light (no torch): the app's
own command line uses it too."""

from __future__ import annotations

import argparse
import contextlib
import json
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


def _seeds(text: str) -> tuple[int, ...]:
    """ "1,2,3": distinct whole numbers ≥ 0, in the order given."""
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise argparse.ArgumentTypeError("expected seeds separated by commas, e.g. 1,2,3")
    seeds: list[int] = []
    for part in parts:
        try:
            seed = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected whole numbers separated by commas (e.g. 1,2,3), got {part!r}"
            ) from None
        if not 0 <= seed < 2**63:
            raise argparse.ArgumentTypeError(f"a seed is a whole number ≥ 0, got {part}")
        if seed in seeds:
            raise argparse.ArgumentTypeError(f"seed {seed} is given twice")
        seeds.append(seed)
    return tuple(seeds)


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
