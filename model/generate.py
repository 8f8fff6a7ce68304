"""Answers and continuations from a model, many prompts at once, in the engine process.

Prompts run as batches, left-padded to the longest, with a key/value cache: a padded row
attends to its own tokens only and counts positions from its first, so it gets the answer it
would get alone (up to float rounding); each row stops at its own stop token.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.chat import prompt_ids, turn_ids


@dataclass(frozen=True)
class Generated:
    ids: tuple[int, ...]  # the new tokens, the stop token excluded
    stopped: bool  # a stop token ended it (rather than the token budget)
    stop_id: int | None = None


@torch.no_grad()
def generate_many(
    model,
    prompts: list[list[int]],
    max_new_tokens: int,
    stop_ids: frozenset[int] | tuple[int, ...],
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
) -> list[Generated]:
    """Greedy (temperature 0) or sampled continuations of every prompt, in prompt order."""
    was_training = model.training
    model.eval()
    context = model.config.context
    stop = torch.tensor(sorted(stop_ids), dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    results: list[Generated | None] = [None] * len(prompts)
    fits = [i for i, ids in enumerate(prompts) if len(ids) + max_new_tokens <= context]
    # Similar lengths side by side: less padding in each batch.
    fits.sort(key=lambda i: len(prompts[i]))
    for lo in range(0, len(fits), batch_size):
        group = fits[lo : lo + batch_size]
        rows = _cached(model, [prompts[i] for i in group], max_new_tokens, stop, temperature,
                       top_k, generator)  # fmt: skip
        for i, row in zip(group, rows, strict=True):
            results[i] = row
    # What outgrows the context slides its window: positions move, so no cache then.
    rest = [i for i in range(len(prompts)) if results[i] is None]
    for i in rest:
        results[i] = _windowed(model, prompts[i], max_new_tokens, stop, temperature, top_k,
                               generator)  # fmt: skip
    model.train(was_training)
    return results  # type: ignore[return-value]


def _cached(model, prompts, max_new_tokens, stop, temperature, top_k, generator):
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
    new = torch.zeros((B, 0), dtype=torch.long)
    finished = torch.zeros(B, dtype=torch.bool)
    stop_at = torch.full((B,), -1, dtype=torch.long)
    for t in range(max_new_tokens):
        next_id = _choose(logits[:, -1, :].float(), temperature, top_k, generator)
        new = torch.cat((new, next_id[:, None]), dim=1)
        hit = torch.isin(next_id, stop) & ~finished
        stop_at[hit] = t
        finished |= hit
        if bool(finished.all()) or t == max_new_tokens - 1:
            break
        real = torch.cat((real, torch.ones((B, 1), dtype=torch.bool)), dim=1)
        positions = positions[:, -1:] + 1
        logits, cache = model.forward_cached(
            next_id[:, None], positions, real[:, None, None], cache
        )
    out = []
    for b, row in enumerate(new.tolist()):
        end = int(stop_at[b])
        out.append(Generated(tuple(row[:end]), True, row[end]) if end >= 0 else
                   Generated(tuple(row), False))  # fmt: skip
    return out


def _windowed(model, prompt, max_new_tokens, stop, temperature, top_k, generator) -> Generated:
    """One prompt whose answer would outgrow the context: the whole window each token."""
    context = model.config.context
    idx = torch.tensor([prompt[-context:]], dtype=torch.long)
    new: list[int] = []
    for _ in range(max_new_tokens):
        window = idx[:, -context:]
        logits = model(window)[:, -1, :].float()
        next_id = _choose(logits, temperature, top_k, generator)
        token = int(next_id[0])
        if bool(torch.isin(next_id, stop)[0]):
            return Generated(tuple(new), True, token)
        new.append(token)
        idx = torch.cat((idx, next_id[:, None]), dim=1)
    return Generated(tuple(new), False)


def _choose(logits, temperature: float, top_k: int | None, generator) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def answer_many(model, tokenizer, questions: list[str], max_new_tokens: int = 48, **kw):
    """Each question through the chat template, answered until <|end|> (or a new turn)."""
    prompts = [prompt_ids(tokenizer, q) for q in questions]
    stops = turn_ids(tokenizer) | {tokenizer.end_id}
    return generate_many(model, prompts, max_new_tokens, stops, **kw)


def continue_many(model, tokenizer, texts: list[str], max_new_tokens: int = 48, **kw):
    """Raw continuations, as a base model is used: no template, stop at end of text."""
    prompts = [tokenizer.encode(t) if t else [tokenizer.eot_id] for t in texts]
    return generate_many(model, prompts, max_new_tokens, {tokenizer.eot_id}, **kw)


def sample_text(model, tokenizer, prompt: str, max_new_tokens: int, seed: int, chat: bool) -> str:
    """One sampled text (temperature 0.8, top-k 40), for the sample pane."""
    if chat and prompt:
        out = answer_many(
            model, tokenizer, [prompt], max_new_tokens, temperature=0.8, top_k=40, seed=seed
        )
    else:
        out = continue_many(
            model, tokenizer, [prompt], max_new_tokens, temperature=0.8, top_k=40, seed=seed
        )
    return tokenizer.decode(out[0].ids)
