"""The Compare tab, driven by keys and the mouse against a real engine process that finds
three real tiny checkpoints in its stage cache (base, fine-tuned, DPO) and no RLHF."""

from __future__ import annotations

import json

import pytest
from compare_fixtures import cache_at, trained_scenario
from stage_fixtures import later_tabs, until

from model import protocol as p
from tui.app import TrainTermApp
from tui.runs import RUNS
from tui.screens.why import WhyScreen
from tui.tabs.compare import CompareView
from tui.widgets.common.status import StatusBar
from tui.widgets.compare.compare_detail import CompareDetail
from tui.widgets.compare.compare_grid import CompareGrid, Selection

pytestmark = pytest.mark.slow

KEYS = {" ": "space", "?": "question_mark"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return trained_scenario(tmp_path_factory.mktemp("compare-app"))


@pytest.fixture
def engine(tiny):
    from model.engine.options import EngineOptions
    from model.engine.process import EngineHandle

    with cache_at(tiny / "cache"):
        handle = EngineHandle(EngineOptions(scenario=str(tiny), save_dir=str(tiny / "s")))
    yield handle
    handle.stop()


def answered(view: CompareView) -> bool:
    return not view.busy and all(c is not None for c in view.columns)


async def test_compare_tab_with_three_tiny_checkpoints(engine):
    app = TrainTermApp(engine)
    async with app.run_test(size=(100, 34)) as pilot:
        await later_tabs(pilot)
        view = app.query_one(CompareView)
        grid = app.query_one(CompareGrid)
        await until(pilot, lambda: app.first.ready is not None, "the engine to be ready")
        await pilot.press("4")
        # The screen is not held up while the trainer works: it says so, then fills in.
        assert view.busy and "computing" in app.query_one(StatusBar).lines()[0]
        await until(pilot, lambda: answered(view), "every model to answer")
        await pilot.pause()  # the redraw
        sources = {c.stage: c.source for c in view.columns}
        trained = {"pretrain": "cache", "sft": "cache", "dpo": "cache"}
        # Every other answering stage of the registry (RLHF, RLVR, …) has no model here.
        assert sources == {stage: trained.get(stage, "") for stage in p.COMPARE_STAGES}
        assert [c.step for c in view.columns[:3]] == [12, 8, 6]
        assert view.columns[3].missing == "untrained"  # RLHF: none cached, none in tab 3
        # It says how to get one: in its head, and in full in its first cell (five columns
        # at this width leave that cell below the answers on screen).
        assert (
            grid.hints["rlhf"] == RUNS["rlhf"].untrained and "m picks RLHF" in grid.hints["rlhf"][1]
        )
        assert "tab 3 · m" in " ".join(" ".join(grid.lines()).split())
        assert view.prompts[0] == ("q", "Capital of Tarsk?")
        status = app.query_one(StatusBar).lines()[0]
        assert "4 Compare" in status and "T0.8 k40 seed 0" in status
        # Every model drew with the app's sampler.
        assert view.sampler == app.sampling.sampler

        # Keys: the grid has them; tab goes to the next model, → to the next token.
        assert app.focused is grid
        await pilot.press("tab", "right", "right")
        assert grid.selection == Selection(0, 1, 2)
        detail = app.query_one(CompareDetail)
        name, answer, index, asked = detail.shown
        assert name == "2 Fine-tuned" and index == 2 and asked == "Capital of Tarsk?"
        assert answer is view.columns[1].answers[0]
        lines = detail.lines()
        assert lines[0].startswith(f'drew "{answer.choices[2].drawn_text}"')
        assert answer.choices[2].candidates[0].text.strip() in "\n".join(lines[1:])
        await pilot.press("tab", "tab")  # RLHF has no answers: tab skips it, back to base
        assert grid.selection.col == 0
        await pilot.press("down")
        assert grid.selection.row == 1
        assert detail.shown[3] == "The capital of Mirel"  # a story: the base continues it

        # A click selects the token under the mouse: DPO's first token of the first prompt.
        span = next(
            (n, x0) for n, spans in enumerate(grid._spans) for x0, _, where in spans
            if where == Selection(0, 2, 0)
        )  # fmt: skip
        await pilot.press("up")
        await pilot.pause()
        line, x = span
        await pilot.click(CompareGrid, offset=(x + 2, line - grid._top + 2 + 1))
        assert grid.selection == Selection(0, 2, 0)
        assert detail.shown[0] == "3 DPO"

        # Your own question, put to every model.
        await pilot.press("slash")
        assert app.focused is app.query_one("#compare-input")
        await pilot.press(*[KEYS.get(ch, ch) for ch in "Capital of Mirel?"], "enter")
        assert app.focused is grid
        await until(pilot, lambda: answered(view) and view.prompts[0][0] == "you", "the answers")
        assert view.prompts[0] == ("you", "Capital of Mirel?")
        # What fine-tuning was shown like it: the nearest prompt, and whether it was phrased so.
        intro = str(app.query_one("#compare-intro").render())
        assert view.nearest is not None and "fine-tuning" in intro
        assert view.nearest.prompt in intro or view.nearest.phrasing == "exact"
        assert grid.selection.row == 0 and grid.selection.col == 2  # the question, same model
        for column in view.columns[:3]:
            assert len(column.answers) == len(view.prompts)

        # A sampler key asks again: the columns follow the status line.
        await pilot.press("0")
        assert app.sampling.sampler.greedy and view.busy
        await until(pilot, lambda: answered(view), "the greedy answers")
        assert view.sampler == app.sampling.sampler and view.prompts[0][0] == "you"
        for column in view.columns[:3]:
            for answer in column.answers:
                assert all(c.drawn_rank == 1 for c in answer.choices)  # greedy: favourites

        # x: the answers on screen, token by token, into the save folder.
        await pilot.press("x")
        files = list((app.exports.save_dir).glob("compare-answers*.jsonl"))
        assert len(files) == 1
        records = [json.loads(line) for line in files[0].read_text().splitlines()]
        assert len(records) == 3 * len(view.prompts)
        first = records[0]
        assert (first["stage"], first["prompt"], first["sampler"]["temperature"]) == (
            "pretrain", "Capital of Mirel?", 0.0)  # fmt: skip
        assert [t["id"] for t in first["tokens"]] == [
            c.drawn_id for c in view.columns[0].answers[0].choices
        ]

        # w: the "why this token" view on the selected answer.
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WhyScreen), "the why view")
        shown = app.screen.sample
        assert shown.choices == view.columns[2].answers[0].choices and shown.stage == "dpo"
        await pilot.press("escape")
        # Space trains nothing here; tab 1 gets its keys back.
        await pilot.press("space")
        assert app.query_one(CompareView).columns[0].source == "cache"
        await pilot.press("1")
        assert app.focused is app.first and app.stage == 1

        # Tab 1's run, once it has trained, is the base column, as it is now.
        await pilot.press("n", "n", "n")
        await until(
            pilot, lambda: app.first.latest is not None and app.first.latest.step == 3, "3 steps"
        )
        await pilot.press("4")
        await until(pilot, lambda: answered(view), "every model to answer again")
        await pilot.pause()
        base = view.columns[0]
        assert (base.source, base.step, base.total_steps) == ("tab", 3, 12)
        assert "tab 1 · 3/12" in grid.lines()[1]
        assert view.columns[1].source == "cache"
