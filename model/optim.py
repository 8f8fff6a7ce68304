"""The optimizers a stage trains with: AdamW, or Muon on the blocks' weight matrices with
AdamW on the rest (embeddings, norms, biases), as nanochat and modded-nanogpt do.

Muon is torch's own (``torch.optim.Muon``), with Moonshot's learning-rate adjustment
(``match_rms_adamw``): its update has AdamW's size, so a stage's ``lr`` and schedule serve
both. Measured on the world's pretraining (docs/measured.md): Muon reaches AdamW's
1,200-step validation loss in about 600 steps.
"""

from __future__ import annotations

import torch

BETAS = (0.9, 0.95)


def _adamw(params_decay, params_no_decay, settings) -> torch.optim.AdamW:
    groups = [
        {"params": params_decay, "weight_decay": settings.weight_decay},
        {"params": params_no_decay, "weight_decay": 0.0},
    ]
    # Fused AdamW on CPU cut the optimizer step 2.4-2.9x here (docs/architecture.md).
    return torch.optim.AdamW(groups, lr=settings.lr, betas=BETAS, fused=True)


def _muon_owns(name: str, param: torch.nn.Parameter) -> bool:
    """The hidden layers' matrices; embeddings (tied to the output head) stay with AdamW."""
    return param.dim() == 2 and name.startswith("blocks.")


def make_optimizer(model: torch.nn.Module, settings) -> torch.optim.Optimizer | MuonAdamW:
    """``settings.optimizer``'s optimizer for ``model``. Norms, biases and embeddings are not
    decayed, as in nanoGPT."""
    muon = settings.optimizer == "muon"
    matrices, decay, no_decay = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if muon and _muon_owns(name, p):
            matrices.append(p)
        elif p.dim() >= 2 and "emb" not in name:
            decay.append(p)
        else:
            no_decay.append(p)
    adamw = _adamw(decay, no_decay, settings)
    if not muon or not matrices:
        return adamw
    orthogonal = torch.optim.Muon(
        matrices, lr=settings.lr, weight_decay=settings.weight_decay,
        adjust_lr_fn="match_rms_adamw",
    )  # fmt: skip
    return MuonAdamW(orthogonal, adamw)


class MuonAdamW:
    """Muon and AdamW stepped as one optimizer: the trainer's schedule sets every group's
    learning rate, a checkpoint saves and restores both."""

    def __init__(self, muon: torch.optim.Muon, adamw: torch.optim.AdamW) -> None:
        self.muon = muon
        self.adamw = adamw

    @property
    def param_groups(self) -> list[dict]:
        return [*self.muon.param_groups, *self.adamw.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.muon.zero_grad(set_to_none=set_to_none)
        self.adamw.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.muon.step()
        self.adamw.step()

    def state_dict(self) -> dict:
        return {"muon": self.muon.state_dict(), "adamw": self.adamw.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if set(state) != {"muon", "adamw"}:
            raise ValueError("the checkpoint's optimizer state is not Muon's and AdamW's")
        self.muon.load_state_dict(state["muon"])
        self.adamw.load_state_dict(state["adamw"])


def optimizer_words(settings) -> str:
    """The optimizer as the Model pane names it."""
    beta1, beta2 = BETAS
    adamw = f"AdamW β=({beta1}, {beta2}) wd {settings.weight_decay}"
    if settings.optimizer == "muon":
        return f"Muon + {adamw}"
    return adamw
