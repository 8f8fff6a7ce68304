"""Live figures for the loop diagram: what each phase of a step really computed."""

from __future__ import annotations

import torch

from model.gpt import GPT
from model.protocol import HeadShares, WeightPatch, WordSplit
from model.tokenizer import Tokenizer

EMBED_DIMS = 8
PATCH = 8
TOP_CHANGES = 5


def merge_trace(ranks: dict[bytes, int], word: bytes) -> tuple[tuple[bytes, ...], ...]:
    """Replay BPE on one word: start from bytes, merge the lowest-ranked pair each round."""
    pieces = [bytes([b]) for b in word]
    trace = [tuple(pieces)]
    while len(pieces) > 1:
        candidates = [
            (ranks[pieces[i] + pieces[i + 1]], i)
            for i in range(len(pieces) - 1)
            if pieces[i] + pieces[i + 1] in ranks
        ]
        if not candidates:
            break
        _, i = min(candidates)
        pieces[i : i + 2] = [pieces[i] + pieces[i + 1]]
        trace.append(tuple(pieces))
    return tuple(trace)


def row_words(tokenizer: Tokenizer, ids: list[int]) -> tuple[WordSplit, ...]:
    """The words of the display row made of two or more tokens, each with its merge trace.

    A word starts at a token that begins with a space or follows punctuation; that is how the
    pre-split regex cuts text before BPE ever sees it.
    """
    spans, start = [], 0
    for i in range(1, len(ids) + 1):
        boundary = i == len(ids) or _starts_word(tokenizer.token_bytes(ids[i]))
        if boundary:
            if i - start > 1:
                spans.append((start, i))
            start = i
    words, ranks = [], tokenizer.ranks
    for lo, hi in spans:
        word = b"".join(tokenizer.token_bytes(t) for t in ids[lo:hi])
        trace = merge_trace(ranks, word)
        merges = tuple(tuple(_show(p) for p in stage) for stage in trace)
        words.append(WordSplit(lo, hi, merges))
    return tuple(words)


def _starts_word(token: bytes) -> bool:
    return token[:1] in (b" ", b"\n", b"\t") or not token[:1].isalnum()


def _show(piece: bytes) -> str:
    return piece.decode("utf-8", "backslashreplace")


@torch.no_grad()
def attention_and_embeddings(model: GPT, row: torch.Tensor) -> tuple[tuple, tuple, tuple]:
    """One sequence through the model again, keeping what SDPA does not return: every
    block's per-head attention as bytes, each head's role shares, the embeddings' start."""
    T = row.numel()
    x = model.tok_emb(row[None]) + model.pos_emb(torch.arange(T))  # (1, T, C)
    embeddings = tuple(tuple(round(v, 4) for v in vec) for vec in x[0, :, :EMBED_DIMS].tolist())
    attention, shares = [], []
    for block in model.blocks:
        weights = block.attn.attention_weights(block.ln_1(x))[0]  # (nh, T, T)
        attention.append((weights * 255).round().to(torch.uint8).numpy().tobytes())
        shares.append(head_shares(weights, row))
        x = block(x)
    return tuple(attention), tuple(shares), embeddings


def head_shares(weights: torch.Tensor, ids: torch.Tensor) -> tuple[HeadShares, ...]:
    """Each head's share of weight on the previous token, the first position and earlier
    copies of the query's own token, averaged over query positions 2 on.

    ``weights``: (nh, T, T), each query's row summing to 1; ``ids``: (T,). From position 2
    on the previous token is not also the first, so the three shares never count the same
    weight twice: one head can give at most one of them a majority.
    """
    nh, T, _ = weights.shape
    if T < 3:
        return tuple(HeadShares(0.0, 0.0, 0.0) for _ in range(nh))
    queries = torch.arange(2, T)
    previous = weights[:, queries, queries - 1].mean(dim=1)  # (nh,)
    sink = weights[:, 2:, 0].mean(dim=1)
    # Earlier copies of each query's token, short of the previous position and the first.
    same = (ids[:, None] == ids[None, :]).tril(diagonal=-2)  # (T, T)
    same[:, 0] = False
    has_copy = same.any(dim=1)
    if has_copy.any():
        copying = (weights * same).sum(dim=-1)[:, has_copy].mean(dim=1)
    else:
        copying = torch.zeros(nh)
    return tuple(
        HeadShares(round(p, 4), round(s, 4), round(c, 4))
        for p, s, c in zip(previous.tolist(), sink.tolist(), copying.tolist(), strict=True)
    )


def patch_sources(model: GPT) -> list[tuple[str, str, int]]:
    """(layer, parameter name, first row) of the matrix whose corner stands for each layer."""
    # Rows 256 on are the first merged tokens: frequent pieces that really move. The output
    # head is the embedding itself (tied), so Logits shows its own part, the final norm.
    first_merge = min(256, model.config.vocab_size - PATCH)
    sources = [("Embed", "tok_emb.weight", first_merge)]
    sources += [
        (f"Block {i + 1}", f"blocks.{i}.attn.qkv.weight", 0) for i in range(len(model.blocks))
    ]
    sources.append(("Logits", "ln_f.bias", 0))
    return sources


@torch.no_grad()
def weight_patches(model: GPT, before: dict[str, torch.Tensor]) -> tuple[WeightPatch, ...]:
    params = dict(model.named_parameters())
    patches = []
    for layer, name, row in patch_sources(model):
        now, old = params[name].detach(), before[name]
        if now.dim() == 1:  # a vector (a norm's bias): fold it into rows of PATCH
            now, old = _fold(now), _fold(old)
            where = f"{name}[:{now.numel()}] as {now.shape[0]}×{PATCH}"
        else:
            where = f"{name}[{row}:{row + PATCH}, :{PATCH}]"
        corner = now[row : row + PATCH, :PATCH]
        delta = (now - old)[row : row + PATCH, :PATCH]
        patches.append(
            WeightPatch(
                layer,
                where,
                tuple(tuple(r) for r in corner.tolist()),
                tuple(tuple(r) for r in delta.tolist()),
            )
        )
    return tuple(patches)


def _fold(vector: torch.Tensor) -> torch.Tensor:
    usable = min(len(vector), PATCH * PATCH) // PATCH * PATCH
    return vector[:usable].view(-1, PATCH)


@torch.no_grad()
def top_changes(model: GPT, before: dict[str, torch.Tensor]) -> tuple[tuple[str, float], ...]:
    ratios = []
    for name, p in model.named_parameters():
        weight = float(p.detach().norm())
        if weight > 0:
            ratios.append((name, float((p.detach() - before[name]).norm()) / weight))
    ratios.sort(key=lambda item: item[1], reverse=True)
    return tuple(ratios[:TOP_CHANGES])
