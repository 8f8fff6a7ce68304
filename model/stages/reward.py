"""Stage 3 by RLHF, part 1: a reward model learns to score the chosen answer above the rejected.

The fine-tuned network gets a scalar head (model/reward_model.py) read at each answer's last
token, and the Bradley–Terry loss −log σ(r_chosen − r_rejected) on the scenario's preference
pairs, as InstructGPT and TRL's RewardTrainer train theirs. A batch holds the B chosen
conversations, then the B rejected ones; every row is the whole conversation (no next token
is predicted), padded after its end, which causal attention keeps from changing the reward.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import torch

from model.chat import render
from model.objectives import bradley_terry_loss
from model.reward_model import RewardGPT
from model.stages.base import (
    Batch,
    Stage,
    StageDataError,
    pair_fingerprint,
    pair_sets,
    token_digest,
)  # fmt: skip

PROBE_KINDS = 5  # held-out pairs whose two answers are scored at every eval, one per kind


class Pair(NamedTuple):
    chosen: tuple[int, ...]  # the whole conversation with the chosen answer, as ids
    rejected: tuple[int, ...]
    kind: str
    prompt: str  # the last user message, for showing


class RewardStage(Stage):
    name = "reward-model"
    network_class = RewardGPT
    lacks = "preference pairs"

    def __init__(self, pairs, held_out, tokenizer, context: int, settings) -> None:
        if not pairs:
            raise StageDataError("a reward model needs chosen / rejected pairs; there are none")
        self.tokenizer = tokenizer
        self.context = context
        self.pad_id = tokenizer.end_id
        kept, self.dropped, val = pair_sets(self._render, pairs, held_out, context)
        if not val and len(kept) >= 2:
            # No held-out pairs in the scenario: hold out the tail of its own.
            n = max(1, int(len(kept) * settings.val_fraction))
            kept, val = kept[:-n], kept[-n:]
        self.pairs = kept
        self.val_pairs = val or kept
        self.model: RewardGPT | None = None
        self._metrics: dict[str, float] = {}
        self._eval_metrics: dict[str, float] = {}

    def _render(self, prompt, chosen: str, rejected: str, kind: str):
        turns = [(m.role, m.content) for m in prompt]
        c = render(self.tokenizer, [*turns, ("assistant", chosen)]).ids
        r = render(self.tokenizer, [*turns, ("assistant", rejected)]).ids
        if max(len(c), len(r)) > self.context:
            return None
        return Pair(c, r, kind, turns[-1][1] if turns else "")

    @classmethod
    def from_scenario(cls, scenario, tokenizer, context: int, settings, reference=None,
                      reward_model=None):  # fmt: skip
        held_out = scenario.evals.get("preference", ())
        return cls(scenario.preference_pairs, held_out, tokenizer, context, settings)

    @classmethod
    def fingerprint_data(cls, scenario) -> list:
        return pair_fingerprint(scenario)

    def network(self, model) -> RewardGPT:
        self.model = RewardGPT.from_model(model)
        return self.model

    @property
    def data_tokens(self) -> int:
        return sum(len(p.chosen) + len(p.rejected) for p in self.pairs)

    def sample(self, rng: torch.Generator, batch_size: int) -> tuple[int, ...]:
        return tuple(torch.randint(len(self.pairs), (batch_size,), generator=rng).tolist())

    def gather(self, picks: tuple[int, ...]) -> Batch:
        return self.pad([self.pairs[i] for i in picks], picks)

    def pad(self, pairs, picks: tuple[int, ...] = ()) -> Batch:
        """Chosen rows, then rejected rows; ``trained`` marks the one position read per row."""
        rows = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        T = max(len(r) for r in rows)
        x = torch.full((len(rows), T), self.pad_id, dtype=torch.long)
        targets = torch.full((len(rows), T), self.pad_id, dtype=torch.long)
        trained = torch.zeros((len(rows), T), dtype=torch.bool)
        for b, ids in enumerate(rows):
            n = len(ids)
            x[b, :n] = torch.tensor(ids, dtype=torch.long)
            targets[b, : n - 1] = x[b, 1:n]
            trained[b, n - 1] = True
        return Batch(x, targets, trained, picks, len(rows[0]))

    def _rewards(self, model: RewardGPT, batch: Batch) -> torch.Tensor:
        # The loop's forward of this batch left its values; if anything ran the model in
        # between (a sample between two phases), the batch is run again.
        return model.rewards(batch.x, batch.trained.int().argmax(dim=1))

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        rewards = self._rewards(self.model, batch)
        B = len(rewards) // 2
        chosen, rejected = rewards[:B], rewards[B:]
        loss = bradley_terry_loss(chosen, rejected)
        r = rewards.detach()
        # TRL RewardTrainer's names for the same figures.
        self._metrics = {
            "loss": float(loss.detach()),
            "accuracy": float((r[:B] > r[B:]).float().mean()),
            "margin": float((r[:B] - r[B:]).mean()),
            "mean_reward": float(r.mean()),
            "min_reward": float(r.min()),
            "max_reward": float(r.max()),
        }
        return loss

    def metrics(self) -> dict[str, float]:
        out = {**self._metrics, **self._eval_metrics}
        self._eval_metrics = {}  # the probe scores go out with the eval step only
        return out

    @torch.no_grad()
    def scores(self, model: RewardGPT, pairs) -> tuple[torch.Tensor, torch.Tensor]:
        """(chosen, rejected) rewards of ``pairs``, (N,) each, in batches."""
        was_training = model.training
        model.eval()
        chosen, rejected = [], []
        for lo in range(0, len(pairs), 32):
            batch = self.pad(pairs[lo : lo + 32])
            r = self._rewards(model, batch)
            B = len(r) // 2
            chosen.append(r[:B])
            rejected.append(r[B:])
        model.train(was_training)
        return torch.cat(chosen), torch.cat(rejected)

    def accuracy_by_kind(self, model: RewardGPT, pairs=None) -> dict[str, tuple[int, int]]:
        """Held-out pairs ranked right, by kind of pair, as (right, total); "" is all of them."""
        pairs = self.val_pairs if pairs is None else pairs
        chosen, rejected = self.scores(model, pairs)
        right = (chosen > rejected).tolist()
        totals, rights = Counter(), Counter()
        for pair, ok in zip(pairs, right, strict=True):
            for key in ("", pair.kind):
                totals[key] += 1
                rights[key] += ok
        return {k: (rights[k], totals[k]) for k in totals}

    def probe_pairs(self):
        """A few held-out pairs, one of each kind: their two answers are scored at each eval."""
        seen, probes = set(), []
        for pair in self.val_pairs:
            if pair.kind not in seen and len(probes) < PROBE_KINDS:
                seen.add(pair.kind)
                probes.append(pair)
        return probes

    def probe_scores(self, model: RewardGPT) -> list[tuple[str, str, float, float]]:
        """(kind, prompt, chosen reward, rejected reward) of each probe pair."""
        probes = self.probe_pairs()
        chosen, rejected = self.scores(model, probes)
        return [
            (p.kind, p.prompt, c, r)
            for p, c, r in zip(probes, chosen.tolist(), rejected.tolist(), strict=True)
        ]

    def evaluate(self, model, settings) -> dict[str, float]:
        chosen, rejected = self.scores(model, self.val_pairs)
        probes = {}
        for kind, _, rc, rr in self.probe_scores(model):
            probes[f"probe/{kind or 'pair'}/chosen"] = rc
            probes[f"probe/{kind or 'pair'}/rejected"] = rr
        self._eval_metrics = probes
        return {
            "val": float(bradley_terry_loss(chosen, rejected)),
            "val accuracy": float((chosen > rejected).float().mean()),
        }

    def digest(self) -> str:
        return token_digest([p.chosen + p.rejected for p in self.pairs])

    def describe(self) -> str:
        cut = f"; {self.dropped:,} longer than the context left out" if self.dropped else ""
        return (
            f"{len(self.pairs):,} chosen / rejected pairs (+{len(self.val_pairs):,} held out), "
            f"Bradley–Terry loss on a reward read at the answer's last token{cut}"
        )

    # --- evals: it answers nothing, so it is scored on how it ranks held-out answer pairs ---

    @classmethod
    def from_saved(cls, loaded, scenario) -> RewardStage:
        """The stage's data for a saved reward model's tokenizer and shape, its network
        attached: what scores it."""
        try:
            data = cls.build(scenario, loaded.tokenizer, loaded.config.context, loaded.settings)
        except StageDataError as e:
            raise StageDataError(f"{loaded.path}: cannot score preference pairs: {e}") from None
        data.network(loaded.model)
        return data

    def ranked(self, model: RewardGPT) -> dict[str, tuple[int, int]]:
        """Eval key → (pairs ranked right, pairs): all of them, then each kind of pair."""
        by_kind = self.accuracy_by_kind(model)
        rows = {"preference": by_kind.pop("")}
        return rows | {f"preference/{kind or 'other'}": v for kind, v in sorted(by_kind.items())}

    def eval_table(self, model: RewardGPT, step: int):
        from model.protocol import EvalRow, EvalTable

        return EvalTable(self.name, step, tuple(
            EvalRow(key, "reward model ranks chosen" + ("" if key == "preference" else
                    f": {key.split('/', 1)[1]}"), right, total)
            for key, (right, total) in self.ranked(model).items()
        ))  # fmt: skip

    def evals(self, trainer, scenario, limit: int | None = None):
        return self.eval_table(trainer.model, trainer.state.step)

    @classmethod
    def saved_evals(cls, loaded, scenario):
        return cls.from_saved(loaded, scenario).eval_table(loaded.model, loaded.step)

    @classmethod
    def print_eval(cls, loaded, scenario, as_json: bool) -> int:
        """Its ranking of held-out pairs by kind, and the rewards of a few probe answers."""
        from model.cli.reward import print_reward_eval

        return print_reward_eval(cls.from_saved(loaded, scenario), loaded, as_json)
