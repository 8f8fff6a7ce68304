"""Stepping one phase at a time runs the real step, split: not a replay."""

import pytest
import torch
from engine_fixtures import TINY_CONFIG, TINY_SETTINGS, make_trainer, tiny_corpus

from model.loop_figures import merge_trace
from model.objectives import token_losses
from model.protocol import PHASES, LoopFigures, StepReport


@pytest.fixture(scope="module")
def corpus() -> str:
    return tiny_corpus()


def test_phase_by_phase_equals_one_ordinary_step(corpus, tmp_path):
    whole, phased = make_trainer(corpus, tmp_path), make_trainer(corpus, tmp_path)
    whole.step()
    phased.step()
    expected = whole.step()
    seen = []
    for _ in PHASES:
        assert phased.next_phase == PHASES[len(seen)]
        result = phased.step_phase()
        seen.append(result)
    assert [f.phase for f in seen[:-1]] == list(PHASES[:-1])
    assert all(isinstance(f, LoopFigures) for f in seen[:-1])
    report = seen[-1]
    assert isinstance(report, StepReport) and report.figures.phase == "update"
    assert report.loss == expected.loss and report.step == expected.step == 2
    for (name, a), b in zip(whole.model.named_parameters(), phased.model.parameters(), strict=True):
        assert torch.equal(a, b), name
    assert phased.next_phase == "sample"


def test_each_phase_adds_its_own_figures(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path)
    sample = trainer.step_phase()
    assert sample.batch_shape == (TINY_SETTINGS.batch_size, TINY_CONFIG.context)
    assert len(sample.starts) == TINY_SETTINGS.batch_size and not sample.row_ids
    tokenize = trainer.step_phase()
    ids = list(tokenize.row_ids)
    start = tokenize.starts[0]
    assert ids == trainer.data.train_tokens[start : start + TINY_CONFIG.context].tolist()
    assert tokenize.row_texts == tuple(trainer.tokenizer.token_text(i) for i in ids)
    assert not tokenize.row and tokenize.loss is None
    forward = trainer.step_phase()
    assert len(forward.row) == TINY_CONFIG.context and forward.loss is None
    T = TINY_CONFIG.context
    assert len(forward.head_attention) == TINY_CONFIG.n_layer
    assert all(len(a) == TINY_CONFIG.n_head * T * T for a in forward.head_attention)
    for head in range(TINY_CONFIG.n_head):  # position 0 can only see itself, in every head
        first_row = forward.head_attention[0][head * T * T : head * T * T + T]
        assert first_row[0] == 255 and not any(first_row[1:])
    assert [len(h) for h in forward.head_shares] == [TINY_CONFIG.n_head] * TINY_CONFIG.n_layer
    loss = trainer.step_phase()
    # Worked out again from the batch the sample phase drew, with the weights not yet updated:
    # the phase's loss is the batch's mean, and the row shown is the batch's first row.
    batch = trainer.data.gather(sample.starts)
    with torch.no_grad():
        per_token = token_losses(trainer.model(batch.x), batch.y)
    assert loss.loss == pytest.approx(per_token.mean().item(), rel=1e-6, abs=1e-6)
    assert [p.loss for p in forward.row] == pytest.approx(per_token[0].tolist(), abs=1e-5)
    backward = trainer.step_phase()
    assert backward.grad_norm > 0 and [n for n, _ in backward.grad_norms][0] == "Embed"
    report = trainer.step_phase()
    figures = report.figures
    assert figures.lr == report.lr and len(figures.top_changes) == 5
    assert [p.layer for p in figures.patches] == [layer.name for layer in report.layers]
    qkv = dict(trainer.model.named_parameters())["blocks.0.attn.qkv.weight"]
    patch = figures.patches[1]
    assert patch.matrix == "blocks.0.attn.qkv.weight[0:8, :8]"
    assert patch.values[0][0] == pytest.approx(float(qkv.detach()[0, 0]))
    emb = dict(trainer.model.named_parameters())["tok_emb.weight"].detach()
    assert figures.patches[0].values[0][0] == pytest.approx(float(emb[256, 0]))
    assert any(abs(d) > 0 for row in patch.deltas for d in row)


def test_merge_trace_replays_bpe(corpus, tmp_path):
    tok = make_trainer(corpus, tmp_path).tokenizer
    word = b" capital"
    trace = merge_trace(tok.ranks, word)
    assert trace[0] == tuple(bytes([b]) for b in word)
    assert [tok.ranks[p] for p in trace[-1]] == tok.encode(" capital")
    assert all(len(a) == len(b) + 1 for a, b in zip(trace, trace[1:], strict=False))


def test_figures_name_the_words_split_into_several_tokens(corpus, tmp_path):
    trainer = make_trainer(corpus, tmp_path)
    trainer.step_phase()
    figures = trainer.step_phase()
    assert figures.words
    for word in figures.words:
        assert word.stop - word.start >= 2
        assert "".join(word.merges[-1]) == "".join(figures.row_texts[word.start : word.stop])
