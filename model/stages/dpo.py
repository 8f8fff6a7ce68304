"""Stage 3 by DPO: make the chosen answer more likely than the rejected one, measured against
a frozen copy of the fine-tuned model (the reference), with no reward model and no sampling.

Each pair is two conversations through the chat template, the same prompt with either
answer; a batch holds the B chosen rows, then the B rejected rows (as TRL concatenates
them). Method "dpo+nll" adds the fine-tuning loss on the chosen answer: plain DPO can win
its preference accuracy by pushing rejected answers down while the chosen ones barely move,
which changes what the model says far less than the accuracy suggests.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from safetensors.torch import load_model, save_model

from model.chat import render
from model.objectives import dpo_loss, next_token_loss, sequence_logps
from model.protocol import PairView
from model.stages.base import (
    Batch,
    Stage,
    StageDataError,
    pair_fingerprint,
    pair_sets,
    token_digest,
)  # fmt: skip

REFERENCE_FILE = "reference.safetensors"


def _conversation(prompt, answer: str) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in prompt] + [("assistant", answer)]


class DPOStage(Stage):
    name = "dpo"
    lacks = "preference pairs"

    def __init__(self, pairs, held_out, tokenizer, context: int, settings, reference) -> None:
        if not pairs:
            raise StageDataError("preference tuning needs chosen / rejected pairs; there are none")
        if settings.beta <= 0:
            raise StageDataError(f"beta must be positive, got {settings.beta}")
        self.context = context
        self.tokenizer = tokenizer
        self.pad_id = tokenizer.end_id
        self.beta = settings.beta
        self.nll = settings.method == "dpo+nll"
        self.method = settings.method
        self.reference = copy.deepcopy(reference).eval()
        self.reference.requires_grad_(False)
        kept, self.dropped, val = pair_sets(self._render, pairs, held_out, context)
        self.pairs = kept
        self.val_pairs = val or kept[-max(1, len(kept) // 10) :]
        self._metrics: dict[str, float] = {}

    def _render(self, prompt, chosen: str, rejected: str, kind: str):
        c = render(self.tokenizer, _conversation(prompt, chosen))
        r = render(self.tokenizer, _conversation(prompt, rejected))
        if max(len(c.ids), len(r.ids)) > self.context + 1:
            return None
        return (c, r, kind)

    @classmethod
    def from_scenario(cls, scenario, tokenizer, context: int, settings, reference=None,
                      reward_model=None):  # fmt: skip
        if reference is None:
            raise StageDataError("DPO needs a reference model (the fine-tuned one)")
        held_out = scenario.evals.get("preference", ())
        return cls(scenario.preference_pairs, held_out, tokenizer, context, settings, reference)

    @classmethod
    def fingerprint_data(cls, scenario) -> list:
        return pair_fingerprint(scenario)

    @property
    def data_tokens(self) -> int:
        return sum(len(c.ids) + len(r.ids) for c, r, _ in self.pairs)

    def sample(self, rng: torch.Generator, batch_size: int) -> tuple[int, ...]:
        return tuple(torch.randint(len(self.pairs), (batch_size,), generator=rng).tolist())

    def gather(self, picks: tuple[int, ...]) -> Batch:
        return self._pad([self.pairs[i] for i in picks], picks)

    def _pad(self, pairs, picks) -> Batch:
        rows = [c for c, _, _ in pairs] + [r for _, r, _ in pairs]
        T = max(len(r.ids) for r in rows) - 1
        x = torch.full((len(rows), T), self.pad_id, dtype=torch.long)
        targets = torch.full((len(rows), T), self.pad_id, dtype=torch.long)
        trained = torch.zeros((len(rows), T), dtype=torch.bool)
        for b, r in enumerate(rows):
            n = len(r.ids) - 1
            ids = torch.tensor(r.ids, dtype=torch.long)
            x[b, :n], targets[b, :n] = ids[:-1], ids[1:]
            trained[b, :n] = torch.tensor(r.trained[1:], dtype=torch.bool)
        return Batch(x, targets, trained, picks, len(rows[0].ids) - 1)

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        B = batch.x.shape[0] // 2
        policy = sequence_logps(logits, batch.targets, batch.trained)  # (2B,)
        with torch.no_grad():
            ref = sequence_logps(self.reference(batch.x), batch.targets, batch.trained)
        loss, chosen, rejected = dpo_loss(policy[:B], policy[B:], ref[:B], ref[B:], self.beta)
        metrics = {
            "dpo": float(loss.detach()),
            "rewards/chosen": float(chosen.mean()),
            "rewards/rejected": float(rejected.mean()),
            "rewards/margins": float((chosen - rejected).mean()),
            "rewards/accuracies": float((chosen > rejected).float().mean()),
            "logps/chosen": float(policy[:B].detach().mean()),
            "logps/rejected": float(policy[B:].detach().mean()),
        }
        if self.nll:
            nll = next_token_loss(logits[:B], batch.y[:B])
            metrics["nll"] = float(nll.detach())
            loss = loss + nll
        self._metrics = metrics
        return loss

    def metrics(self) -> dict[str, float]:
        return dict(self._metrics)

    @torch.no_grad()
    def display(self, model, batch: Batch, logits: torch.Tensor) -> dict:
        """Every pair of the batch, each answer token with its log-ratio policy / reference:
        which tokens DPO is pushing up (> 0) and down (< 0)."""
        B = batch.x.shape[0] // 2
        policy = torch.log_softmax(logits.detach().float(), dim=-1)
        ref = torch.log_softmax(self.reference(batch.x).float(), dim=-1)
        t = batch.targets.unsqueeze(-1)
        ratio = (policy.gather(-1, t) - ref.gather(-1, t)).squeeze(-1)  # (2B, T)
        views = []
        for i in range(B):
            chosen = self._tokens(batch, i, ratio)
            rejected = self._tokens(batch, B + i, ratio)
            first = int(batch.trained[i].nonzero()[0]) if batch.trained[i].any() else 0
            prompt = self.tokenizer.decode(batch.x[i, : first + 1].tolist())
            views.append(PairView(prompt, chosen, rejected))
        return {"pairs": tuple(views)}

    def _tokens(self, batch: Batch, row: int, ratio: torch.Tensor):
        where = batch.trained[row].nonzero().flatten().tolist()
        ids = batch.targets[row, where].tolist()
        values = ratio[row, where].tolist()
        return tuple((self.tokenizer.token_text(i), v) for i, v in zip(ids, values, strict=True))

    def digest(self) -> str:
        return token_digest([c.ids + r.ids for c, r, _ in self.pairs]) + f":{self.method}"

    def describe(self) -> str:
        cut = f"; {self.dropped:,} longer than the context left out" if self.dropped else ""
        return (
            f"{len(self.pairs):,} chosen / rejected pairs (+{len(self.val_pairs):,} held out), "
            f"{self.method}, β {self.beta:g}{cut}"
        )

    @torch.no_grad()
    def preference_accuracy(self, model, pairs=None) -> tuple[float, float]:
        """(DPO loss, share of pairs whose implicit reward prefers the chosen answer)."""
        pairs = self.val_pairs if pairs is None else pairs
        was_training = model.training
        model.eval()
        total, right = 0.0, 0
        for lo in range(0, len(pairs), 16):
            batch = self._pad(pairs[lo : lo + 16], ())
            B = batch.x.shape[0] // 2
            policy = sequence_logps(model(batch.x), batch.targets, batch.trained)
            ref = sequence_logps(self.reference(batch.x), batch.targets, batch.trained)
            loss, c, r = dpo_loss(policy[:B], policy[B:], ref[:B], ref[B:], self.beta)
            total += float(loss) * B
            right += int((c > r).sum())
        model.train(was_training)
        return total / len(pairs), right / len(pairs)

    def evaluate(self, model, settings) -> dict[str, float]:
        loss, _ = self.preference_accuracy(model)
        return {"val": loss}

    def save_extra(self, folder: Path) -> None:
        save_model(self.reference, str(folder / REFERENCE_FILE))

    def load_extra(self, folder: Path) -> None:
        load_model(self.reference, str(folder / REFERENCE_FILE))

    # Beside the scenario's evals: the held-out pairs its implicit reward ranks right,
    # measured against its own frozen reference.

    def evals(self, trainer, scenario, limit: int | None = None):
        from model.evals.stage_evals import run_evals

        return run_evals(
            trainer.model, trainer.tokenizer, scenario, self.name, trainer.state.step, limit,
            preference=self,
        )  # fmt: skip

    @classmethod
    def saved_evals(cls, loaded, scenario):
        from model.evals.stage_evals import run_evals

        try:
            data = cls.build(
                scenario, loaded.tokenizer, loaded.config.context, loaded.settings,
                reference=loaded.model,
            )  # fmt: skip
            data.load_extra(loaded.path)  # the checkpoint's own reference
        except (StageDataError, OSError, ValueError) as e:
            raise StageDataError(
                f"{loaded.path}: cannot measure preference accuracy: {e}"
            ) from None
        return run_evals(
            loaded.model, loaded.tokenizer, scenario, loaded.stage, loaded.step, preference=data
        )
