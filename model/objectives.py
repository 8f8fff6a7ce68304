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


def sequence_logps(logits: torch.Tensor, targets: torch.Tensor, trained: torch.Tensor):
    """Summed log-probability of each row's trained tokens, (B,): the answer's log-likelihood.

    TRL's per-token log-probs, masked and summed over the answer only.
    """
    return (token_logps(logits, targets) * trained).sum(dim=-1)


def token_logps(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) at every position, (B, T)."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)  # (B, T, vocab)
    return log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """DPO's sigmoid loss −log σ(β·((πc − refc) − (πr − refr))), mean over pairs, and the
    implicit rewards β·(π − ref) of the chosen and rejected answers, (B,) each."""
    chosen_rewards = beta * (policy_chosen - ref_chosen)
    rejected_rewards = beta * (policy_rejected - ref_rejected)
    loss = -F.logsigmoid(chosen_rewards - rejected_rewards).mean()
    return loss, chosen_rewards.detach(), rejected_rewards.detach()


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """The reward model's loss −log σ(r_chosen − r_rejected), mean over pairs: the negative
    log-likelihood of the preferences under the Bradley–Terry model (InstructGPT, TRL)."""
    return -F.logsigmoid(chosen - rejected).mean()


def leave_one_out(rewards: torch.Tensor, k: int) -> torch.Tensor:
    """RLOO's advantages: each of a prompt's ``k`` answers' reward less the mean of the
    other k − 1 (rows grouped by prompt, k at a time), (N,). They sum to zero per prompt."""
    grouped = rewards.view(-1, k)
    others = (grouped.sum(dim=1, keepdim=True) - grouped) / (k - 1)
    return (grouped - others).view(-1)


def policy_gradient_loss(logps: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """REINFORCE on whole answers: −A · log π(answer), mean over answers; its gradient makes
    an answer better than its siblings more likely and a worse one less."""
    return -(advantages.detach() * logps).mean()
