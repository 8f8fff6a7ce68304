"""Attention heads' measured roles: the shares on hand-built attention patterns whose answer
is known, the first previous-token head seen, and a real tiny model's per-head figures."""

from __future__ import annotations

import pytest
import torch
from engine_fixtures import TINY_CONFIG, shown_step_after_training

from model.head_roles import ROLE_SHARE, chance_previous, formed, role, strongest_previous
from model.loop_figures import head_shares
from model.protocol import HeadShares, LoopFigures

T = 12
# Token ids with repeats: 5 comes back at 4 and 9, 7 at 6 and 11, 3 at 8.
IDS = torch.tensor([1, 5, 3, 2, 5, 8, 7, 4, 3, 5, 6, 7])


def pattern(put) -> torch.Tensor:
    """One head's (1, T, T) weights: each query's row from ``put(t)`` (positions → weight),
    the rest of its weight on itself, so that every row sums to 1 as a softmax's does."""
    w = torch.zeros(1, T, T)
    for t in range(T):
        for j, weight in put(t).items():
            w[0, t, j] += weight
        w[0, t, t] += 1 - sum(put(t).values())
    return w


def test_a_perfect_previous_token_head_is_named_so():
    w = pattern(lambda t: {t - 1: 1.0} if t else {})
    (shares,) = head_shares(w, IDS)
    assert shares == HeadShares(previous=1.0, sink=0.0, copying=0.0)
    assert role(shares) == "previous-token"


def test_a_sink_head_is_named_so():
    w = pattern(lambda t: {0: 1.0} if t else {})
    (shares,) = head_shares(w, IDS)
    assert shares == HeadShares(previous=0.0, sink=1.0, copying=0.0)
    assert role(shares) == "sink"


def test_a_head_that_finds_earlier_copies_of_its_token_is_copying():
    def copies(t):
        earlier = [j for j in range(1, t - 1) if IDS[j] == IDS[t]]
        return {j: 1 / len(earlier) for j in earlier}

    w = pattern(copies)
    (shares,) = head_shares(w, IDS)
    # Averaged over the queries that have an earlier copy (9 and 11): all of their weight.
    assert shares.copying == pytest.approx(1.0)
    assert shares.previous == 0.0 and shares.sink == 0.0
    assert role(shares) == "copying"


def test_an_even_spread_earns_no_role_and_sits_at_chance():
    w = torch.ones(T, T).tril()
    w = (w / w.sum(dim=-1, keepdim=True))[None]
    (shares,) = head_shares(w, IDS)
    assert shares.previous == pytest.approx(chance_previous(T), abs=1e-4)
    assert shares.previous == shares.sink  # an even spread favours neither
    assert role(shares) == ""
    assert chance_previous(128) == pytest.approx(0.03, abs=0.005)  # the words' "3 %"


def test_the_previous_token_is_never_also_the_first():
    # Query 1's previous token is position 0: counted from query 2 on, so a previous-token
    # head is not also a bit of a sink, nor a sink a bit of a previous-token head.
    w = torch.cat([pattern(lambda t: {t - 1: 1.0} if t else {}), pattern(lambda t: {0: 1.0})])
    prev, sink = head_shares(w, IDS)
    assert prev.sink == 0.0 and sink.previous == 0.0
    assert len(head_shares(torch.ones(3, 2, 2), IDS[:2])) == 3  # a row too short: zeros


def figures(step: int, previous: float) -> LoopFigures:
    heads = ((HeadShares(0.1, 0.0, 0.0), HeadShares(previous, 0.0, 0.0)),)
    return LoopFigures(step=step, phase="update", head_shares=heads)


def test_a_previous_token_head_forms_once_and_stays_formed():
    assert formed(None, figures(10, ROLE_SHARE - 0.01)) is None
    first = formed(None, figures(57, 0.62))
    assert (first.step, first.block, first.head, first.share) == (57, 0, 1, 0.62)
    assert formed(first, figures(58, 0.05)) is first  # it formed at 57, whatever comes after
    assert strongest_previous(figures(58, 0.05)).head == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return shown_step_after_training(tmp_path_factory.mktemp("attention"))


def test_a_real_models_figures_carry_every_heads_attention(trained):
    from tui.widgets.pretrain.loop_words import attention_row, head_row, heads_in

    trainer, report = trained
    f = report.figures
    n = len(f.row_ids)
    assert len(f.head_attention) == TINY_CONFIG.n_layer
    assert all(len(b) == TINY_CONFIG.n_head * n * n for b in f.head_attention)
    assert [len(heads) for heads in f.head_shares] == [TINY_CONFIG.n_head] * TINY_CONFIG.n_layer
    for block in range(TINY_CONFIG.n_layer):
        assert heads_in(f, block) == TINY_CONFIG.n_head
        for head in range(TINY_CONFIG.n_head):
            row = head_row(f, block, head, n - 1)
            assert len(row) == n and sum(row) == pytest.approx(1.0, abs=0.05)
            # The shares the engine measured, read again off the bytes the pane draws.
            shares = f.head_shares[block][head]
            previous = sum(head_row(f, block, head, t)[t - 1] for t in range(2, n)) / (n - 2)
            assert shares.previous == pytest.approx(previous, abs=2 / 255)
            assert 0 <= shares.previous + shares.sink + shares.copying <= 1 + 1e-6
        first, second = head_row(f, block, 0, 5), head_row(f, block, 1, 5)
        mean = [(a + b) / 2 for a, b in zip(first, second, strict=True)]
        assert attention_row(f, block, 5) == pytest.approx(mean)
    # A headless step computes none of it: training keeps scaled_dot_product_attention.
    assert trainer.step(display=False).figures is None
