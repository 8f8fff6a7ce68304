"""Answers and continuations from a model, many prompts at once, in the engine process.

Prompts run as batches, left-padded to the longest, with a key/value cache: a padded row
attends to its own tokens only and counts positions from its first, so it gets the answer it
would get alone (up to float rounding); each row stops at its own stop token.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.chat import prompt_ids, turn_ids
from model.protocol import GREEDY, Sampler, TokenChoice
from model.sampling import choose, draw, explain_row, generators, stages


@dataclass(frozen=True)
class Generated:
    ids: tuple[int, ...]  # the new tokens, the stop token excluded
    stopped: bool  # a stop token ended it (rather than the token budget)
    stop_id: int | None = None
    # With ``explain``: why each new token (the stop token too) is the one it is.
    choices: tuple[TokenChoice, ...] = ()


@torch.no_grad()
def generate_many(
    model,
    prompts: list[list[int]],
    max_new_tokens: int,
    stop_ids: frozenset[int] | tuple[int, ...],
    *,
    sampler: Sampler = GREEDY,
    batch_size: int = 64,
    explain=None,
    seeds: list[int] | None = None,
) -> list[Generated]:
    """Continuations of every prompt, in prompt order, drawn by ``sampler`` (greedy by
    default). ``explain``: a token id → text function; each result then says why it chose
    each token. ``seeds``: one per prompt, for draws that differ between repeats of a
    prompt (RL's k samples); else every row is seeded with the sampler's seed."""

    def gens(rows: list[int]) -> list[torch.Generator]:
        if seeds is None:
            return generators(sampler, len(rows))
        return [torch.Generator().manual_seed(seeds[i]) for i in rows]

    was_training = model.training
    model.eval()
    context = model.config.context
    stop = torch.tensor(sorted(stop_ids), dtype=torch.long)
    results: list[Generated | None] = [None] * len(prompts)
    fits = [i for i, ids in enumerate(prompts) if len(ids) + max_new_tokens <= context]
    # Similar lengths side by side: less padding in each batch.
    fits.sort(key=lambda i: len(prompts[i]))
    for lo in range(0, len(fits), batch_size):
        group = fits[lo : lo + batch_size]
        asked = [prompts[i] for i in group]
        rows = _cached(model, asked, max_new_tokens, stop, sampler, explain, gens(group))
        for i, row in zip(group, rows, strict=True):
            results[i] = row
    # What outgrows the context slides its window: positions move, so no cache then.
    for i in [i for i in range(len(prompts)) if results[i] is None]:
        results[i] = _windowed(model, prompts[i], max_new_tokens, stop, sampler, explain, gens([i]))
    model.train(was_training)
    return results  # type: ignore[return-value]


def _pick(logits, sampler: Sampler, gens, explain, traces, finished) -> torch.Tensor:
    """The next token of every row; with ``explain``, the why of each unfinished row too."""
    if explain is None:
        return choose(logits, sampler, gens)
    s = stages(logits, sampler)
    next_id = draw(s.final, sampler, gens)
    for j, drawn in enumerate(next_id.tolist()):
        if not finished[j]:
            traces[j].append(explain_row(s, j, drawn, explain))
    return next_id


def _cached(model, prompts, max_new_tokens, stop, sampler, explain, gens) -> list[Generated]:
    """One batch, left-padded to its longest prompt, generated with a key/value cache: each
    new token costs one position's work, and a padded row sees only its own real tokens."""
    B, W = len(prompts), max(len(ids) for ids in prompts)
    idx = torch.zeros((B, W), dtype=torch.long)
    real = torch.zeros((B, W), dtype=torch.bool)
    for b, ids in enumerate(prompts):  # never empty: a raw continuation starts at <|eot|>
        idx[b, W - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        real[b, W - len(ids) :] = True
    positions = (real.long().cumsum(dim=1) - 1).clamp(min=0)
    causal = torch.ones((W, W), dtype=torch.bool).tril()
    # Each position may also see itself, so that a row of padding has one key to attend
    # to (an all-masked row would be NaN); no real token ever sees padding.
    allowed = (causal & real[:, None, :]) | torch.eye(W, dtype=torch.bool)
    logits, cache = model.forward_cached(idx, positions, allowed[:, None])
    traces: list[list[TokenChoice]] = [[] for _ in range(B)]
    new = torch.zeros((B, max_new_tokens), dtype=torch.long)
    finished = torch.zeros(B, dtype=torch.bool)
    stop_at = torch.full((B,), -1, dtype=torch.long)
    # The rows of the batch still generating: a finished row leaves the batch once a
    # quarter of them have, so one answer that never ends costs its own row's work, not
    # the whole batch's (greedy evals, RL's samples).
    rows = torch.arange(B)
    row_gens, row_traces = gens, traces
    generated = 0
    for t in range(max_new_tokens):
        live = ~finished[rows]
        next_id = _pick(logits[:, -1, :].float(), sampler, row_gens, explain, row_traces, ~live)
        new[rows, t] = next_id
        generated = t + 1
        hit = torch.isin(next_id, stop) & live
        stop_at[rows[hit]] = t
        finished[rows[hit]] = True
        if bool(finished.all()) or t == max_new_tokens - 1:
            break
        live = ~finished[rows]
        if 4 * int((~live).sum()) >= len(rows):
            keep = live.nonzero()[:, 0]
            rows, next_id, positions, real = rows[keep], next_id[keep], positions[keep], real[keep]
            cache = [(k[keep], v[keep]) for k, v in cache]
            kept = keep.tolist()
            row_gens, row_traces = [row_gens[j] for j in kept], [row_traces[j] for j in kept]
        real = torch.cat((real, torch.ones((len(rows), 1), dtype=torch.bool)), dim=1)
        positions = positions[:, -1:] + 1
        logits, cache = model.forward_cached(
            next_id[:, None], positions, real[:, None, None], cache
        )
    out = []
    for b, row in enumerate(new[:, :generated].tolist()):
        end, why = int(stop_at[b]), tuple(traces[b])
        out.append(Generated(tuple(row[:end]), True, row[end], why) if end >= 0 else
                   Generated(tuple(row), False, None, why))  # fmt: skip
    return out


def _windowed(model, prompt, max_new_tokens, stop, sampler, explain, gens) -> Generated:
    """One prompt whose answer would outgrow the context: the whole window each token."""
    context = model.config.context
    idx = torch.tensor([prompt[-context:]], dtype=torch.long)
    traces: list[list[TokenChoice]] = [[]]
    finished = torch.zeros(1, dtype=torch.bool)
    new: list[int] = []
    for _ in range(max_new_tokens):
        logits = model(idx[:, -context:])[:, -1, :].float()
        next_id = _pick(logits, sampler, gens, explain, traces, finished)
        token = int(next_id[0])
        if bool(torch.isin(next_id, stop)[0]):
            return Generated(tuple(new), True, token, tuple(traces[0]))
        new.append(token)
        idx = torch.cat((idx, next_id[:, None]), dim=1)
    return Generated(tuple(new), False, None, tuple(traces[0]))


def answer_many(model, tokenizer, questions: list[str], max_new_tokens: int = 48, **kw):
    """Each question through the chat template, answered until <|end|> (or a new turn)."""
    prompts = [prompt_ids(tokenizer, q) for q in questions]
    stops = turn_ids(tokenizer) | {tokenizer.end_id}
    return generate_many(model, prompts, max_new_tokens, stops, **kw)


def continue_many(model, tokenizer, texts: list[str], max_new_tokens: int = 48, **kw):
    """Raw continuations, as a base model is used: no template, stop at end of text."""
    prompts = [tokenizer.encode(t) if t else [tokenizer.eot_id] for t in texts]
    return generate_many(model, prompts, max_new_tokens, {tokenizer.eot_id}, **kw)


def sample_one(
    model, tokenizer, prompt: str, max_new_tokens: int, sampler: Sampler, chat: bool
) -> Generated:
    """One sample for the screen, with why each of its tokens was chosen."""
    ask = answer_many if chat and prompt else continue_many
    return ask(
        model, tokenizer, [prompt], max_new_tokens, sampler=sampler, explain=tokenizer.token_text
    )[0]
