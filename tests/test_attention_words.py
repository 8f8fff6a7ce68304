"""The attention pane's lines drawn from a real tiny model's figures, without a screen: each
head's shares, its heat row, and in words whether a previous-token head has formed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_fixtures import shown_step_after_training

from model.head_roles import formed
from model.protocol import HeadShares


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return shown_step_after_training(tmp_path_factory.mktemp("attention-words"))


def test_the_pane_says_in_words_what_the_heads_do(trained):
    from tui.widgets.pretrain.attention_words import heat_row, pane_lines, words_lines

    _, report = trained
    f = report.figures
    lines = [line.plain for line in pane_lines(f, 1, 6, None, 40, 9)]
    assert len(lines) <= 9 and all(len(line) <= 40 for line in lines)
    assert lines[2].startswith("▸H2 prev") and lines[0].startswith(" H1 prev")
    assert any("No previous-token head yet" in line for line in lines)
    one = replace(f, head_shares=((HeadShares(0.7, 0.1, 0.0), HeadShares(0.2, 0.1, 0.0)),) * 2)
    done = formed(None, one)
    said = " ".join(line.plain for line in words_lines(done, one, 40, 3))
    assert f"formed at step {f.step}" in said and "block 1 head 1" in said
    assert "previous-token" in pane_lines(one, 0, 6, done, 60, 9)[0].plain
    # The heat row ends at the token looked from; a strong token further back leads it.
    weights = [0.6] + [0.4 / 11] * 11
    row = heat_row(weights, tuple(f"w{j}" for j in range(12)), 20).plain
    assert row.startswith("w060%…") and row.endswith("w11") and len(row) <= 20


def test_many_heads_fit_any_height_and_the_selected_one_is_always_there():
    from model.protocol import LoopFigures
    from tui.widgets.pretrain.attention_words import pane_lines

    T, heads = 6, 8
    f = LoopFigures(
        step=3,
        phase="update",
        row_ids=tuple(range(T)),
        row_texts=tuple(f" t{j}" for j in range(T)),
        head_attention=(bytes([255 // T]) * (heads * T * T),) * 2,
        head_shares=((HeadShares(0.1, 0.2, 0.0),) * heads,) * 2,
    )
    for height in range(1, 30):
        for selected in (0, 5, 7, 13):
            lines = [line.plain for line in pane_lines(f, selected, 4, None, 50, height)]
            assert len(lines) <= height, (height, selected)
            if height >= 3:
                assert any(line.startswith(f"▸H{selected % heads + 1} ") for line in lines)
