"""Stage 3 by RLVR: RL against a verifiable reward. The same RLOO loop as RLHF
(model/stages/rlhf.py), but an answer's score is the gold judge's (model/evals/gold_judge.py):
rules that check it against the truth of the scenario's world (the right fact, a refusal of
a harmful request and none of a harmless one, a polite and concise answer that ends). No
reward model is learnt, kept or consulted.

The "verifiable rewards" of recent reasoning models (Tülu 3's RLVR, Lambert et al. 2024;
DeepSeek-R1's rule-based rewards, 2025): a reward that checks the truth gives the policy
nothing to please but the truth, as far as its rules reach, where a learnt reward model has
blind spots to find (RLHF's over-optimisation: the reward model's score and the gold score
parting). Its held-out score is the judge's, on the held-out prompts RLHF's gold curve is
measured on, so the two runs' curves read alike.
"""

from __future__ import annotations

import torch

from model.stages.base import StageDataError, pair_fingerprint, token_digest
from model.stages.rlhf import RLBatch, RLHFStage

NO_JUDGE = (
    "RLVR's reward is the gold judge's score, and this scenario has no judge: it needs "
    'refusals to recognise (preference pairs of kind "harmful", or eval_harmful.jsonl) and '
    "an eval set with answers (eval_finetuned.jsonl, eval_harmful.jsonl or eval_benign.jsonl)"
)


class RLVRStage(RLHFStage):
    name = "rlvr"
    scorer = "the gold judge"

    @classmethod
    def scenario_lacks(cls, scenario) -> str:
        from model.evals.gold_judge import GoldJudge

        return "" if GoldJudge.from_scenario(scenario) is not None else NO_JUDGE

    @classmethod
    def from_scenario(cls, scenario, tokenizer, context: int, settings, reference=None,
                      reward_model=None):  # fmt: skip
        from model.evals.gold_judge import GoldJudge, gold_prompts

        judge = GoldJudge.from_scenario(scenario)
        if judge is None:
            raise StageDataError(NO_JUDGE)
        if reference is None:
            raise StageDataError("RLVR needs the fine-tuned model to start from")
        return cls(
            scenario.preference_pairs, tokenizer, context, settings, reference, None, judge,
            gold_prompts(scenario),
        )  # fmt: skip

    @classmethod
    def fingerprint_data(cls, scenario) -> list:
        """The pairs (the prompts it samples; the judge's polite, rude and rambling words and
        its length limit) and the eval sets the judge reads (its refusals, the held-out
        prompts): the judge is the reward, so what it is made of is the recipe's."""
        from model.evals.gold_judge import GOLD_SETS

        return pair_fingerprint(scenario) + [
            [name, [[i.prompt, i.expected, i.kind, i.rejected] for i in scenario.evals[name]]]
            for name, _ in GOLD_SETS
            if scenario.evals.get(name)
        ]

    def frozen_reward_model(self, reward_model, reference):
        return None  # the judge scores the answers

    def answer_scores(self, rows: torch.Tensor, last: torch.Tensor, gold) -> torch.Tensor:
        """The judge's score of each answer: its reward before the KL and missing-end
        penalties."""
        return torch.tensor(gold, dtype=torch.float)

    def loss(self, logits: torch.Tensor, batch: RLBatch) -> torch.Tensor:
        loss = super().loss(logits, batch)
        self._metrics.pop("batch gold", None)  # it is "score" here
        return loss

    def evaluate(self, model, settings) -> dict[str, float]:
        """ "val" is the judge's mean score of the greedy answers to held-out prompts (higher
        is better): RLHF's "gold" series, measured the same way."""
        measured = self.held_out(model)
        model.train()
        return {"val": measured.get("gold", self._metrics.get("score", 0.0))}

    def digest(self) -> str:
        j = self.judge
        judge = [*sorted(j.openings), *sorted(j.rude_words), *sorted(j.ramble_words),
                 j.max_words, *sorted(j.common)]  # fmt: skip
        rows = [(*p.ids, p.target.wants, *p.target.facts) for p in self.prompts]
        held_out = [(q, t.wants, *t.facts) for q, t in self.gold_set]
        return token_digest([*rows, judge, *held_out]) + f":rlvr:{self.k}"

    def describe(self) -> str:
        return (
            f"{len(self.prompts):,} prompts of the preference pairs, {self.k} sampled answers "
            f"each, RLOO against the gold judge's score (no reward model), β {self.beta:g}"
        )

    @classmethod
    def saved_reward_model(cls, loaded):
        return None
