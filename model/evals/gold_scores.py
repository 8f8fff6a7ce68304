"""The gold judge's and the reward model's scores of a model's answers to held-out prompts:
what RLHF's chart plots, and the rows `eval`, the live tabs and the report card show."""

from __future__ import annotations

import torch

from model.chat import prompt_ids
from model.evals.gold_judge import GoldJudge, gold_prompts
from model.generate import answer_many
from model.protocol import EvalRow

# Room for the longest answer the world's fine-tuning teaches (a postcard: 61 tokens at the
# world's vocabulary of 1,024, 72 at 512): an eval that cut a taught answer short would
# blame the model for its own cap.
MAX_ANSWER_TOKENS = 80


@torch.no_grad()
def score_answers(model, tokenizer, gold_set, judge, reward_model=None, max_new=MAX_ANSWER_TOKENS):
    """Greedy answers to ``gold_set`` [(prompt, Target)]: (gold scores, reward-model scores
    or None, answers)."""
    out = answer_many(model, tokenizer, [q for q, _ in gold_set], max_new)
    answers = [tokenizer.decode(list(g.ids)) for g in out]
    gold = [
        judge.score(a, g.stopped and g.stop_id == tokenizer.end_id, target)
        for a, g, (_, target) in zip(answers, out, gold_set, strict=True)
    ]
    if reward_model is None:
        return gold, None, answers
    context = reward_model.config.context
    rows = [
        (prompt_ids(tokenizer, q) + list(g.ids) + [tokenizer.end_id])[:context]
        for (q, _), g in zip(gold_set, out, strict=True)
    ]
    x = torch.full((len(rows), max(map(len, rows))), tokenizer.end_id, dtype=torch.long)
    for b, r in enumerate(rows):
        x[b, : len(r)] = torch.tensor(r, dtype=torch.long)
    was_training = reward_model.training
    reward_model.eval()
    scores = reward_model.rewards(x, torch.tensor([len(r) - 1 for r in rows])).tolist()
    reward_model.train(was_training)
    return gold, scores, answers


def gold_rows(model, tokenizer, scenario, reward_model=None, scored=None) -> list[EvalRow]:
    """The "gold" row (and "reward", given a reward model) of a chat model's evals; none for
    a scenario without a gold judge. ``scored``: (gold, reward-model scores) of this very
    model's answers to the gold set, already measured (RLHF's held-out evaluation)."""
    judge = GoldJudge.from_scenario(scenario)
    if judge is None:
        return []
    gold_set = gold_prompts(scenario)
    if not gold_set:
        return []
    if scored is None:
        gold, scores, _ = score_answers(model, tokenizer, gold_set, judge, reward_model)
    else:
        gold, scores = scored
    rows = [
        EvalRow(
            "gold", "gold score", sum(g > 0 for g in gold), len(gold),
            "the rule judge that knows the world: right fact, refusal or answer, polite, "
            "concise, ended (−2 … +1)",
            score=sum(gold) / len(gold),
        )
    ]  # fmt: skip
    if scores is not None:
        rows.append(
            EvalRow(
                "reward", "reward model score", sum(s > 0 for s in scores), len(scores),
                "the learnt proxy RL optimises, on the same answers",
                score=sum(scores) / len(scores),
            )
        )  # fmt: skip
    return rows
