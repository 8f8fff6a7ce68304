"""Stage 2, supervised fine-tuning: conversations through the chat template, loss on answers.

Each example is one conversation; only the assistant's content and its closing <|end|> count
in the loss (model/chat.py). Beside its own held-out loss the stage measures the pretraining
held-out loss too: forgetting, made visible.
"""

from __future__ import annotations

import torch

from model.chat import render
from model.objectives import token_losses
from model.stages.base import Batch, Stage, StageDataError, token_digest, windows_loss


class SFTStage(Stage):
    name = "sft"
    lacks = "fine-tuning data"

    def __init__(
        self,
        conversations,
        tokenizer,
        context: int,
        val_fraction: float,
        pretrain_val: torch.Tensor | None = None,
        pretrain_train: torch.Tensor | None = None,
        mix: int = 0,
    ) -> None:
        if not conversations:
            raise StageDataError("fine-tuning needs conversations, and the scenario has none")
        self.context = context
        self.pad_id = tokenizer.end_id
        self.pretrain_val = pretrain_val
        self.pretrain_train = pretrain_train
        self.mix = mix if pretrain_train is not None else 0
        rendered = []
        for conversation in conversations:
            pairs = [(m.role, m.content) for m in conversation.messages]
            rendered.append(render(tokenizer, pairs))
        kept = [r for r in rendered if len(r.ids) <= context + 1]
        self.dropped = len(rendered) - len(kept)
        self.longest = max(len(r.ids) for r in rendered)
        if not kept:
            raise StageDataError(
                f"every fine-tuning conversation is longer than the context of {context} "
                f"tokens (the shortest has {min(len(r.ids) for r in rendered)}): raise "
                "[model] context or shorten the conversations"
            )
        n_val = max(1, int(len(kept) * val_fraction)) if len(kept) >= 2 else 0
        self.examples = kept[: len(kept) - n_val]
        # With a single conversation there is nothing to hold out: it is its own check.
        self.val_examples = kept[len(kept) - n_val :] or kept
        self._tokens = sum(len(r.ids) for r in kept)

    @classmethod
    def from_scenario(cls, scenario, tokenizer, context: int, settings, reference=None,
                      reward_model=None):  # fmt: skip
        # The corpus's held-out tail measures forgetting; its windows are replayed.
        pretrain = None
        if scenario.corpus:
            from model.stages.pretrain import PretrainStage

            pretrain = PretrainStage.from_corpus(scenario.corpus, tokenizer, context, settings)
        return cls(
            scenario.sft_examples, tokenizer, context, settings.val_fraction,
            pretrain.val_tokens if pretrain is not None else None,
            pretrain.train_tokens if pretrain is not None else None,
            settings.pretrain_mix,
        )  # fmt: skip

    @classmethod
    def fingerprint_data(cls, scenario) -> list:
        return [[(m.role, m.content) for m in c.messages] for c in scenario.sft_examples]

    @property
    def data_tokens(self) -> int:
        return self._tokens

    def sample(self, rng: torch.Generator, batch_size: int) -> tuple[int, ...]:
        """Conversation indices, then (with replay) start offsets of pretraining windows."""
        picks = torch.randint(len(self.examples), (batch_size,), generator=rng).tolist()
        if self.mix:
            high = len(self.pretrain_train) - self.context
            picks += torch.randint(high, (self.mix,), generator=rng).tolist()
        return tuple(picks)

    def gather(self, picks: tuple[int, ...]) -> Batch:
        n = len(picks) - self.mix
        batch = self._pad([self.examples[i] for i in picks[:n]], picks)
        if not self.mix:
            return batch
        # Replayed text is plain pretraining: every position counts, as in stage 1.
        T = batch.x.shape[1]
        starts = torch.tensor(picks[n:], dtype=torch.long)
        window = self.pretrain_train[starts[:, None] + torch.arange(T + 1)]
        return Batch(
            torch.cat([batch.x, window[:, :-1]]),
            torch.cat([batch.targets, window[:, 1:]]),
            torch.cat([batch.trained, torch.ones((len(starts), T), dtype=torch.bool)]),
            picks,
            batch.row_length,
        )

    def _pad(self, examples, picks: tuple[int, ...]) -> Batch:
        T = max(len(r.ids) for r in examples) - 1
        B = len(examples)
        x = torch.full((B, T), self.pad_id, dtype=torch.long)
        targets = torch.full((B, T), self.pad_id, dtype=torch.long)
        trained = torch.zeros((B, T), dtype=torch.bool)
        for b, r in enumerate(examples):
            n = len(r.ids) - 1
            ids = torch.tensor(r.ids, dtype=torch.long)
            x[b, :n] = ids[:-1]
            targets[b, :n] = ids[1:]
            trained[b, :n] = torch.tensor(r.trained[1:], dtype=torch.bool)
        return Batch(x, targets, trained, picks, len(examples[0].ids) - 1)

    def digest(self) -> str:
        return token_digest([r.ids for r in self.examples + self.val_examples])

    def describe(self) -> str:
        cut = (
            f"; {self.dropped:,} longer than the context of {self.context} tokens left out"
            if self.dropped
            else ""
        )
        replay = f"; + {self.mix} windows of pretraining text a batch (replay)" if self.mix else ""
        return (
            f"{len(self.examples):,} conversations (+{len(self.val_examples):,} held out), "
            f"loss on the answers only{replay}{cut}"
        )

    @torch.no_grad()
    def evaluate(self, model, settings) -> dict[str, float]:
        was_training = model.training
        model.eval()
        total, count = 0.0, 0
        size = settings.batch_size
        for lo in range(0, len(self.val_examples), size):
            chunk = self.val_examples[lo : lo + size]
            batch = self._pad(chunk, ())
            losses = token_losses(model(batch.x), batch.y)
            total += float(losses.sum())
            count += batch.trained_tokens
        model.train(was_training)
        result = {"val": total / max(1, count)}
        if self.pretrain_val is not None:
            n = settings.eval_batches * settings.batch_size
            result["pretrain val"] = windows_loss(
                model, self.pretrain_val, self.context, n, settings.batch_size
            )
        return result
