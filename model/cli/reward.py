"""`trainterm eval` on a reward model: it answers nothing, so it is scored on how it ranks
the scenario's held-out answer pairs, overall and by kind of pair (RewardStage.print_eval)."""

from __future__ import annotations

import json


def print_reward_eval(data, loaded, as_json: bool) -> int:
    """``data``: the reward stage's data for ``loaded`` (RewardStage.from_saved)."""
    rows = data.ranked(loaded.model)
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
