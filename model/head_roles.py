"""What an attention head's measured shares make it, and the step a previous-token head was
first seen. Plain Python over the protocol's figures (no torch): the screen names roles with
it, and the engine computes the shares it reads (model.loop_figures.head_shares).

A head earns a role when one share is a majority of its weight, averaged over the row:
above ROLE_SHARE. The shares are disjoint parts of weights that sum to 1, so a majority is
one role at most, and it is far from chance: uniform attention over a 128-token row gives
the previous token 3 % on average (``chance_previous``), so a previous-token head at 50 %
is looking there about sixteen times as often as a head that looks nowhere in particular.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.protocol import HeadShares, LoopFigures

ROLE_SHARE = 0.5
# (the share's field, the role's name), in the order ties are broken.
ROLES = (("previous", "previous-token"), ("sink", "sink"), ("copying", "copying"))


def role(shares: HeadShares) -> str:
    """The role a head's shares earn ("previous-token", "sink", "copying"), or ""."""
    field, name = max(ROLES, key=lambda r: getattr(shares, r[0]))
    return name if getattr(shares, field) > ROLE_SHARE else ""


def chance_previous(length: int) -> float:
    """The previous-token share of a head that spreads its weight evenly: query t (from 2
    on, as the shares count) gives each of its t + 1 positions 1 / (t + 1)."""
    queries = range(2, length)
    return sum(1 / (t + 1) for t in queries) / len(queries) if queries else 0.0


@dataclass(frozen=True)
class HeadAt:
    """One head of the model and its previous-token share at a step (block, head: from 0)."""

    step: int
    block: int
    head: int
    share: float


def strongest_previous(figures: LoopFigures) -> HeadAt | None:
    """The head whose weight goes most to the previous token this step."""
    best: HeadAt | None = None
    for b, heads in enumerate(figures.head_shares):
        for h, shares in enumerate(heads):
            if best is None or shares.previous > best.share:
                best = HeadAt(figures.step, b, h, shares.previous)
    return best


def formed(before: HeadAt | None, figures: LoopFigures) -> HeadAt | None:
    """The first previous-token head seen: ``before`` once there is one (a head that dips
    under the bar again does not un-form it: the pane says when it happened), else this
    step's strongest if it passes ROLE_SHARE."""
    if before is not None:
        return before
    best = strongest_previous(figures)
    return best if best is not None and best.share > ROLE_SHARE else None
