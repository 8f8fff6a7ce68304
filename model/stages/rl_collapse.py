"""The signs that RL has collapsed, and what the alarm says: a policy whose answers to a
prompt are all the same (nothing to learn from), that loops on a phrase (it found something
its scorer likes that is not language), or that has run away from the model it started from
(its KL). Counted by the RL stages (model/stages/rlhf.py) step by step."""

from __future__ import annotations

from collections import Counter

# How many steps in a row a sign must last, and where KL has run away (nats).
COLLAPSE_STEPS = 3
KL_LIMIT = 40.0


def loops(ids: tuple[int, ...], n: int = 3, times: int = 3) -> bool:
    """Does the answer say the same n tokens ``times`` times or more (a degenerate loop)?"""
    grams = Counter(ids[i : i + n] for i in range(len(ids) - n + 1))
    return bool(grams) and max(grams.values()) >= times


def collapse_message(sign: str, beta: float, scorer: str = "the reward model") -> str:
    """What happened, in a sentence, and what to change; ``scorer``: what scores answers."""
    if sign == "identical":
        return (
            "RL collapsed: every prompt's answers have been identical for "
            f"{COLLAPSE_STEPS} steps, so no answer beats another and nothing is learnt. "
            "Raise β (it keeps the policy near the fine-tuned model) or the temperature, "
            "or lower the learning rate, and reset."
        )
    if sign == "repeats":
        return (
            f"RL collapsed: half the answers loop on a phrase, {COLLAPSE_STEPS} steps running: "
            f"the policy found something {scorer} likes that is not language. "
            f"Raise β (now {beta:g}) or lower the learning rate, and reset."
        )
    return (
        f"RL ran away: the answers' KL to the fine-tuned model passed {KL_LIMIT:g} nats for "
        f"{COLLAPSE_STEPS} steps: the policy no longer talks like the model it started from. "
        f"Raise β (now {beta:g}) or lower the learning rate, and reset."
    )
