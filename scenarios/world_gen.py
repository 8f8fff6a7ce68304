"""Generate the default "world" scenario: a small made-up world and data for every stage.

    python -m scenarios.world_gen            # write scenarios/world/
    python -m scenarios.world_gen --check    # exit 1 if the committed files differ
    python -m scenarios.world_gen --seed 7 --countries 20 --corpus-kb 100 --out /tmp/w
    python -m scenarios.world_gen --harm-kinds 3 --out /tmp/w3   # refuse 3 kinds, not 10

Deterministic: the same arguments give byte-identical files on every machine.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import fields, replace
from pathlib import Path

from .schema import (
    DEFAULT_SEED,
    PREFERENCE_DEFAULTS,
    PRETRAIN_DEFAULTS,
    REWARD_DEFAULTS,
    RLHF_DEFAULTS,
    SFT_DEFAULTS,
    ModelSettings,
)
from .worldgen.chat import make_sft
from .worldgen.corpus import make_corpus
from .worldgen.evals import make_evals, make_probes
from .worldgen.facts import World, and_list, make_world
from .worldgen.harms import HARMFUL, HELD_OUT_HARMFUL, TRAIN_HARMFUL, trained_kinds
from .worldgen.preference import make_preference

# 1,024 tokens, not the default 512: every country's name is then one token, so asking
# about a place means copying one token, and the corpus is 89 k tokens, not 133 k (a step
# reads half as much text again for 7 % more time). Over seeds 1-3 it lifted pretraining-
# only facts 41 -> 60 % (fine-tuned) and 33 -> 53 % (DPO), and look-alikes answered about
# the place asked 20 -> 38 % (DPO): docs/measured.md.
WORLD_VOCAB = 1024

WORLD_DIR = Path(__file__).parent / "world"


def generate_world(
    seed: int = DEFAULT_SEED, n_countries: int = 40, corpus_kb: int = 300,
    harm_kinds: int | None = None,
) -> dict:  # fmt: skip
    """File name → file content for the whole scenario folder. ``harm_kinds``: fine-tuning
    and preference data refuse only the first that many kinds of TRAIN_HARMFUL (as many
    examples, less variety); the corpus, the probes and the eval sets stay as they are, so
    one pretrained model serves every variant (`trainterm harm-curve`)."""
    if n_countries < 8:
        raise ValueError("the world needs at least 8 countries")
    kinds = trained_kinds(harm_kinds)
    world = make_world(seed, n_countries)

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:{part}")  # one stream per file: edits stay local

    evals = make_evals(rng("evals"), world)
    files = {
        "scenario.toml": _manifest(seed, n_countries, corpus_kb, evals, kinds),
        "corpus.txt": make_corpus(rng("corpus"), world, corpus_kb),
        "sft.jsonl": _jsonl(make_sft(rng("sft"), world, kinds)),
        "preference.jsonl": _jsonl(make_preference(rng("preference"), world, kinds)),
        "probes.jsonl": _jsonl(make_probes(world)),
        "FACTS.md": _facts_table(world, seed, kinds),
    }
    for name, records in evals.items():
        files[f"eval_{name}.jsonl"] = _jsonl(records)
    return files


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


# Muon on the blocks' matrices (AdamW on the rest) reaches AdamW's 1,200-step validation
# loss in about 600 steps; 700 steps of it end lower (0.82 against 0.86, seed 1) in about
# 60 % of the time (docs/measured.md).
WORLD_PRETRAIN = replace(PRETRAIN_DEFAULTS, optimizer="muon", steps=700)


def _table(name: str, settings: object, skip: tuple[str, ...] = ()) -> str:
    rows = [f"[{name}]"]
    for f in fields(settings):  # type: ignore[arg-type]
        if f.name not in skip:
            rows.append(f"{f.name} = {_toml_value(getattr(settings, f.name))}")
    return "\n".join(rows) + "\n"


def _manifest(seed: int, n_countries: int, corpus_kb: int, evals: dict, kinds) -> str:
    variant = ""
    if kinds != TRAIN_HARMFUL:
        variant = (f"# A variant: fine-tuning and preference data refuse {len(kinds)} of the "
                   f"{len(TRAIN_HARMFUL)} trained kinds\n# of harm (--harm-kinds {len(kinds)}): "
                   f"{', '.join(kinds)}.\n")  # fmt: skip
    head = f"""\
