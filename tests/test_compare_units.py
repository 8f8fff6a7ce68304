"""The Compare grid's pieces without an engine: how an answer's tokens wrap into a column,
the probability cue that survives NO_COLOR, and what a column without a model says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from stage_fixtures import until

from model import protocol as p
from tui.runs import RUNS
from tui.tabs.compare import CompareView, hint
from tui.widgets.compare.compare_grid import BARS, answer_lines, wrap_tokens

tokens = st.lists(st.sampled_from(["The", " capital", " of", " ", "Tar", "sk", ".", "↵", " a",
                                   "verylongtokenindeed", "é"]), max_size=30)  # fmt: skip


@settings(deadline=None)  # a loaded machine's slow example is not a wrong one
@given(tokens, st.integers(min_value=1, max_value=30))
def test_wrapped_tokens_keep_their_order_and_fit(texts, width):
    lines = wrap_tokens(texts, width)
    placed = [i for line in lines for i, _ in line]
    assert sorted(set(placed)) == list(range(len(texts)))  # every token drawn
    assert placed == sorted(placed)  # in order (a long token may take several lines)
    for line in lines:
        assert sum(cell_len(text) for _, text in line) <= width
        if line and line[0][1].strip():
            assert not line[0][1].startswith(" ")  # no line starts with a word's space
    # What is drawn is the text, but for the spaces dropped at the start of a line.
    drawn = "".join(text for line in lines for _, text in line)
    assert drawn.replace(" ", "") == "".join(texts).replace(" ", "")


def test_words_wrap_whole():
    lines = wrap_tokens(["The", " capital", " of", " Tar", "sk", "."], 14)
    assert ["".join(t for _, t in line) for line in lines] == ["The capital of", "Tarsk."]


def choice(text: str, prob: float, rank: int = 1) -> p.TokenChoice:
    candidate = p.Candidate(1, text, prob, prob, prob, prob)
    return p.TokenChoice(1, text, (candidate,), 40, 40, rank)


def test_probability_as_bars_without_colour_and_long_shots_underlined():
    answer = p.CompareAnswer("Tarsk", (choice("Tar", 0.95), choice("sk", 0.1, rank=3)))
    plain = answer_lines(answer, 20, selected=-1, bars=False)
    assert len(plain) == 1
    barred = answer_lines(answer, 20, selected=1, bars=True)
    text, under = barred
    assert [t for t, _, _ in under] == [BARS[-1] * 3, BARS[0] * 2]
    assert not text[0][1].underline and text[1][1].underline  # the sampler's long shot
    assert text[1][1].reverse  # selected


def test_a_missing_model_says_which_tab_and_key_make_it():
    column = p.CompareColumn(1, "sft", missing="untrained")
    assert hint(column) == RUNS["sft"].untrained and "tab 2" in hint(column)[0]
    assert hint(p.CompareColumn(1, "rlhf", missing="untrained"))[0] == "tab 3 · m"
    lacking = p.CompareColumn(1, "dpo", missing="no-data", detail="needs preference pairs")
    assert hint(lacking) == ("no data", "needs preference pairs")


def test_an_answer_cut_by_the_token_budget_ends_with_an_ellipsis():
    ended = p.CompareAnswer("Tarsk", (choice("Tar", 0.9), choice("sk", 0.9)), stop="end")
    cut = p.CompareAnswer("Tarsk", (choice("Tar", 0.9), choice("sk", 0.9)), stop="")
    assert [t for t, _, _ in answer_lines(ended, 20, -1, False)[0]] == ["Tar", "sk"]
    assert [t for t, _, _ in answer_lines(cut, 20, -1, False)[0]] == ["Tar", "sk", "…"]
    assert [t for t, _, _ in answer_lines(cut, 5, -1, True)[-1]] == ["…"]


async def test_a_scenario_without_probes_says_so_and_what_each_column_needs(fake_engine):
    from tui.app import TrainTermApp
    from tui.widgets.compare.compare_grid import CompareGrid

    app = TrainTermApp(fake_engine)
    # Wide enough for every column's words, however many stages the registry has.
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("4")
        assert fake_engine.sent[-1] == p.CompareAsk(1, app.sampling.sampler)
        grid = app.query_one(CompareGrid)
        await pilot.pause()
        assert "asking every model" in grid.lines()[0]
        columns = [
            p.CompareColumn(1, "pretrain", "cache", 1200, 1200, False),
            p.CompareColumn(1, "sft", missing="no-data", detail="Fine-tuning needs pairs."),
            p.CompareColumn(1, "dpo", missing="untrained"),
            p.CompareColumn(1, "rlhf", missing="untrained"),
        ]
        # A stage added since: a column of its own, untrained.
        columns += [p.CompareColumn(1, s, missing="untrained") for s in p.COMPARE_STAGES[4:]]
        fake_engine.feed(p.ComparePrompts(1, ()), *columns)
        await until(pilot, lambda: not app.query_one(CompareView).busy, "the columns")
        await pilot.pause()
        text = "\n".join(grid.lines())
        assert "cache · 1200/1200" in text and "no data" in text and "tab 3 · enter" in text
        assert "tab 3 · m" in text
        assert "has no probes" in text and "Fine-tuning needs" in text
