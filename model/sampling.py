"""The one sampler behind every sample of the app and the CLI: greedy, temperature, top-k,
top-p (nucleus), seed. Runs in the engine process (and the headless CLI).

The order is the one most libraries use (Hugging Face's among them): temperature reshapes
the whole distribution, top-k then keeps the k most likely tokens, top-p keeps the fewest of
those whose probability adds up to p, and one draw from what is left picks the token. Ties
are broken towards the lower token id everywhere, as ``argmax`` breaks them, so greedy and
top-k 1 agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.protocol import Candidate, Sampler, TokenChoice

EXPLAIN_TOP = 8  # candidates a "why this token" record keeps per position


@dataclass(frozen=True)
class Stages:
    """A batch of next-token distributions, (B, vocab) each, as the sampler reshapes them."""

    model: torch.Tensor
    tempered: torch.Tensor
    after_top_k: torch.Tensor
    final: torch.Tensor
    # Which tokens survived each cut (a kept token's probability can still round to 0).
    kept_by_top_k: torch.Tensor
    kept: torch.Tensor
    greedy: bool = False


def top_k_keep(scores: torch.Tensor, k: int) -> torch.Tensor:
    """True for exactly the k highest scores of each row (fewer if the row is shorter)."""
    order = torch.sort(scores, dim=-1, descending=True, stable=True).indices
    keep = torch.zeros_like(scores, dtype=torch.bool)
    return keep.scatter(-1, order[..., : min(k, scores.size(-1))], True)


def top_p_keep(probs: torch.Tensor, p: float) -> torch.Tensor:
    """True for the fewest most likely tokens whose probabilities add up to at least p: a
    token is kept while the mass of the tokens more likely than it is still below p."""
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True, stable=True)
    mass = torch.cumsum(sorted_probs, dim=-1)
    before = torch.cat((torch.zeros_like(mass[..., :1]), mass[..., :-1]), dim=-1)
    keep_sorted = before < p
    keep_sorted[..., 0] = True  # the most likely token always stays
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def _scaled(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    # Shifting by the row's maximum first keeps a tiny temperature finite: the best token
    # stays at 0 and the rest fall towards -inf, which is the limit greedy is.
    top = logits.max(dim=-1, keepdim=True).values
    return (logits - top) / temperature


def stages(logits: torch.Tensor, sampler: Sampler) -> Stages:
    """Each step of the sampler's distribution, for the batch of ``logits`` (B, vocab)."""
    logits = logits.float()
    model = logits.softmax(dim=-1)
    if sampler.greedy:
        best = logits.argmax(dim=-1, keepdim=True)
        only = torch.zeros_like(model, dtype=torch.bool).scatter(-1, best, True)
        point = only.float()
        return Stages(model, point, point, point, only, only, greedy=True)
    scores = _scaled(logits, sampler.temperature)
    tempered = scores.softmax(dim=-1)
    keep_k = torch.ones_like(scores, dtype=torch.bool)
    if sampler.top_k is not None:
        keep_k = top_k_keep(scores, sampler.top_k)
        scores = scores.masked_fill(~keep_k, float("-inf"))
    after_k = scores.softmax(dim=-1)
    keep = keep_k
    if sampler.top_p is not None and sampler.top_p < 1:
        keep = keep_k & top_p_keep(after_k, sampler.top_p)
        scores = scores.masked_fill(~keep, float("-inf"))
    return Stages(model, tempered, after_k, scores.softmax(dim=-1), keep_k, keep)


def generators(sampler: Sampler, rows: int) -> list[torch.Generator]:
    """One generator per row, each seeded alike: a prompt's sample does not depend on what
    else was asked in the same batch."""
    return [torch.Generator().manual_seed(sampler.seed) for _ in range(rows)]


def draw(final: torch.Tensor, sampler: Sampler, gens: list[torch.Generator]) -> torch.Tensor:
    """One token id per row from the sampler's final distributions (B, vocab)."""
    if sampler.greedy:
        return final.argmax(dim=-1)
    rows = [torch.multinomial(final[j : j + 1], 1, generator=g)[:, 0] for j, g in enumerate(gens)]
    return torch.cat(rows)


def choose(logits: torch.Tensor, sampler: Sampler, gens: list[torch.Generator]) -> torch.Tensor:
    """The next token of each row of ``logits`` (B, vocab)."""
    if sampler.greedy:
        return logits.argmax(dim=-1)
    return draw(stages(logits, sampler).final, sampler, gens)


def explain_row(s: Stages, row: int, drawn: int, texts, top: int = EXPLAIN_TOP) -> TokenChoice:
    """What the sampler did at one position of row ``row``: the model's most likely tokens
    (and the drawn one) through each step, and how many tokens each cut left."""
    model = s.model[row]
    ids = torch.sort(model, descending=True, stable=True).indices[:top].tolist()
    if drawn not in ids:
        ids.append(drawn)
    m, t, k, f = (x[row].tolist() for x in (s.model, s.tempered, s.after_top_k, s.final))
    keep_k, keep = s.kept_by_top_k[row], s.kept[row]
    candidates = tuple(
        Candidate(i, texts(i), m[i], t[i], k[i], f[i], _cut(s, bool(keep_k[i]), bool(keep[i])))
        for i in ids
    )
    return TokenChoice(
        drawn_id=drawn,
        drawn_text=texts(drawn),
        candidates=candidates,
        kept_by_top_k=int(keep_k.sum()),
        kept=int(keep.sum()),
        drawn_rank=int((model > model[drawn]).sum()) + 1,
    )


def _cut(s: Stages, by_k: bool, at_all: bool) -> str:
    if at_all:
        return ""
    return "greedy" if s.greedy else "top-p" if by_k else "top-k"
