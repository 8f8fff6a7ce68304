"""Answers and continuations from a model, many prompts at once, in the engine process.

Prompts of the same length run as one batch (no padding, so a batched answer is exactly the
answer the prompt would get alone); each row stops at its own stop token.
"""

from __future__ import annotations

from collections import defaultdict
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
) -> list[Generated]:
    """Continuations of every prompt, in prompt order, drawn by ``sampler`` (greedy by
    default). ``explain``: a token id → text function; each result then says why it chose
    each token."""
    was_training = model.training
    model.eval()
    context = model.config.context
    stop = torch.tensor(sorted(stop_ids), dtype=torch.long)
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, ids in enumerate(prompts):
        by_length[len(ids)].append(i)
    results: list[Generated | None] = [None] * len(prompts)
    for _, members in sorted(by_length.items()):
        for lo in range(0, len(members), batch_size):
            group = members[lo : lo + batch_size]
            gens = generators(sampler, len(group))
            traces: list[list[TokenChoice]] = [[] for _ in group]
            idx = torch.tensor([prompts[i][-context:] for i in group], dtype=torch.long)
            start = idx.shape[1]
            finished = torch.zeros(len(group), dtype=torch.bool)
            stop_at = torch.full((len(group),), -1, dtype=torch.long)
            for _ in range(max_new_tokens):
                logits = model(idx[:, -context:])[:, -1, :].float()  # (B, vocab)
                if explain is None:
                    next_id = choose(logits, sampler, gens)
                else:
                    s = stages(logits, sampler)
                    next_id = draw(s.final, sampler, gens)
                    for j, drawn in enumerate(next_id.tolist()):
                        if not finished[j]:
                            traces[j].append(explain_row(s, j, drawn, explain))
                idx = torch.cat((idx, next_id[:, None]), dim=1)
                hit = torch.isin(next_id, stop) & ~finished
                stop_at[hit] = idx.shape[1] - 1
                finished |= hit
                if bool(finished.all()):
                    break
            rows = idx.tolist()
            for j, i in enumerate(group):
                end = int(stop_at[j])
                why = tuple(traces[j])
                if end >= 0:
                    results[i] = Generated(tuple(rows[j][start:end]), True, rows[j][end], why)
                else:
                    results[i] = Generated(tuple(rows[j][start:]), False, None, why)
    model.train(was_training)
    return results  # type: ignore[return-value]


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
