"""The trainer process as the screen sees it: commands in, plain reports out."""

import subprocess
import sys
import time

import pytest
from engine_fixtures import receive, tiny_corpus
from test_cli import TINY_SCENARIO

from model import protocol as p
from model.engine import EngineHandle, EngineOptions


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "scenario.toml").write_text(TINY_SCENARIO.replace("steps = 20", "steps = 100000"))
    (folder / "corpus.txt").write_text(tiny_corpus())
    handle = EngineHandle(EngineOptions(scenario=str(folder), save_dir=str(folder / "saves")))
    ready = receive(handle, p.EngineReady)
    assert ready.scenario == "tiny" and ready.n_layer == 2 and ready.total_steps == 100000
    yield handle
    handle.stop()
    assert not handle.process.is_alive()


def drain(handle, quiet=0.5):
    messages = []
    while handle.conn.poll(quiet):
        messages.append(handle.conn.recv())
    return messages


def test_step_sends_one_report_per_step(engine):
    engine.send(p.Step(1))
    report = receive(engine, p.StepReport)
    assert report.step == 1 and report.losses == ((1, report.loss),)
    engine.send(p.Step(3))
    reports = [m for m in drain(engine) if isinstance(m, p.StepReport)]
    points = [pt for r in reports for pt in r.losses]
    assert [s for s, _ in points] == [2, 3, 4]


def test_play_coalesces_reports_but_keeps_every_loss_point(engine):
    engine.send(p.Play())
    time.sleep(2.0)
    engine.send(p.Pause())
    reports = [m for m in drain(engine) if isinstance(m, p.StepReport)]
    steps = [s for r in reports for s, _ in r.losses]
    assert steps == list(range(steps[0], steps[-1] + 1)), "a loss point was dropped"
    assert len(steps) > len(reports), "reports were not coalesced"
    assert all(r.losses[-1][0] == r.step for r in reports)


def test_speed_cap_limits_steps_per_second(engine):
    engine.send(p.SetSpeed(4.0))
    engine.send(p.Play())
    time.sleep(1.6)
    engine.send(p.Pause())
    engine.send(p.SetSpeed(None))
    steps = [s for m in drain(engine) if isinstance(m, p.StepReport) for s, _ in m.losses]
    assert 2 <= len(steps) <= 9  # ~4/s for 1.6 s; never flat out


def test_sample_save_and_reset(engine, tmp_path):
    engine.send(p.Sample("The capital of", 8))
    sample = receive(engine, p.SampleText)
    assert sample.prompt == "The capital of" and isinstance(sample.text, str)
    engine.send(p.Save(str(tmp_path / "ckpt")))
    saved = receive(engine, p.Saved)
    assert saved.path == str(tmp_path / "ckpt") and (tmp_path / "ckpt" / "meta.json").exists()
    engine.send(p.Reset())
    assert receive(engine, p.EngineReady).step == 0
    engine.send(p.Step(1))
    assert receive(engine, p.StepReport).step == 1


def test_bad_scenario_is_reported_not_raised(tmp_path):
    handle = EngineHandle(EngineOptions(corpus=str(tmp_path / "missing.txt")))
    try:
        error = receive(handle, p.EngineError)
        assert error.fatal and "missing.txt" in error.message
        handle.process.join(30)
        assert handle.process.exitcode == 0
    finally:
        handle.stop()


def test_ui_modules_do_not_import_torch():
    code = "import sys, model.engine, model.protocol; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_engine_and_scenarios_do_not_import_textual():
    for module in [
        "model",
        "model.cli",
        "model.loop",
        "model.checkpoint",
        "model.pipeline",
        "scenarios",
    ]:
        code = f"import sys, {module}; sys.exit('textual' in sys.modules)"
        assert subprocess.run([sys.executable, "-c", code]).returncode == 0, module


def test_step_phase_sends_figures_then_the_report(engine):
    engine.send(p.Step(1))
    before = receive(engine, p.StepReport).step
    for phase in p.PHASES[:-1]:
        engine.send(p.StepPhase())
        figures = receive(engine, p.LoopFigures)
        assert figures.phase == phase and figures.step == before + 1
    engine.send(p.StepPhase())
    report = receive(engine, p.StepReport)
    assert report.step == before + 1 and report.figures.phase == "update"


def test_slow_play_walks_the_loop_phase_by_phase(engine):
    engine.send(p.SetSpeed(2.0))
    engine.send(p.Play())
    time.sleep(1.2)
    engine.send(p.Pause())
    engine.send(p.SetSpeed(None))
    messages = drain(engine)
    phases = [m.phase for m in messages if isinstance(m, p.LoopFigures)]
    assert phases[:5] == list(p.PHASES[:5])
    assert any(isinstance(m, p.StepReport) for m in messages)


def test_layering_contracts_hold():
    """The import-linter contracts in pyproject.toml: tui → model → scenarios, never back."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "broken" in result.stdout and "0 broken" in result.stdout
