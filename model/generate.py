"""Answers and continuations from a model, many prompts at once, in the engine process.

Prompts of the same length run as one batch (no padding, so a batched answer is exactly the
answer the prompt would get alone); each row stops at its own stop token.
"""

from __future__ import annotations

from collections import defaultdict
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
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, ids in enumerate(prompts):
        by_length[len(ids)].append(i)
    results: list[Generated | None] = [None] * len(prompts)
    generator = torch.Generator().manual_seed(seed)
    for _, members in sorted(by_length.items()):
        for lo in range(0, len(members), batch_size):
            group = members[lo : lo + batch_size]
            idx = torch.tensor([prompts[i][-context:] for i in group], dtype=torch.long)
            start = idx.shape[1]
            finished = torch.zeros(len(group), dtype=torch.bool)
            stop_at = torch.full((len(group),), -1, dtype=torch.long)
            for _ in range(max_new_tokens):
                logits = model(idx[:, -context:])[:, -1, :].float()  # (B, vocab)
                next_id = _choose(logits, temperature, top_k, generator)
                idx = torch.cat((idx, next_id[:, None]), dim=1)
                hit = torch.isin(next_id, stop) & ~finished
                stop_at[hit] = idx.shape[1] - 1
                finished |= hit
                if bool(finished.all()):
                    break
            rows = idx.tolist()
            for j, i in enumerate(group):
                end = int(stop_at[j])
                if end >= 0:
                    results[i] = Generated(tuple(rows[j][start:end]), True, rows[j][end])
                else:
                    results[i] = Generated(tuple(rows[j][start:]), False)
    model.train(was_training)
    return results  # type: ignore[return-value]


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
