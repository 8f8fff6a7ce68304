"""`trainterm eval` and `trainterm ask`: a checkpoint's scores, and its answers."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import torch

from model.cli.common import CliError, load_source
from model.protocol import Sampler
from model.settings import DEFAULT_THREADS


def _load(path: str):
    from model.checkpoint import CheckpointError
    from model.loaded_model import load_model

    try:
        return load_model(path)
    except CheckpointError as e:
        raise CliError(str(e)) from None


def run_eval(args) -> int:
    loaded = _load(args.model)
    torch.set_num_threads(args.threads or DEFAULT_THREADS)
    scenario = load_source(args)
    check_scenario(loaded, scenario, args.model)
    printed = _scored(_plugin(loaded).print_eval, loaded, scenario, args.json)
    if printed is not None:  # a stage that prints its own (the reward model's ranking)
        return printed
    table = _scored(_plugin(loaded).saved_evals, loaded, scenario)
    val = loaded.last_val_loss
    if args.json:
        print(json.dumps(eval_record(loaded, table)))
        return 0
    print(f"{loaded.path} · {loaded.stage} · step {loaded.step} · val loss {_num(val)}")
    width = max((len(r.label) for r in table.rows), default=0)
    for r in table.rows:
        if r.score is not None:
            print(f"  {r.label:<{width}}  {r.score:+.2f} mean of {r.total}  ({r.note})")
            continue
        print(f"  {r.label:<{width}}  {r.correct:>4}/{r.total:<4} {100 * r.rate:5.1f} %")
    for r in table.rows:
        if r.key in ("unknown", "well_formed"):
            example = next((a for a in table.answers if a.set == r.key), None)
            if example:
                print(f"  e.g. {example.prompt!r} → {example.answer!r}: {r.note}")
    return 0


def evaluate(loaded, scenario, named: str):
    """The evals that fit ``loaded``'s stage, on the whole of each set: what `eval` prints
    and the report card shows."""
    check_scenario(loaded, scenario, named)
    return _scored(_plugin(loaded).saved_evals, loaded, scenario)


def _plugin(loaded):
    """The stage plug-in that scores ``loaded``; the plain evals for a stage not known."""
    from model.stages import REGISTRY, stage_class
    from model.stages.base import Stage

    return stage_class(loaded.stage) if loaded.stage in REGISTRY else Stage


def _scored(score, *args):
    from model.stages.base import StageDataError

    try:
        return score(*args)
    except StageDataError as e:
        raise CliError(str(e)) from None


def check_scenario(loaded, scenario, named: str) -> None:
    if loaded.tokenizer.hash != _scenario_tokenizer_hash(scenario, loaded):
        raise CliError(
            f"{named} was not trained on the scenario {scenario.name!r}: name it with --scenario"
        )


def eval_record(loaded, table) -> dict:
    """`eval --json`'s object. The well-formed row also says how many answers broke each
    of its rules ("broken": {"words": …, "repeat": …, "end": …})."""
    from model.evals.well_formed import SET, broken_counts

    return {
        "model": str(loaded.path),
        "stage": loaded.stage,
        "step": loaded.step,
        "val_loss": loaded.last_val_loss,
        "evals": {
            r.key: {"correct": r.correct, "total": r.total, "rate": r.rate}
            | ({"score": r.score} if r.score is not None else {})
            | ({"broken": broken_counts(table.answers)} if r.key == SET else {})
            for r in table.rows
        },
    }


def _scenario_tokenizer_hash(scenario, loaded) -> str:
    from model.pipeline import scenario_tokenizer

    return scenario_tokenizer(scenario, loaded.config.vocab_size).hash


def _num(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def run_ask(args) -> int:
    from model.generate import answer_many, continue_many

    sampler = Sampler(args.temperature, args.top_k, args.top_p, args.seed)
    loaded = _load(args.model)
    torch.set_num_threads(args.threads or DEFAULT_THREADS)
    chat = loaded.is_chat and not args.raw
    ask = answer_many if chat else continue_many
    out = ask(loaded.model, loaded.tokenizer, list(args.prompts), args.max_tokens, sampler=sampler)
    for prompt, generated in zip(args.prompts, out, strict=True):
        answer = loaded.tokenizer.decode(generated.ids)
        if args.json:
            print(
                json.dumps(
                    {
                        "prompt": prompt,
                        "answer": answer,
                        "stage": loaded.stage,
                        "template": chat,
                        "stopped": generated.stopped,
                        "sampler": asdict(sampler),
                    }
                )
            )
        else:
            print(f"> {prompt}\n{answer}\n", file=sys.stdout)
    return 0
