"""What a stage plug-in provides to the one training loop (model/loop.py).

A stage knows its data: how to draw a batch, which positions count in its loss, how to
measure held-out loss, and how to name its data in a checkpoint. The loop knows everything
else: schedule, clipping, divergence, phases, display figures, reports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

from model.gpt import GPT
from model.objectives import IGNORE_INDEX, next_token_loss


class StageDataError(ValueError):
    """The scenario's data cannot feed this stage; the message is one line for a person."""


@dataclass
class Batch:
    x: torch.Tensor  # (B, T) token ids seen
    targets: torch.Tensor  # (B, T) the token that really came next
    trained: torch.Tensor  # (B, T) bool: does this prediction count in the loss
    picks: tuple[int, ...]  # what was drawn: window starts, or example indices
    # Real length of row 0 (rows are padded to the longest in the batch).
    row_length: int

    @property
    def y(self) -> torch.Tensor:
        """Targets with the untrained positions set to the ignore index, (B, T)."""
        return self.targets.masked_fill(~self.trained, IGNORE_INDEX)

    @property
    def trained_tokens(self) -> int:
        return int(self.trained.sum())


class Stage:
    """Base of the stage plug-ins; subclasses set ``name`` and implement the data methods."""

    name = ""
    # The stage this one starts from ("" for training from scratch).
    parent = ""
    # The scenario.toml section of its settings, when it is not the stage's own name.
    settings_section = ""
    # The network its checkpoints hold: a later stage may add to the GPT (a reward head).
    network_class = GPT
    # Other finished stages it uses besides its parent (RLHF: the reward model).
    needs: tuple[str, ...] = ()

    def network(self, model: GPT) -> GPT:
        """The network this stage trains, made from the model it starts from (or resumes)."""
        return model

    def sample(self, rng: torch.Generator, batch_size: int) -> tuple[int, ...]:
        raise NotImplementedError

    def gather(self, picks: tuple[int, ...]) -> Batch:
        raise NotImplementedError

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The objective: next-token cross-entropy over the positions that count."""
        return next_token_loss(logits, batch.y)

    @property
    def data_tokens(self) -> int:
        """How many tokens the stage trains on in all (shown by the loop diagram)."""
        raise NotImplementedError

    def digest(self) -> str:
        """Names the data in a checkpoint, so a resume on other data is refused."""
        raise NotImplementedError

    def describe(self) -> str:
        """What the stage trains on, in a sentence."""
        raise NotImplementedError

    def evaluate(self, model, settings) -> dict[str, float]:
        """Held-out losses by series name: "val" always, others as the stage has them."""
        raise NotImplementedError

    def metrics(self) -> dict[str, float]:
        """The stage's own numbers for the step just taken (its loss's parts)."""
        return {}

    def display(self, model, batch: Batch, logits: torch.Tensor) -> dict:
        """Extra display figures for a shown step, as StepReport fields."""
        return {}

    def alarm(self) -> str:
        """Why the run should stop and be looked at now (said once), or ""."""
        return ""

    def save_extra(self, folder) -> None:
        """Anything besides the trained model a resume needs (a frozen reference)."""

    def load_extra(self, folder) -> None:
        pass


def token_digest(rows) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(",".join(map(str, row)).encode())
        h.update(b";")
    return h.hexdigest()


@torch.no_grad()
def windows_loss(model, tokens: torch.Tensor, context: int, n: int, batch_size: int) -> float:
    """Mean next-token loss on ``n`` evenly spaced windows of ``tokens``: the same every time."""
    was_training = model.training
    model.eval()
    T = min(context, len(tokens) - 1)
    starts = torch.linspace(0, len(tokens) - T - 1, n).long()
    window = tokens[starts[:, None] + torch.arange(T + 1)]
    total = 0.0
    for chunk in window.split(batch_size):
        total += next_token_loss(model(chunk[:, :-1]), chunk[:, 1:]).item() * len(chunk)
    model.train(was_training)
    return total / n


def pair_sets(render_one, pairs, held_out, context: int):
    """The preference stages' data: each training pair and each held-out eval pair through
    ``render_one(prompt, chosen, rejected, kind)``, None for one longer than the context.
    Returns (kept, how many were dropped, held-out kept); raises when no pair fits."""
    from scenarios.schema import Message

    rendered = [render_one(p.prompt, p.chosen, p.rejected, p.kind) for p in pairs]
    kept = [r for r in rendered if r is not None]
    if not kept:
        raise StageDataError(
            f"every preference pair is longer than the context of {context} tokens"
        )
    val = [
        render_one((Message("user", i.prompt),), i.expected, i.rejected, i.kind)
        for i in held_out
        if i.rejected
    ]
    return kept, len(rendered) - len(kept), [v for v in val if v is not None]
