"""What a stage plug-in provides to the one training loop (model/loop.py).

A stage knows its data: how to draw a batch, which positions count in its loss, how to
measure held-out loss, and how to name its data in a checkpoint. The loop knows everything
else: schedule, clipping, divergence, phases, display figures, reports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from model.gpt import GPT
from model.objectives import IGNORE_INDEX, next_token_loss

if TYPE_CHECKING:
    from model.protocol import EvalTable


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
    """Base of the stage plug-ins; subclasses set ``name`` and implement the data methods.

    What the stage is in the lesson (its parent, its needs, its scenario section) is its
    line in model/stages/__init__.py; the class is what it does with its data."""

    name = ""
    # The network its checkpoints hold: a later stage may add to the GPT (a reward head).
    network_class = GPT
    # What the scenario is said to lack when it has no data for the stage ("this
    # scenario has no fine-tuning data.").
    lacks = "data for this stage"

    # --- loading ----------------------------------------------------------------------------

    @classmethod
    def build(cls, source, tokenizer, context: int, settings, reference=None, reward_model=None):
        """The stage's data from ``source``: a scenario (a corpus text is pretraining's only).
        ``reference``: the model the stage starts from, for a stage that keeps it frozen to
        measure against; ``reward_model``: what a stage that needs one optimises (None when
        resuming: the checkpoint holds its own copy)."""
        from model.stages import settings_section

        section = settings_section(cls.name)
        if isinstance(source, str) or not source.has_stage(section):
            missing = "" if isinstance(source, str) else " " + source.missing_for(section)
            raise StageDataError(f"this scenario has no {cls.lacks}.{missing}".rstrip())
        return cls.from_scenario(
            source, tokenizer, context, settings, reference=reference, reward_model=reward_model
        )

    @classmethod
    def from_scenario(cls, scenario, tokenizer, context: int, settings, reference=None,
                      reward_model=None):  # fmt: skip
        raise NotImplementedError

    @classmethod
    def scenario_lacks(cls, scenario) -> str:
        """What else the scenario lacks for this stage, besides the data of its settings
        section (which the registry checks: model.stages.lacking), in a sentence for a
        person; "" when it has it all. Light: called for every stage wherever a tab, a
        Compare column or `train` asks what a scenario can make."""
        return ""

    @classmethod
    def fingerprint_data(cls, scenario) -> list:
        """The scenario's data the stage trains on besides the corpus, as JSON-able items in
        order: what its cache key hashes (model/stage_cache.py). Hashed as it comes from
        the scenario, before any tokenizer: a key is known before anything is trained."""
        return []

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

    # --- evals: a live tab's, the report card's and `trainterm eval`'s ----------------------

    def evals(self, trainer, scenario, limit: int | None = None) -> EvalTable:
        """The evals of ``trainer``'s model as it is now (``self`` is the run's data);
        ``limit`` caps each eval set (a live tab's). The scenario's eval sets by default."""
        from model.evals.stage_evals import run_evals

        return run_evals(
            trainer.model, trainer.tokenizer, scenario, self.name, trainer.state.step, limit
        )

    @classmethod
    def saved_evals(cls, loaded, scenario) -> EvalTable:
        """The evals of a saved model of this stage (a models.LoadedModel), every set whole:
        the same figures as its live run's. StageDataError says why they cannot be had."""
        from model.evals.stage_evals import run_evals

        return run_evals(loaded.model, loaded.tokenizer, scenario, loaded.stage, loaded.step)

    @classmethod
    def print_eval(cls, loaded, scenario, as_json: bool) -> int | None:
        """`trainterm eval` of a saved model, for a stage that prints its own (its exit
        status); None: it prints the eval table as every stage does."""
        return None


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


def pair_fingerprint(scenario) -> list:
    """The preference stages' data for their cache keys: each pair as it is written."""
    return [
        [[(m.role, m.content) for m in p.prompt], p.chosen, p.rejected]
        for p in scenario.preference_pairs
    ]


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
