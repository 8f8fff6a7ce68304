"""The sampler in the app: its keys and the status line, samples drawn by it in the real
engine, and the "why this token" view, driven by Pilot; and the view's screenshots."""

from __future__ import annotations

import io

import pytest
import record
from recorded import load
from rich.console import Console
from test_app_pilot import make_app, status_text, until

from model import protocol as p
from tui.app import TrainTermApp
from tui.screens.why import WhyScreen
from tui.widgets.common.formatting import token_display
from tui.widgets.pretrain.sample_log import SamplePane

# The real, seeded engine of the app's Pilot tests (one per module).
from test_app_pilot import engine, options, scenario_dir, shared_engine  # noqa: F401, E402  # isort: skip


def plain(renderable, width: int = 96) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_keys_change_the_sampler_the_status_line_and_the_samples(engine):  # noqa: F811
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.first.state == "paused", what="the trainer")
        assert "T0.8 k40 seed 0" in status_text(app), "the app's default sampler"
        await pilot.press("n", "n", "n")
        await until(pilot, lambda: app.first.latest is not None and app.first.latest.step == 3)
        await pilot.press("t")
        assert "T1.0 k40 seed 0" in status_text(app)
        await pilot.press("T", "T", "K", "U", "d", "d", "D")
        assert app.sampling.sampler == p.Sampler(0.5, 10, 0.95, 1)
        assert "T0.5 k10 p0.95 seed 1" in status_text(app)
        await pilot.press("0")
        assert app.sampling.sampler.greedy and "greedy" in status_text(app)
        await pilot.press("0")
        assert app.sampling.sampler == p.Sampler(0.5, 10, 0.95, 1), "greedy off brings T 0.5 back"

        await pilot.press("g")
        await until(pilot, lambda: app.first.samples, what="a sample")
        sample = app.first.samples[-1]
        assert sample.sampler == app.sampling.sampler and sample.step == 3
        assert "T0.5 k10 p0.95 seed 1" in plain(app.query_one(SamplePane).render())
        # With a sample on screen, a change of sampler draws it again at once.
        await pilot.press("0")
        await until(pilot, lambda: app.first.samples[-1].sampler.greedy, what="a greedy sample")
        await pilot.press("0", "g")
        await until(pilot, lambda: len(app.first.samples) >= 4, what="the sample again")
        assert app.first.samples[-1] == sample, "the same seed and model drew differently"


async def test_why_this_token_shows_each_step_of_the_draw(engine):  # noqa: F811
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.first.state == "paused", what="the trainer")
        await pilot.press("n", "n")
        await until(pilot, lambda: app.first.latest is not None and app.first.latest.step == 2)
        await pilot.press("t", "t", "K", "U")  # T 1.5, top-k 10, top-p 0.95: a loose draw
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WhyScreen), what="the view")
        view = app.screen
        sample = view.sample
        assert sample.sampler == app.sampling.sampler and sample.choices
        choice = sample.choices[view.position]
        # It opens where the sampler first passed over the model's favourite. A model two
        # steps in is near uniform over its top 10, and T 1.5 flattens it further: 4 tokens
        # in 5 are not the favourite (49 of 60 in this seeded draw).
        assert any(c.drawn_rank > 1 for c in sample.choices), "no long shot to open on"
        assert choice.drawn_rank > 1
        assert all(c.drawn_rank == 1 for c in sample.choices[: view.position])
        text = plain(view._body())
        for heading in ("model", "÷ T 1.5", "top-k 10", "top-p 0.95", "◀ drawn"):
            assert heading in text
        assert f"{len(sample.choices)}" in text and choice.drawn_text.strip() in text

        await pilot.press("right")
        assert view.position == min(len(sample.choices) - 1, sample.choices.index(choice) + 1)
        await pilot.press("0")  # in the view, the sampler keys draw the sample again
        await until(pilot, lambda: view.sample.sampler.greedy, what="a greedy sample")
        greedy = plain(view._body())
        assert "Greedy takes the most likely token" in greedy and "top-k" not in greedy
        assert all(c.drawn_rank == 1 for c in view.sample.choices)
        assert "greedy" in status_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, WhyScreen)


