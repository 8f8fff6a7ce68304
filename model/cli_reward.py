"""`trainterm eval` on a reward model: it answers nothing, so it is scored on how it ranks
the scenario's held-out answer pairs, overall and by kind of pair."""

from __future__ import annotations

import json

from model.cli import CliError


def reward_stage(scenario, loaded):
    """The reward stage's data for ``loaded``'s tokenizer and shape, its network attached."""
    from model.pipeline import make_stage
    from model.stages.base import StageDataError

    try:
        data = make_stage(
            "reward-model", scenario, loaded.tokenizer, loaded.config, loaded.settings
        )
    except StageDataError as e:
        raise CliError(f"{loaded.path}: cannot score preference pairs: {e}") from None
    data.network(loaded.model)
    return data


def _ranked(data, model) -> dict[str, tuple[int, int]]:
    """Eval key → (pairs ranked right, pairs): all of them, then each kind of pair."""
    by_kind = data.accuracy_by_kind(model)
    rows = {"preference": by_kind.pop("")}
    return rows | {f"preference/{kind or 'other'}": v for kind, v in sorted(by_kind.items())}


def reward_table(loaded, scenario):
    """The reward model's evals as an eval table, for the report card: the same keys and
    figures as `eval --json` prints."""
    from model.protocol import EvalRow, EvalTable

    rows = _ranked(reward_stage(scenario, loaded), loaded.model)
    return EvalTable(loaded.stage, loaded.step, tuple(
        EvalRow(key, "reward model ranks chosen" + ("" if key == "preference" else
                f": {key.split('/', 1)[1]}"), right, total)
        for key, (right, total) in rows.items()
    ))  # fmt: skip


def print_reward_eval(loaded, scenario, as_json: bool) -> int:
    data = reward_stage(scenario, loaded)
    rows = _ranked(data, loaded.model)
    probes = data.probe_scores(loaded.model)
    if as_json:
        report = {
            "model": str(loaded.path),
            "stage": loaded.stage,
            "step": loaded.step,
            "val_loss": loaded.last_val_loss,
            "evals": {
                key: {"correct": right, "total": total, "rate": right / total}
                for key, (right, total) in rows.items()
            },
            "probes": [
                {"kind": k, "prompt": p, "chosen": c, "rejected": r} for k, p, c, r in probes
            ],
        }
        print(json.dumps(report))
        return 0
    val = loaded.last_val_loss
    print(
        f"{loaded.path} · {loaded.stage} · step {loaded.step} · "
        f"val loss {'-' if val is None else f'{val:.3f}'}"
    )
    print("  held-out pairs where the chosen answer scores higher:")
    for key, (right, total) in rows.items():
        label = "all" if key == "preference" else key.split("/", 1)[1]
        print(f"  {label:<10}  {right:>4}/{total:<4} {100 * right / total:5.1f} %")
    print("  rewards of probe answers (chosen / rejected):")
    for kind, prompt, chosen, rejected in probes:
        print(f"  {kind or '-':<10}  {chosen:+6.2f} / {rejected:+6.2f}  {prompt}")
    return 0
