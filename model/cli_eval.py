"""`trainterm eval` and `trainterm ask`: a checkpoint's scores, and its answers."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import torch

from model.cli import CliError, load_source
from model.protocol import Sampler
from model.settings import DEFAULT_THREADS


def _load(path: str):
    from model.checkpoint import CheckpointError
    from model.models import load_model

    try:
        return load_model(path)
    except CheckpointError as e:
        raise CliError(str(e)) from None


def run_eval(args) -> int:
    loaded = _load(args.model)
    torch.set_num_threads(args.threads or DEFAULT_THREADS)
    scenario = load_source(args)
    if loaded.stage == "reward-model":
        from model.cli_reward import print_reward_eval

        check_scenario(loaded, scenario, args.model)
        return print_reward_eval(loaded, scenario, args.json)
    table = evaluate(loaded, scenario, args.model)
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
        if r.key == "unknown":
            example = next((a for a in table.answers if a.set == "unknown"), None)
            if example:
                print(f"  e.g. {example.prompt!r} → {example.answer!r}: {r.note}")
    return 0


def evaluate(loaded, scenario, named: str):
    """The evals that fit ``loaded``'s stage, on the whole of each set: what `eval` prints
    and the report card shows."""
    from model.evals import run_evals

    check_scenario(loaded, scenario, named)
    if loaded.stage == "reward-model":  # it answers nothing: it ranks answer pairs
        from model.cli_reward import reward_table

        return reward_table(loaded, scenario)
    preference = _preference_data(scenario, loaded) if loaded.stage == "dpo" else None
    reward_model = _frozen(loaded, "reward") if loaded.stage == "rlhf" else None
    table = run_evals(
        loaded.model, loaded.tokenizer, scenario, loaded.stage, loaded.step,
        preference=preference, reward_model=reward_model,
    )  # fmt: skip
    if loaded.stage == "rlhf":
        table = _beside_fine_tuned(table, loaded, scenario, reward_model)
    return table


def _beside_fine_tuned(table, loaded, scenario, reward_model):
    """RLHF's gold and reward rows say what the fine-tuned model it started from scores,
    from the frozen copy saved with it: the comparison its quality bar is about."""
    from dataclasses import replace

    from model.gold_eval import gold_rows

    before = {
        r.key: r.score
        for r in gold_rows(_frozen(loaded, "reference"), loaded.tokenizer, scenario, reward_model)
    }
    rows = tuple(
        replace(r, note=f"the fine-tuned model it started from: {before[r.key]:+.2f}")
        if r.key in before
        else r
        for r in table.rows
    )
    return replace(table, rows=rows)


def _frozen(loaded, which: str):
    """The reward model or the reference an RLHF checkpoint saved beside its weights."""
    from safetensors.torch import load_model

    from model.gpt import GPT
    from model.reward_model import RewardGPT
    from model.stages.rlhf import REFERENCE_FILE, REWARD_FILE

    network, file = (RewardGPT, REWARD_FILE) if which == "reward" else (GPT, REFERENCE_FILE)
    model = network(loaded.config)
    try:
        load_model(model, str(loaded.path / file))
    except (OSError, ValueError, RuntimeError) as e:
        raise CliError(f"{loaded.path}: cannot read its {which} model: {e}") from None
    return model.eval()


def check_scenario(loaded, scenario, named: str) -> None:
    if loaded.tokenizer.hash != _scenario_tokenizer_hash(scenario, loaded):
        raise CliError(
            f"{named} was not trained on the scenario {scenario.name!r}: name it with --scenario"
        )


def eval_record(loaded, table) -> dict:
    """`eval --json`'s object."""
    return {
        "model": str(loaded.path),
        "stage": loaded.stage,
        "step": loaded.step,
        "val_loss": loaded.last_val_loss,
        "evals": {
            r.key: {"correct": r.correct, "total": r.total, "rate": r.rate}
            | ({"score": r.score} if r.score is not None else {})
            for r in table.rows
        },
    }


def _preference_data(scenario, loaded):
    """The DPO stage's data with the checkpoint's own frozen reference, for its accuracy."""
    from model.pipeline import make_stage
    from model.stages.base import StageDataError

    try:
        data = make_stage(
            "dpo", scenario, loaded.tokenizer, loaded.config, loaded.settings,
            reference=loaded.model,
        )  # fmt: skip
        data.load_extra(loaded.path)
    except (StageDataError, OSError, ValueError) as e:
        raise CliError(f"{loaded.path}: cannot measure preference accuracy: {e}") from None
    return data


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
