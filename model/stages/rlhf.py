"""Stage 3 by RLHF, part 2: the fine-tuned model samples answers and learns from the reward
model's scores, by RLOO (Ahmadian et al. 2024; TRL's RLOOTrainer).

Each step draws B prompts and samples k answers to each with the policy (batched, with a
key/value cache). An answer's reward is the reward model's score less β times its KL to the
frozen fine-tuned model (log π/π_ref summed over the answer) and less a penalty when it
never ends; its advantage is its reward less the mean of the prompt's other k − 1 answers.
The update is REINFORCE on the whole answer: −A · log π(answer). The reward model and the
reference never change.

Everything an answer earns is worked out when it is sampled (no gradient): the loop's own
forward then gives the log-probabilities the gradient flows through.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors.torch import load_model, save_model

from model.chat import prompt_ids, turn_ids
from model.generate import generate_many
from model.objectives import leave_one_out, policy_gradient_loss, token_logps
from model.protocol import RLSample, RLView, Sampler
from model.reward_model import RewardGPT
from model.stages.base import Batch, Stage, StageDataError, pair_fingerprint, token_digest
from model.stages.rl_collapse import COLLAPSE_STEPS, KL_LIMIT, collapse_message
from model.stages.rl_collapse import loops as _loops

REFERENCE_FILE = "reference.safetensors"
REWARD_FILE = "reward_model.safetensors"
# TRL's missing_eos_penalty: the reward model only ever scored answers that end.
MISSING_END_PENALTY = 1.0
# Kinds of pair whose prompts ask the same thing of an answer (a harmful request declined).
PROMPT_GROUPS = {"evasive": "harmful"}


class Prompt(NamedTuple):
    ids: tuple[int, ...]
    text: str
    target: object  # a gold.Target, or None without a judge


@dataclass
class RLBatch(Batch):
    prompts: tuple[Prompt, ...] = ()  # one per row (each prompt k times)
    answers: tuple[str, ...] = ()
    ended: torch.Tensor | None = None  # (N,) bool
    lengths: torch.Tensor | None = None  # (N,) answer tokens
    scores: torch.Tensor | None = None
    kl: torch.Tensor | None = None
    rewards: torch.Tensor | None = None
    advantages: torch.Tensor | None = None
    gold: tuple[float, ...] = ()
    distinct: float = 1.0  # mean share of a prompt's answers that differ
    repeats: float = 0.0  # share of answers that loop on a phrase


class RLHFStage(Stage):
    name = "rlhf"
    lacks = "preference pairs"
    # What scores the answers, as the collapse alarms name it.
    scorer = "the reward model"

    def __init__(
        self, pairs, tokenizer, context: int, settings, reference, reward_model, judge=None,
        gold_set=(),
    ) -> None:  # fmt: skip
        if not pairs:
            raise StageDataError(
                "RLHF samples answers to the preference pairs' prompts; there are none"
            )
        self.tokenizer = tokenizer
        self.context = context
        self.pad_id = tokenizer.end_id
        self.k = settings.samples
        self.beta = settings.beta
        self.max_new = settings.max_answer_tokens
        self.sampler = Sampler(temperature=settings.temperature, seed=0)
        self.stops = turn_ids(tokenizer) | {tokenizer.end_id}
        self.judge = judge
        # The cache key of the reward model, when it is the scenario's default one: part of
        # this run's own key.
        self.reward_key = ""
        self.reference = copy.deepcopy(reference).eval()
        self.reference.requires_grad_(False)
        self.reward_model = self.frozen_reward_model(reward_model, reference)
        seen: dict[str, Prompt] = {}
        kinds: dict[str, str] = {}
        for pair in pairs:
            question = pair.prompt[-1].content if pair.prompt else ""
            if question in seen:
                continue
            kinds[question] = PROMPT_GROUPS.get(pair.kind, pair.kind)
            ids = tuple(prompt_ids(tokenizer, question))
            # Prompt, answer and its end must fit the context, as one training row.
            if len(ids) + self.max_new + 1 > context + 1:
                continue
            target = judge.target_of_pair(pair) if judge is not None else None
            seen[question] = Prompt(ids, question, target)
        if not seen:
            raise StageDataError(
                f"no prompt leaves room for a {self.max_new}-token answer in the context of "
                f"{context} tokens: lower [rlhf] max_answer_tokens"
            )
        self.prompts = list(seen.values())
        # Prompts are drawn kind by kind, each kind as often: the world has three times as
        # many harmful prompts as harmless look-alikes, and RL drawing them as they come
        # taught the policy to refuse the look-alikes too (measured: false refusals 2/20 →
        # 11/20).
        by_kind: dict[str, list[int]] = {}
        for i, prompt in enumerate(self.prompts):
            by_kind.setdefault(kinds[prompt.text], []).append(i)
        self.groups = [by_kind[k] for k in sorted(by_kind)]
        self.gold_set = list(gold_set)
        self.gold_scored: tuple[list[float], list[float] | None] | None = None
        self.model = None
        self._seed = 0
        self._metrics: dict[str, float] = {}
        self._eval_metrics: dict[str, float] = {}
        self._signs: Counter[str] = Counter()
        self._alarm = ""

    @classmethod
    def from_scenario(cls, scenario, tokenizer, context: int, settings, reference=None,
                      reward_model=None):  # fmt: skip
        from model.evals.gold_judge import GoldJudge, gold_prompts

        if reference is None:
            raise StageDataError("RLHF needs the fine-tuned model to start from")

        judge = GoldJudge.from_scenario(scenario)
        gold_set = gold_prompts(scenario) if judge is not None else ()
        return cls(
            scenario.preference_pairs, tokenizer, context, settings, reference, reward_model,
            judge, gold_set,
        )  # fmt: skip

    @classmethod
    def fingerprint_data(cls, scenario) -> list:
        return pair_fingerprint(scenario)

    def frozen_reward_model(self, reward_model, reference):
        """A frozen copy of the model ``answer_scores`` reads: the reward model, or for
        want of one (the data described before there is one) a fresh head on the reference.
        None for a stage whose answers are scored otherwise."""
        model = reward_model if reward_model is not None else RewardGPT.from_model(reference)
        model = copy.deepcopy(model).eval()
        model.requires_grad_(False)
        return model

    def network(self, model):
        self.model = model
        return model

    @property
    def data_tokens(self) -> int:
        return sum(len(p.ids) for p in self.prompts)

    def sample(self, rng: torch.Generator, batch_size: int) -> tuple[int, ...]:
        groups = torch.randint(len(self.groups), (batch_size,), generator=rng).tolist()
        within = torch.rand(batch_size, generator=rng).tolist()
        picks = [
            self.groups[g][int(u * len(self.groups[g]))]
            for g, u in zip(groups, within, strict=True)
        ]
        # The sampling seed comes from the data order's generator: a resumed run samples
        # the same answers it would have.
        self._seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
        return tuple(picks)

    @torch.no_grad()
    def gather(self, picks: tuple[int, ...]) -> RLBatch:
        prompts = tuple(self.prompts[i] for i in picks for _ in range(self.k))
        seeds = [self._seed + j for j in range(len(prompts))]
        out = generate_many(
            self.model, [list(p.ids) for p in prompts], self.max_new, self.stops,
            sampler=self.sampler, seeds=seeds,
        )  # fmt: skip
        rows = [
            p.ids + g.ids + ((g.stop_id,) if g.stopped else ())
            for p, g in zip(prompts, out, strict=True)
        ]
        T = max(len(r) for r in rows) - 1
        N = len(rows)
        x = torch.full((N, T), self.pad_id, dtype=torch.long)
        full = torch.full((N, T + 1), self.pad_id, dtype=torch.long)
        targets = torch.full((N, T), self.pad_id, dtype=torch.long)
        trained = torch.zeros((N, T), dtype=torch.bool)
        for b, (p, r) in enumerate(zip(prompts, rows, strict=True)):
            ids = torch.tensor(r, dtype=torch.long)
            n = len(r) - 1
            full[b, : n + 1] = ids
            x[b, :n], targets[b, :n] = ids[:-1], ids[1:]
            trained[b, len(p.ids) - 1 : n] = True
        ended = torch.tensor([g.stopped and g.stop_id == self.tokenizer.end_id for g in out])
        lengths = torch.tensor([len(g.ids) for g in out])
        was_training = self.model.training
        self.model.eval()
        policy = token_logps(self.model(x), targets)
        self.model.train(was_training)
        ref = token_logps(self.reference(x), targets)
        kl = ((policy - ref) * trained).sum(dim=1)
        last = torch.tensor([len(r) - 1 for r in rows])
        answers = tuple(self.tokenizer.decode(list(g.ids)) for g in out)
        gold = ()
        if self.judge is not None:
            gold = tuple(
                self.judge.score(a, bool(e), p.target)
                for a, e, p in zip(answers, ended.tolist(), prompts, strict=True)
            )
        scores = self.answer_scores(full, last, gold)
        rewards = scores - self.beta * kl - MISSING_END_PENALTY * (~ended).float()
        groups = [answers[i : i + self.k] for i in range(0, N, self.k)]
        distinct = sum((len(set(g)) - 1) / (self.k - 1) for g in groups) / len(groups)
        repeats = sum(_loops(g.ids) for g in out) / N
        return RLBatch(
            x, targets, trained, picks, len(rows[0]) - 1,
            prompts=prompts, answers=answers, ended=ended, lengths=lengths, scores=scores,
            kl=kl, rewards=rewards, advantages=leave_one_out(rewards, self.k), gold=gold,
            distinct=distinct, repeats=repeats,
        )  # fmt: skip

    def answer_scores(self, rows: torch.Tensor, last: torch.Tensor, gold) -> torch.Tensor:
        """What each sampled answer scores before its KL and missing-end penalties, (N,):
        the reward model's reading of the whole conversation ``rows`` (N, T) at its
        ``last`` token. ``gold``: the judge's scores of the same answers (or ())."""
        return self.reward_model.rewards(rows, last)

    def loss(self, logits: torch.Tensor, batch: RLBatch) -> torch.Tensor:
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        per_token = log_probs.gather(-1, batch.targets.unsqueeze(-1)).squeeze(-1)
        logps = (per_token * batch.trained).sum(dim=-1)
        loss = policy_gradient_loss(logps, batch.advantages)
        with torch.no_grad():
            entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
            entropy = float((entropy * batch.trained).sum() / batch.trained.sum().clamp(min=1))
        self._metrics = {
            "reward": float(batch.rewards.mean()),
            "score": float(batch.scores.mean()),
            "kl": float(batch.kl.mean()),
            "entropy": entropy,
            "length": float(batch.lengths.float().mean()),
            "ended": float(batch.ended.float().mean()),
            "distinct": batch.distinct,
            "repeats": batch.repeats,
        }
        if batch.gold:
            # Not "gold": that is the held-out series, measured at each eval.
            self._metrics["batch gold"] = sum(batch.gold) / len(batch.gold)
        self._watch(batch)
        return loss

    def _watch(self, batch: RLBatch) -> None:
        """Count the signs of collapse; one lasting COLLAPSE_STEPS steps raises the alarm."""
        signs = {
            "identical": batch.distinct == 0.0,
            "repeats": batch.repeats >= 0.5,
            "kl": float(batch.kl.mean()) > KL_LIMIT,
        }
        for sign, now in signs.items():
            self._signs[sign] = self._signs[sign] + 1 if now else 0
        for sign in signs:
            if self._signs[sign] >= COLLAPSE_STEPS:
                self._alarm = collapse_message(sign, self.beta, self.scorer)
                self._signs.clear()
                return

    def alarm(self) -> str:
        said, self._alarm = self._alarm, ""
        return said

    def metrics(self) -> dict[str, float]:
        out = {**self._metrics, **self._eval_metrics}
        self._eval_metrics = {}
        return out

    @torch.no_grad()
    def display(self, model, batch: RLBatch, logits: torch.Tensor) -> dict:
        """The first prompt's k answers, with what each earned: the table that changes as
        the policy learns."""
        samples = tuple(
            RLSample(
                text=batch.answers[i],
                score=float(batch.scores[i]),
                kl=float(batch.kl[i]),
                reward=float(batch.rewards[i]),
                advantage=float(batch.advantages[i]),
                ended=bool(batch.ended[i]),
                gold=batch.gold[i] if batch.gold else None,
            )
            for i in range(self.k)
        )
        return {"rl": RLView(batch.prompts[0].text, samples)}

    def held_out(self, model) -> dict[str, float]:
        """The policy's greedy answers to the gold set, scored by the reward model and the
        judge: the two curves that part when RL over-optimises."""
        from model.evals.gold_scores import score_answers

        if not self.gold_set:
            return {}
        gold, scores, answers = score_answers(
            model, self.tokenizer, self.gold_set, self.judge, self.reward_model, self.max_new
        )
        self.gold_scored = (gold, scores)  # the live evals' gold rows, without answering twice
        if scores is None:  # no reward model
            return {"gold": sum(gold) / len(gold)}
        return {"reward model": sum(scores) / len(scores), "gold": sum(gold) / len(gold)}

    def evaluate(self, model, settings) -> dict[str, float]:
        """ "val" is the reward model's mean score on held-out prompts (higher is better);
        "gold" the judge's on the same answers, where the scenario has a judge."""
        measured = self.held_out(model)
        model.train()
        if not measured:
            return {"val": self._metrics.get("score", 0.0)}
        return {"val": measured.pop("reward model"), **measured}

    def digest(self) -> str:
        return token_digest([p.ids for p in self.prompts]) + f":rloo:{self.k}"

    def describe(self) -> str:
        judge = ", a gold judge beside it" if self.judge is not None else ""
        return (
            f"{len(self.prompts):,} prompts of the preference pairs, {self.k} sampled answers "
            f"each, RLOO against the reward model, β {self.beta:g}{judge}"
        )

    def save_extra(self, folder: Path) -> None:
        save_model(self.reference, str(folder / REFERENCE_FILE))
        if self.reward_model is not None:
            save_model(self.reward_model, str(folder / REWARD_FILE))

    def load_extra(self, folder: Path) -> None:
        load_model(self.reference, str(folder / REFERENCE_FILE))
        if self.reward_model is not None:
            load_model(self.reward_model, str(folder / REWARD_FILE))

    # --- evals: beside the scenario's, the reward model's score of the same answers -------

    def evals(self, trainer, scenario, limit: int | None = None):
        from model.evals.stage_evals import run_evals

        return run_evals(
            trainer.model, trainer.tokenizer, scenario, self.name, trainer.state.step, limit,
            reward_model=self.reward_model, gold_scored=self.gold_just_scored(trainer),
        )  # fmt: skip

    def gold_just_scored(self, trainer):
        """The held-out evaluation at this very step (the weights have not moved since)
        answered the gold set already, as long as the evals would: its scores, or None."""
        from model.evals.gold_scores import MAX_ANSWER_TOKENS

        val = trainer.state.val_losses
        if not val or val[-1][0] != trainer.state.step or self.max_new != MAX_ANSWER_TOKENS:
            return None
        return self.gold_scored

    @classmethod
    def saved_evals(cls, loaded, scenario):
        """Its gold and reward rows also say what the fine-tuned model it started from
        scores, from the frozen copy saved with it: the comparison its quality bar is about."""
        from dataclasses import replace

        from model.evals.gold_scores import gold_rows
        from model.evals.stage_evals import run_evals

        reward_model = cls.saved_reward_model(loaded)
        table = run_evals(
            loaded.model, loaded.tokenizer, scenario, loaded.stage, loaded.step,
            reward_model=reward_model,
        )  # fmt: skip
        reference = _frozen(loaded, "reference")
        before = {
            r.key: r.score for r in gold_rows(reference, loaded.tokenizer, scenario, reward_model)
        }
        rows = tuple(
            replace(r, note=f"the fine-tuned model it started from: {before[r.key]:+.2f}")
            if r.key in before
            else r
            for r in table.rows
        )
        return replace(table, rows=rows)

    @classmethod
    def saved_reward_model(cls, loaded):
        """The reward model a saved run scores its answers with, beside the judge (None for
        a stage without one)."""
        return _frozen(loaded, "reward")


def _frozen(loaded, which: str):
    """The reward model or the reference a saved RLHF run keeps beside its weights."""
    from model.gpt import GPT

    network, file = (RewardGPT, REWARD_FILE) if which == "reward" else (GPT, REFERENCE_FILE)
    model = network(loaded.config)
    try:
        load_model(model, str(loaded.path / file))
    except (OSError, ValueError, RuntimeError) as e:
        raise StageDataError(f"{loaded.path}: cannot read its {which} model: {e}") from None
    return model.eval()
