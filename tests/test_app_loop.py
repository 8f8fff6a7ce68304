"""The training loop diagram in the app: phase stepping and asking each box, on a real engine."""

from __future__ import annotations

import pytest
from stage_fixtures import later_tabs
from test_app_pilot import (  # noqa: F401 — fixtures shared with the app's pilot tests
    engine,
    make_app,
    options,
    scenario_dir,
    shared_engine,
    until,
)

from model import protocol as p
from tui.screens.explain import ExplainScreen
from tui.widgets.pretrain.loop_diagram import LoopDiagram
from tui.widgets.pretrain.loop_words import loop_nodes
from tui.widgets.pretrain.weight_patch import WeightPatchView


async def test_p_walks_one_step_round_the_loop(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await later_tabs(pilot)  # tab 1's panes come after the first frame
        diagram = app.query_one(LoopDiagram)
        for phase in p.PHASES[:-1]:
            await pilot.press("p")
            await until(
                pilot,
                lambda ph=phase: app.first.loop.figures and app.first.loop.figures.phase == ph,
                what=phase,
            )
            assert diagram.active_phase == phase and app.first.latest is None
        await pilot.press("p")
        await until(pilot, lambda: app.first.latest is not None, what="the step's report")
        assert app.first.latest.step == 1 and diagram.active_phase == "update"
        assert (
            app.first.loop.figures.phase == "update"
            and app.first.loop.figures.loss == app.first.latest.loss
        )
        walked = app.first.latest.loss
        # The same step taken whole, after a reset (same seed): the same loss.
        handle, _ = engine
        handle.send(p.Reset())
        await until(
            pilot, lambda: app.first.latest is None and app.first.state == "paused", what="reset"
        )
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a whole step")
        assert app.first.latest.loss == walked
        assert diagram.active_phase == "", "a whole step lands without a highlight"


async def test_every_box_explains_itself_with_the_live_numbers(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        figures = app.first.latest.figures
        await pilot.press("tab")
        diagram = app.query_one(LoopDiagram)
        assert app.focused is diagram
        nodes = loop_nodes(2)
        expected = {
            "corpus": f"{figures.corpus_tokens:,}",
            "batch": f"{figures.starts[0]:,}",
            "tokenize": f"={figures.row_ids[0]}",
            "embed": f"{figures.embeddings[diagram.position][0]:+.3f}",
            "loss": f"{figures.loss:.3f}",
            "grad": f"{figures.grad_norm:.3f}",
            "predict": f"{figures.row[diagram.position].target_prob:.3f}",
            # What the step cost, and the run beside GPT-3 (tui.widgets.pretrain.cost).
            "optimizer": "GPT-3 took 10^",
        }
        for index, node in enumerate(nodes):
            assert diagram.selected == index
            await pilot.press("enter")
            assert isinstance(app.screen, ExplainScreen) and app.screen.node == node
            body = str(app.screen.query_one("#explain-body").render())
            assert node.label in str(app.screen.query_one("#explain-title").render())
            if node.key in expected:
                assert expected[node.key] in body, node.key
            if node.key.startswith("block") or node.key in ("embed", "logits"):
                patch = app.screen.query_one(WeightPatchView)
                assert patch.current() is not None
            await pilot.press("escape")
            assert not isinstance(app.screen, ExplainScreen)
            await pilot.press("right")
        assert diagram.selected == 0, "→ goes round the ring"


async def test_the_weight_patch_follows_the_selected_layer(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        view = app.query_one(WeightPatchView)
        assert view.layer_name == "Block 1" and view.current().layer == "Block 1"
        await pilot.press("tab", *["right"] * 5)  # corpus → … → block 2
        assert app.query_one(LoopDiagram).node.key == "block2"
        assert view.layer_name == "Block 2"
        qkv = view.current()
        assert qkv.matrix == "blocks.1.attn.qkv.weight[0:8, :8]" and len(qkv.values) == 8
        assert any(d != 0 for row in qkv.deltas for d in row)
        await pilot.press("escape")
        assert app.focused is app.first  # ← → are the token cursor's again


async def test_a_click_on_a_box_opens_its_explanation(engine):
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        diagram = app.query_one(LoopDiagram)
        line, x0, _, index = next(s for s in diagram._spans if diagram.nodes[s[3]].key == "loss")
        await pilot.click(LoopDiagram, offset=(x0 + 1, line))
        assert isinstance(app.screen, ExplainScreen) and app.screen.node.key == "loss"
        # The explanation stays live: a phase step updates it in place.
        await pilot.press("p")
        await until(
            pilot, lambda: app.first.loop.figures.step == 2, what="the next step's first phase"
        )
        assert "not reached the loss phase" in str(app.screen.query_one("#explain-body").render())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_diagram_fits_without_losing_the_loss(engine, size):
    app = make_app(engine)
    async with app.run_test(size=size) as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.first.latest is not None, what="a report")
        diagram = app.query_one(LoopDiagram)
        await until(
            pilot, lambda: diagram.figures is app.first.latest.figures, what="the drawn step"
        )
        text = diagram.render().plain
        lines = text.splitlines()
        assert len(lines) == 2 and all(len(line) <= size[0] for line in lines)
        assert f"{app.first.latest.loss:.3f}" in text