# The default scenario of trainterm. Written by `python -m scenarios.world_gen`
# (seed {seed}, {n_countries} countries, corpus {corpus_kb} KB): change the generator and run it
# again rather than editing these files. The format is described in scenarios/FORMAT.md.
{variant}name = "world"
description = "A made-up world of {n_countries} countries: learn its facts from text, answer \
questions about them, then answer politely and decline harmful requests."
seed = {seed}

"""
    data = """\
[data]
pretrain = ["corpus.txt"]
sft = "sft.jsonl"
preference = "preference.jsonl"
probes = "probes.jsonl"

[data.evals]
"""
    data += "".join(f'{name} = "eval_{name}.jsonl"\n' for name in evals)
    stages = [
        _table("model", ModelSettings(vocab_size=WORLD_VOCAB)),
        _table("pretrain", WORLD_PRETRAIN, skip=("seed",)),
        _table("sft", SFT_DEFAULTS, skip=("seed",)),
        _table("preference", PREFERENCE_DEFAULTS, skip=("seed",)),
        _table("reward", REWARD_DEFAULTS, skip=("seed",)),
        _table("rlhf", RLHF_DEFAULTS, skip=("seed",)),
    ]
    return head + "\n".join(stages) + "\n" + data


def _facts_table(w: World, seed: int, kinds=TRAIN_HARMFUL) -> str:
    held = {c.name for c in w.held_out}
    rows = [
        f"# The world (seed {seed})",
        "",
        "Generated with the scenario; not read by the loader. *Held out* countries appear in",
        "the pretraining corpus only: never in fine-tuning or preference data.",
        "",
        "| Country | Capital | Language | Animal | Dish | Currency | River | Ruler | Neighbours "
        "| Held out |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in w.countries:
        mark = "yes" if c.name in held else ""
        rows.append(
            f"| {c.name} | {c.capital} | {c.language} | {c.animal} | {c.food} | {c.currency} "
            f"| {c.river} | {c.ruler} | {and_list(c.neighbours)} | {mark} |"
        )
    rows += ["", f"Places that appear nowhere: {', '.join(w.unknown + w.unknown_cities)}.", ""]
    rows += [
        "## Held-out phrasings",
        "",
        "Asked only by the eval sets `finetuned_new` and `pretrain_only_new`: no training file",
        "asks them (what that means: scenarios/FORMAT.md, *The built-in scenario*).",
        "",
        "| Kind | Held out (one of each style: terse, question, request, chatty) |",
        "|---|---|",
    ]
    rows += [f"| {k} | {' · '.join(held)} |" for k, held in w.phrasings.held_out.items()]
    rows += [
        "",
        f"## Kinds of harm ({len(HARMFUL)})",
        "",
        f"Trained (refused in fine-tuning and preference data): {', '.join(kinds)}.",
        "",
    ]
    if kinds != TRAIN_HARMFUL:
        rest = [k for k in TRAIN_HARMFUL if k not in kinds]
        rows += [
            f"Not trained in this variant (`--harm-kinds {len(kinds)}`), though `harmful` and "
            f"`benign` ask them: {', '.join(rest)}.",
            "",
        ]
    rows += [
        f"Held out (`harmful_new`, `benign_new`; told only in the corpus's tales and laws): "
        f"{', '.join(HELD_OUT_HARMFUL)}.",
        "",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scenarios.world_gen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--countries", type=int, default=40)
    parser.add_argument("--corpus-kb", type=int, default=300)
    parser.add_argument(
        "--harm-kinds", type=int, metavar="N",
        help=f"refuse only the first N of the {len(TRAIN_HARMFUL)} trained kinds of harm in "
        "fine-tuning and preference data (as many examples; corpus and evals unchanged)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=WORLD_DIR)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    try:
        files = generate_world(args.seed, args.countries, args.corpus_kb, args.harm_kinds)
    except ValueError as e:  # one line, not argparse's usage above it
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 2
    if args.check:
        stale = [n for n, text in files.items() if not _same(args.out / n, text)]
        extra = (
            sorted(p.name for p in args.out.glob("*") if p.is_file() and p.name not in files)
            if args.out.is_dir()
            else []
        )
        for name in stale:
            print(f"{args.out / name}: differs from the generator's output", file=sys.stderr)
        for name in extra:
            print(f"{args.out / name}: not made by the generator", file=sys.stderr)
        if stale or extra:
            print("run: python -m scenarios.world_gen", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date ({len(files)} files)")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
    total = sum(len(t.encode()) for t in files.values())
    print(f"wrote {len(files)} files, {total / 1024:.0f} KB, to {args.out}")
    return 0


def _same(path: Path, text: str) -> bool:
    try:
        return path.read_bytes() == text.encode("utf-8")
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
