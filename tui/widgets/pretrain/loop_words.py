"""Plain words for each box of the training-loop diagram, filled with the live numbers.

Pure functions from the step's figures to rich Text, so they are tested without a screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

from model.head_roles import role
from model.protocol import LoopFigures
from tui.widgets.common.formatting import bar, count, sci, token_display

DIM = "dim"
BOLD = "bold"


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    phase: str


def loop_nodes(n_layer: int) -> tuple[Node, ...]:
    """The loop in the order data travels round it."""
    return (
        Node("corpus", "Corpus", "sample"),
        Node("batch", "Batch", "sample"),
        Node("tokenize", "Tokenizer", "tokenize"),
        Node("embed", "Embed", "forward"),
        *(Node(f"block{i}", f"Block {i}", "forward") for i in range(1, n_layer + 1)),
        Node("logits", "Logits", "forward"),
        Node("predict", "Prediction", "forward"),
        Node("loss", "Loss", "loss"),
        Node("grad", "∇ Gradients", "backward"),
        Node("optimizer", "Optimizer", "update"),
    )


def node_figure(node: Node, f: LoopFigures | None, position: int, vocab: int, d_model: int) -> str:
    """The one live figure a box shows, or '' before its phase has run this step."""
    if f is None:
        return ""
    key = node.key
    if key == "corpus" and f.corpus_tokens:
        return count(f.corpus_tokens)
    if key == "batch" and f.starts:
        return f"{f.batch_shape[0]}×{f.batch_shape[1]}"
    if key == "tokenize" and f.row_ids:
        return " ".join(str(i) for i in f.row_ids[:2]) + "…"
    if key == "embed" and f.embeddings:
        return f"d{d_model}"
    if key.startswith("block") and f.head_attention:
        peak = _attention_peak(f, int(key[5:]) - 1, position)
        return f"→{token_display(f.row_texts[peak]).strip()[:7] or '·'}" if peak is not None else ""
    if key == "logits" and f.row:
        return f"{vocab} scores"
    if key == "predict" and f.row:
        p = f.row[_clamp(position, f.row)]
        return f"{token_display(p.top[0].text).strip() or '·'} {p.top[0].prob:.0%}"
    if key == "loss" and f.loss is not None:
        return f"{f.loss:.3f}"
    if key == "grad" and f.grad_norm is not None:
        return f"{f.grad_norm:.2f}"
    if key == "optimizer" and f.lr is not None:
        return f"lr {sci(f.lr)}"
    return ""


def _clamp(position: int, row) -> int:
    return max(0, min(position, len(row) - 1))


def head_row(f: LoopFigures, block: int, head: int, position: int) -> list[float]:
    """How much one head of a block attended, from the selected position, to each position
    up to itself (sums to ~1); [] before the forward phase or past the model's heads."""
    T = len(f.row_ids) or f.batch_shape[1]
    if block >= len(f.head_attention) or T == 0 or not 0 <= head < heads_in(f, block):
        return []
    position = max(0, min(position, T - 1))
    start = (head * T + position) * T
    return [b / 255 for b in f.head_attention[block][start : start + position + 1]]


def heads_in(f: LoopFigures, block: int) -> int:
    T = len(f.row_ids) or f.batch_shape[1]
    if block >= len(f.head_attention) or T == 0:
        return 0
    return len(f.head_attention[block]) // (T * T)


def attention_row(f: LoopFigures, block: int, position: int) -> list[float]:
    """How much the selected position attended to each position up to itself, averaged over
    the block's heads (sums to ~1)."""
    rows = [head_row(f, block, h, position) for h in range(heads_in(f, block))]
    if not rows:
        return []
    return [sum(column) / len(rows) for column in zip(*rows, strict=True)]


def _attention_peak(f: LoopFigures, block: int, position: int) -> int | None:
    row = attention_row(f, block, position)
    if not row:
        return None
    return max(range(len(row)), key=row.__getitem__)


def explain(node: Node, f: LoopFigures | None, position: int, n_layer: int) -> Text:
    """The explanation panel for one box: what it does, then this step's numbers."""
    text = Text()
    text.append(INTRO[node.key.rstrip("0123456789")] + "\n\n")
    if f is None or PHASE_ORDER.index(f.phase) < PHASE_ORDER.index(node.phase):
        text.append(
            f"This step has not reached the {node.phase} phase yet: press p to run the next phase, "
            "n for a whole step.",
            DIM,
        )
        return text
    body = _BODIES[node.key.rstrip("0123456789")]
    body(text, node, f, position)
    return text


PHASE_ORDER = ("", "sample", "tokenize", "forward", "loss", "backward", "update")

