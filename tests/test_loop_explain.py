"""The loop diagram's words carry the numbers of the step on screen, not canned ones."""

from dataclasses import replace

import pytest
from engine_fixtures import TINY_CONFIG, TINY_SETTINGS, tiny_corpus

from model.pipeline import build_trainer
from model.protocol import PHASES, StepReport
from tui.widgets.common.formatting import sci
from tui.widgets.pretrain.loop_words import attention_row, explain, loop_nodes, node_figure


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    # Words of several tokens need a vocabulary too small to hold whole words.
    config = replace(TINY_CONFIG, vocab_size=270)
    cache = tmp_path_factory.mktemp("bpe")
    trainer = build_trainer(tiny_corpus(), config, TINY_SETTINGS, cache_dir=cache)
    for _ in range(5):
        report = trainer.step()
    return trainer, report


def nodes():
    return loop_nodes(TINY_CONFIG.n_layer)


def node(key):
    return next(n for n in nodes() if n.key == key)


def test_the_ring_has_every_phase_and_layer():
    keys = [n.key for n in nodes()]
    assert keys == [
        "corpus", "batch", "tokenize", "embed", "block1", "block2",
        "logits", "predict", "loss", "grad", "optimizer",
    ]  # fmt: skip
    assert {n.phase for n in nodes()} == set(PHASES)


def test_every_box_shows_a_live_figure_after_a_step(trained):
    trainer, report = trained
    for n in nodes():
        figure = node_figure(n, report.figures, 5, trainer.tokenizer.n_vocab, 32)
        assert figure, n.key
    assert node_figure(node("loss"), report.figures, 5, 0, 0) == f"{report.loss:.3f}"
    assert node_figure(node("optimizer"), report.figures, 5, 0, 0) == f"lr {sci(report.lr)}"


def test_explanations_carry_the_step_numbers(trained):
    trainer, report = trained
    f = report.figures
    text = {n.key: explain(n, f, 7, TINY_CONFIG.n_layer).plain for n in nodes()}
    assert f"{f.corpus_tokens:,} tokens" in text["corpus"]
    assert f"{f.batch_shape[0]} rows × {f.batch_shape[1]} tokens" in text["batch"]
    assert f"{f.starts[0]:,}" in text["batch"]
    assert f"={f.row_ids[0]}" in text["tokenize"]
    assert "How BPE split" in text["tokenize"] and "bytes" in text["tokenize"]
    assert f"{f.embeddings[7][0]:+.3f}" in text["embed"]
    assert f"{f.loss:.3f}" in text["loss"]
    assert f"{f.grad_norm:.3f}" in text["grad"]
    assert sci(f.lr) in text["optimizer"] and f.top_changes[0][0] in text["optimizer"]
    p7 = f.row[7]
    assert f"{p7.target_prob:.3f}" in text["predict"]
    assert f"{p7.top[0].prob:6.1%}" in text["logits"]


def test_attention_explanation_names_where_the_position_looked(trained):
    _, report = trained
    f = report.figures
    row = attention_row(f, 0, 7)
    assert len(row) == 8 and sum(row) == pytest.approx(1.0, abs=0.02)
    top = max(range(8), key=row.__getitem__)
    text = explain(node("block1"), f, 7, TINY_CONFIG.n_layer).plain
    assert f"position {top:<4} {row[top]:.0%}" in text


def test_a_phase_not_reached_yet_says_so(trained):
    trainer, _ = trained
    figures = trainer.step_phase()  # sample only
    assert figures.phase == "sample"
    assert "not reached the forward phase" in explain(node("embed"), figures, 0, 2).plain
    assert f"{figures.corpus_tokens:,}" in explain(node("corpus"), figures, 0, 2).plain
    assert node_figure(node("loss"), figures, 0, 0, 0) == ""
    rest = [trainer.step_phase() for _ in PHASES[1:]]  # finish the step for the next test
    assert isinstance(rest[-1], StepReport)