def crafted_choice(rank: int) -> p.TokenChoice:
    """A token drawn as the model's ``rank``-th choice of three."""
    candidates = tuple(
        p.Candidate(i, text, prob, prob, prob, prob)
        for i, (text, prob) in enumerate([(" the", 0.5), (" a", 0.3), (" sea", 0.2)])
    )
    drawn = candidates[rank - 1]
    return p.TokenChoice(drawn.token_id, drawn.text, candidates, 3, 3, drawn_rank=rank)


@pytest.mark.parametrize(
    ("ranks", "opens_at"),
    [((1, 1, 3, 1, 2), 2), ((1, 1, 1), 0)],
    ids=["first long shot", "never a long shot"],
)
async def test_why_opens_on_the_first_token_the_sampler_did_not_favour(
    fake_engine, recording, ranks, opens_at
):
    # Samples made by hand: the position to open on is known, not left to a draw.
    choices = tuple(crafted_choice(r) for r in ranks)
    text = "".join(c.drawn_text for c in choices)
    fake_engine.feed(recording.ready, *recording.reports[:3])
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.first.latest is not None, what="the reports")
        await pilot.press("w")
        fake_engine.feed(p.SampleText("pretrain", 3, "", text, p.APP_SAMPLER, choices))
        await until(pilot, lambda: isinstance(app.screen, WhyScreen), what="the view")
        assert app.screen.position == opens_at
        shown = plain(app.screen._body())
        assert choices[opens_at].drawn_text.strip() in shown


async def test_why_on_a_stage_without_a_model_says_so(engine):  # noqa: F811
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.first.state == "paused", what="the trainer")
        await pilot.press("2", "w")
        assert not isinstance(app.screen, WhyScreen)
        assert any("no model yet" in n.message for n in app._notifications)
        assert "T0.8 k40 seed 0" in status_text(app), "tab 2's status line says it too"


@pytest.fixture(scope="module")
def explained() -> p.SampleText:
    """A sample of a real tiny model after a few seeded steps, as the engine sends it:
    recorded by tests/record.py (``why``)."""
    return load("why")["sample"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_why_view_screenshot(snap_compare, fake_engine, recording, explained, size):
    fake_engine.feed(recording.ready, *recording.reports[:10])
    app = TrainTermApp(fake_engine)

    async def run_before(pilot):
        await until(pilot, lambda: app.first.latest is not None and app.first.latest.step == 10)
        await pilot.press("w")
        assert fake_engine.sent[-1] == p.Sample(sampler=p.APP_SAMPLER)
        fake_engine.feed(explained)
        await until(pilot, lambda: isinstance(app.screen, WhyScreen), what="the view")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_why_view_of_a_sample_drawn_now(fake_engine, recording, tmp_path):
    """A sample drawn now by a model trained now, with whatever this torch computes: the
    view names the token it opens on as the one drawn, among the sample's tokens."""
    live = record.why_sample(tmp_path)["sample"]
    fake_engine.feed(recording.ready, *recording.reports[:10])
    app = TrainTermApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.first.latest is not None and app.first.latest.step == 10)
        await pilot.press("w")
        fake_engine.feed(live)
        await until(pilot, lambda: isinstance(app.screen, WhyScreen), what="the view")
        view = app.screen
        assert view.sample == live
        choice = live.choices[view.position]
        drawn = next(c for c in choice.candidates if c.token_id == choice.drawn_id)
        text = plain(view._body())
        line = next(line for line in text.splitlines() if "◀ drawn" in line)
        assert token_display(drawn.text) in line and f"{100 * drawn.prob:5.1f}%" in line
        assert "÷ T 1.5" in text, "the sample's own sampler"