INTRO = {
    "corpus": "The corpus is all the text the model learns from, cut once into tokens. "
    "Training never reads it in order: each step samples random windows from it.",
    "batch": "A batch is a handful of windows of the corpus, each one context long. "
    "The model learns from all of them at once, then the next step samples new ones.",
    "tokenize": "The tokenizer turns text into ids. It starts from bytes and applies the "
    "merges it learnt from this corpus (byte-pair encoding): frequent pieces become one token.",
    "embed": "Embedding: each token id picks a row of a learnt table, a vector of numbers. "
    "A second table adds where in the window the token stands. That vector enters Block 1.",
    "block": "A block lets every position look back at the earlier ones (attention), then "
    "thinks about what it gathered (an MLP), and adds its findings to the position's vector. "
    "Attention works in heads. Each head makes of every token a query (what it looks for) "
    "and a key (what it offers); a query's match with each earlier key, through a softmax, "
    "becomes weights that sum to 1, and the head brings back that weighted mix of the "
    "earlier tokens. Heads learn jobs of their own: one may look at the token just before "
    "(a previous-token head), one may park its weight on the first token when it has "
    "nothing to find (a sink), one may find earlier copies of the token it stands on "
    "(copying). The attention pane (a) measures each head's shares live.",
    "logits": "The last vector of each position is compared with every token's embedding: "
    "one score (logit) per token in the vocabulary. Softmax turns scores into probabilities: "
    "p = e^score / Σ e^score.",
    "predict": "The prediction at a position is a probability for every possible next token. "
    "Training wants the token that really came next to get a high probability.",
    "loss": "The loss is the model's surprise: −log p(actual next token), averaged over every "
    "position of every row in the batch. Uniform guessing over V tokens scores ln V.",
    "grad": "Backpropagation computes, for every weight, which way to nudge it to lower the "
    "loss (the gradient). Gradients too large are scaled down (clipping).",
    "optimizer": "AdamW moves every weight a little against its gradient, scaled by the "
    "learning rate and by how noisy that gradient has been. Muon (where the box says so) "
    "moves each of the blocks' weight matrices by its gradient made orthogonal: every "
    "direction the gradient points in is taken equally, not just the few largest. The "
    "weights are the model: this is the moment it learns.",
}


