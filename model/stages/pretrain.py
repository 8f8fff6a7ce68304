"""Stage 1, pretraining: next-token prediction on random windows of the corpus."""

from __future__ import annotations

import torch

from model.stages.base import Batch, Stage, StageDataError, token_digest, windows_loss


class CorpusTooSmall(StageDataError):
    pass


def split_tokens(tokens: torch.Tensor, context: int, val_fraction: float):
    """Hold out the tail of the corpus for validation; fail plainly when it cannot fill a batch."""
    n_val = max(2, int(len(tokens) * val_fraction))
    needed = context + 1 + n_val
    if len(tokens) < needed:
        raise CorpusTooSmall(
            f"corpus is too small: {len(tokens)} tokens after tokenizing, one batch needs at "
            f"least {needed} (a context window of {context} + 1, plus {n_val} held out)"
        )
    return tokens[:-n_val], tokens[-n_val:]


class PretrainStage(Stage):
    name = "pretrain"

    def __init__(self, tokens: list[int], context: int, val_fraction: float) -> None:
        self.context = context
        self.all_tokens = torch.tensor(tokens, dtype=torch.long)
        self.train_tokens, self.val_tokens = split_tokens(self.all_tokens, context, val_fraction)

    @classmethod
    def from_corpus(cls, corpus: str, tokenizer, context: int, settings) -> PretrainStage:
        return cls(tokenizer.encode(corpus), context, settings.val_fraction)

    @classmethod
    def build(cls, source, tokenizer, context: int, settings, reference=None, reward_model=None):
        """From a scenario's corpus, or from a bare corpus text (tests, benchmarks)."""
        corpus = source if isinstance(source, str) else source.corpus
        return cls.from_corpus(corpus, tokenizer, context, settings)

    @property
    def data_tokens(self) -> int:
        return len(self.all_tokens)

    def sample(self, rng: torch.Generator, batch_size: int) -> tuple[int, ...]:
        high = len(self.train_tokens) - self.context
        return tuple(torch.randint(high, (batch_size,), generator=rng).tolist())

    def gather(self, picks: tuple[int, ...]) -> Batch:
        starts = torch.tensor(picks, dtype=torch.long)
        window = self.train_tokens[starts[:, None] + torch.arange(self.context + 1)]
        x, targets = window[:, :-1], window[:, 1:]  # (B, T) each
        trained = torch.ones_like(x, dtype=torch.bool)
        return Batch(x, targets, trained, picks, self.context)

    def digest(self) -> str:
        return token_digest([self.all_tokens.tolist()])

    def describe(self) -> str:
        return f"{self.data_tokens:,} tokens of raw text, in windows of {self.context}"

    def evaluate(self, model, settings) -> dict[str, float]:
        n = settings.eval_batches * settings.batch_size
        return {"val": windows_loss(model, self.val_tokens, self.context, n, settings.batch_size)}
