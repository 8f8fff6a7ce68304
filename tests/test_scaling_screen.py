"""L — the scaling screen: the last `trainterm scaling` report on screen, and `r` running the
real experiment (a tiny one here) in a process of its own, its report shown when it ends."""

from __future__ import annotations

import pytest
from engine_fixtures import tiny_corpus
from stage_fixtures import until
from test_app_snapshots import settle
from test_scaling_cli import SIZES, TINY

from tui.app import TrainTermApp
from tui.screens import scaling
from tui.screens.scaling import ScalingScreen


def _shown(app) -> str:
    return " ".join(
        str(app.screen.query_one(f"#scaling-{part}").content) for part in ("state", "report")
    )


async def test_without_a_run_it_says_how_to_make_one(fake_engine, recording, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_engine.feed(recording.ready, *recording.reports[:3])
    app = TrainTermApp(fake_engine, save_dir=str(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, 3)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Scaling experiment" in titles
        await pilot.press("L")
        assert isinstance(app.screen, ScalingScreen)
        assert "No experiment yet in runs/scaling/. Press r" in _shown(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, ScalingScreen)


@pytest.mark.slow
async def test_r_runs_the_experiment_and_shows_its_report(
    fake_engine, recording, tmp_path, monkeypatch
):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "scenario.toml").write_text(TINY)
    (tmp_path / "tiny" / "corpus.txt").write_text(tiny_corpus())
    monkeypatch.chdir(tmp_path)
    tiny = ("--threads", "1", "--sizes", SIZES, "--tokens", "3000", "--scenario", "tiny")
    monkeypatch.setattr(scaling, "COMMAND", ("scaling", *tiny))
    fake_engine.feed(recording.ready, *recording.reports[:3])
    app = TrainTermApp(fake_engine, save_dir=str(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, 3)
        await pilot.press("L", "r")
        await until(pilot, lambda: "Running `trainterm scaling" in _shown(app), "running said")
        await until(pilot, lambda: "caveats" in _shown(app), "the report", timeout=240)
        shown = _shown(app)
        assert "runs/scaling/scaling.txt, just now, scenario tiny" in shown
        assert all(size in shown for size in ("8x1x1", "16x1x1", "32x2x1"))
        assert (tmp_path / "runs" / "scaling" / "scaling.json").exists()