def _corpus(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    text.append("Corpus: ", BOLD)
    text.append(f"{f.corpus_tokens:,} tokens (90 % for training, the rest held out).\n")
    _starts(text, f)


def _batch(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    B, T = f.batch_shape
    text.append("Batch shape: ", BOLD)
    text.append(f"{B} rows × {T} tokens = {B * T:,} predictions this step.\n")
    _starts(text, f)


def _starts(text: Text, f: LoopFigures) -> None:
    if not f.starts:
        return
    shown = ", ".join(f"{s:,}" for s in f.starts[:6])
    text.append("Sampled at token offsets ", BOLD)
    text.append(f"{shown}{' …' if len(f.starts) > 6 else ''}")
    if f.corpus_tokens:
        text.append(f" (row 1 starts {f.starts[0] / f.corpus_tokens:.0%} into the corpus).\n")


def _tokenize(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    text.append("Row 1 as ids: ", BOLD)
    chips = [
        f"{token_display(t)}={i}" for t, i in zip(f.row_texts[:8], f.row_ids[:8], strict=False)
    ]
    text.append("  ".join(chips) + " …\n")
    word = _word_at(f, position)
    if word is None:
        text.append("No word in this row needed more than one token.", DIM)
        return
    text.append("\nHow BPE split ", BOLD)
    text.append(f"“{''.join(word.merges[-1]).strip()}”", BOLD)
    text.append(f" ({len(word.merges) - 1} merges):\n")
    for i, stage in enumerate(word.merges):
        label = "bytes " if i == 0 else f"merge {i:<2}"
        text.append(f"  {label} ", DIM)
        text.append(" │ ".join(token_display(piece) for piece in stage) + "\n")


def _word_at(f: LoopFigures, position: int):
    if not f.words:
        return None
    for word in f.words:
        if word.start <= position < word.stop:
            return word
    return max(f.words, key=lambda w: len(w.merges))


def _embed(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    i = _clamp(position, f.embeddings)
    token = token_display(f.row_texts[i]) if f.row_texts else "?"
    text.append(f"Token “{token}” at position {i}", BOLD)
    text.append(f" (id {f.row_ids[i]}) enters Block 1 as a vector whose first numbers are:\n")
    values = f.embeddings[i]
    peak = max((abs(v) for v in values), default=1.0) or 1.0
    for j, v in enumerate(values):
        text.append(f"  [{j}] {v:+.3f} ", "")
        text.append(("▕" + bar(abs(v) / peak, 12)) + "\n", "green" if v >= 0 else "red")


def _block(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    block = int(node.key[5:]) - 1
    row = attention_row(f, block, position)
    if not row:
        return
    pos = len(row) - 1
    token = token_display(f.row_texts[pos])
    text.append(f"Where position {pos} (“{token}”) looked, in block {block + 1}", BOLD)
    text.append(" (attention averaged over heads; brighter = more):\n")
    start = max(0, pos - 15)
    strongest = max(row) or 1.0
    for j in range(start, pos + 1):
        # Scaled to the strongest weight in the row, so a spread-out pattern still shows.
        level = int(round(row[j] / strongest * 255))
        style = f"on rgb({level},{level // 2},0)" if level else ""
        text.append(f" {token_display(f.row_texts[j])} ", style)
    text.append("\n\nMost attention went to:\n")
    for j in sorted(range(len(row)), key=row.__getitem__, reverse=True)[:3]:
        label = token_display(f.row_texts[j])
        text.append(f"  {label:<12} position {j:<4} {row[j]:.0%} {bar(row[j], 20)}\n")
    if block < len(f.head_shares):
        text.append("\nEach head's share of weight, over the whole row:\n")
        for h, shares in enumerate(f.head_shares[block]):
            named = role(shares)
            text.append(
                f"  head {h + 1}  on the token before {shares.previous:4.0%} · on the first "
                f"{shares.sink:4.0%} · on earlier copies {shares.copying:4.0%}"
            )
            text.append(f"  {named} head\n" if named else "\n", BOLD)
    if f.grad_norms and block + 1 < len(f.grad_norms):
        name, g = f.grad_norms[block + 1]
        text.append(f"\nGradient size of {name} this step: {g:.3f}", DIM)


def _logits(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    p = f.row[_clamp(position, f.row)]
    text.append(f"At position {_clamp(position, f.row)}, the highest probabilities:\n", BOLD)
    best = p.top[0].prob
    for alt in p.top:
        # Softmax keeps only differences of scores: score − top score = ln(p / p_top).
        gap = math.log(alt.prob / best) if alt.prob > 0 else float("-inf")
        shown = token_display(alt.text)
        text.append(
            f"  {shown:<12} score {gap:+6.2f} vs top → p {alt.prob:6.1%} {bar(alt.prob, 20)}\n"
        )


def _predict(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    i = _clamp(position, f.row)
    p = f.row[i]
    text.append(f"After “{token_display(p.text)}” (position {i}) the model guessed:\n", BOLD)
    for alt in p.top:
        mark = "  ← actual" if alt.token_id == p.target_id else ""
        text.append(f"  {token_display(alt.text):<12} {alt.prob:6.1%} {bar(alt.prob, 20)}{mark}\n")
    text.append(
        f"The actual next token “{token_display(p.target_text)}” got p = {p.target_prob:.3f}."
    )


def _loss(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    text.append("−log p(actual) at a few positions of row 1:\n", BOLD)
    for p in f.row[:6]:
        text.append(
            f"  after {token_display(p.text):<10} actual {token_display(p.target_text):<10} "
            f"p {p.target_prob:6.3f} → {p.loss:6.3f}\n"
        )
    row_mean = sum(p.loss for p in f.row) / len(f.row)
    text.append(f"Mean over row 1: {row_mean:.3f}.  ")
    text.append(f"Mean over the whole batch (the loss): {f.loss:.3f}\n", BOLD)
    vocab_guess = math.exp(f.loss)
    text.append(f"As surprised as a uniform guess among ~{vocab_guess:,.0f} tokens.", DIM)


def _grad(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    text.append(f"Gradient norm of all weights: {f.grad_norm:.3f}", BOLD)
    text.append(" (before clipping)\n\n")
    peak = max((g for _, g in f.grad_norms), default=1.0) or 1.0
    for name, g in f.grad_norms:
        text.append(f"  {name:<8} {g:8.4f} {bar(g / peak, 24)}\n")


def _optimizer(text: Text, node: Node, f: LoopFigures, position: int) -> None:
    text.append(f"Learning rate this step: {sci(f.lr)}", BOLD)
    text.append(
        " (warmup, then cosine decay)\n\nWeights that moved most, relative to their size:\n"
    )
    for name, ratio in f.top_changes:
        text.append(f"  {name:<28} {ratio:.2e}\n")


_BODIES = {
    "corpus": _corpus,
    "batch": _batch,
    "tokenize": _tokenize,
    "embed": _embed,
    "block": _block,
    "logits": _logits,
    "predict": _predict,
    "loss": _loss,
    "grad": _grad,
    "optimizer": _optimizer,
}
