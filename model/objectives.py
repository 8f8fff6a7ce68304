"""Training objectives as small pure functions over logits, targets and masks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Targets set to this index do not count in the loss (prompt tokens in fine-tuning).
IGNORE_INDEX = -100


def token_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """−log p(actual next token) at every position, (B, T); 0 where the target is ignored."""
    B, T, V = logits.shape
    flat = F.cross_entropy(
        logits.reshape(B * T, V),
        targets.reshape(B * T),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )
    return flat.view(B, T)


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the positions that count (stage 2 masks out the prompt)."""
    B, T, V = logits.shape
    return F.cross_entropy(
        logits.reshape(B * T, V), targets.reshape(B * T), ignore_index=IGNORE_INDEX
    )
