"""The trainer process as the screen sees it: commands in, plain reports out."""

import subprocess
import sys
import time

import pytest
from engine_fixtures import receive, tiny_corpus
from test_cli import TINY_SCENARIO

from model import protocol as p
from model.engine import REPORT_INTERVAL, EngineHandle, EngineOptions
from model.settings import DEFAULT_THREADS


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "scenario.toml").write_text(TINY_SCENARIO.replace("steps = 20", "steps = 100000"))
    (folder / "corpus.txt").write_text(tiny_corpus())
    handle = EngineHandle(EngineOptions(scenario=str(folder), save_dir=str(folder / "saves")))
    ready = receive(handle, p.EngineReady)
    assert ready.scenario == "tiny" and ready.n_layer == 2 and ready.total_steps == 100000
    assert ready.threads == DEFAULT_THREADS  # no --threads: the trainer process's default
    yield handle
    handle.stop()
    assert not handle.process.is_alive()


def collect(handle, done, what: str, timeout: float = 60.0) -> list:
    """Messages until ``done(messages so far)``; fails after ``timeout`` naming ``what``."""
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.conn.poll(0.1):
            messages.append(handle.conn.recv())
            assert not isinstance(messages[-1], p.EngineError), messages[-1]
            if done(messages):
                return messages
    raise AssertionError(f"never happened within {timeout}s: {what}")


def pause_and_settle(handle) -> list:
    """Pause, then everything the engine sends up to its answer to one more command: the
    engine flushes the steps trained before the pause ahead of that answer."""
    handle.send(p.Pause())
    handle.send(p.Sample("", 1))
    return collect(
        handle, lambda ms: isinstance(ms[-1], p.SampleText), "the answer after the pause"
    )


def points(messages) -> list[int]:
    return [s for m in messages if isinstance(m, p.StepReport) for s, _ in m.losses]


def test_step_sends_one_report_per_step(engine):
    engine.send(p.Step(1))
    report = receive(engine, p.StepReport)
    assert report.step == 1 and report.losses == ((1, report.loss),)
    engine.send(p.Step(3))
    reports = collect(engine, lambda ms: 4 in points(ms), "step 4")
    reports = [m for m in reports if isinstance(m, p.StepReport)]
    assert [r.step for r in reports] == [2, 3, 4]
    assert points(reports) == [2, 3, 4]


def test_play_coalesces_reports_but_keeps_every_loss_point(engine):
    started = time.monotonic()
    engine.send(p.Play())
    seen = collect(engine, lambda ms: len(points(ms)) >= 60, "60 steps")
    seen += pause_and_settle(engine)
    elapsed = time.monotonic() - started
    reports = [m for m in seen if isinstance(m, p.StepReport)]
    steps = points(reports)
    assert steps == list(range(steps[0], steps[-1] + 1)), "a loss point was dropped"
    assert all(r.losses[-1][0] == r.step for r in reports)
    # However fast the machine, reports never outpace the screen's redraws: at most one per
    # REPORT_INTERVAL, plus the pause's. More steps than that arrive coalesced, none lost.
    assert len(reports) <= 2 + elapsed / REPORT_INTERVAL


def test_speed_cap_limits_steps_per_second(engine):
    engine.send(p.SetSpeed(4.0))
    started = time.monotonic()
    engine.send(p.Play())
    seen = collect(engine, lambda ms: len(points(ms)) >= 6, "6 capped steps")
    seen += pause_and_settle(engine)
    elapsed = time.monotonic() - started
    engine.send(p.SetSpeed(None))
    steps = points(seen)
    assert len(steps) >= 6 and steps == list(range(steps[0], steps[-1] + 1))
    # Steps start at least 1/4 s apart: n of them span (n - 1) / 4 s, however slow the machine.
    assert (len(steps) - 1) / 4.0 <= elapsed


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


def test_samples_are_drawn_in_the_engine_by_the_sampler_sent(engine):
    sampler = p.Sampler(temperature=1.3, top_k=10, top_p=0.9, seed=8)
    engine.send(p.Sample("The capital of", 10, sampler))
    first = receive(engine, p.SampleText)
    assert first.sampler == sampler and 1 <= len(first.choices) <= 10
    assert all(c.drawn_id in {a.token_id for a in c.candidates} for c in first.choices)
    engine.send(p.Sample("The capital of", 10, sampler))
    assert receive(engine, p.SampleText) == first, "the same seed and model drew differently"
    # Settings the screen should never send are refused in a line, and the engine lives on.
    engine.send(p.Sample("", 4, p.Sampler(temperature=-1.0)))
    error = receive_error(engine)
    assert not error.fatal and "temperature" in error.message
    engine.send(p.Sample("", 4, p.GREEDY))
    assert receive(engine, p.SampleText).sampler == p.GREEDY


def receive_error(handle, timeout: float = 60.0) -> p.EngineError:
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.conn.poll(0.1):
            messages.append(handle.conn.recv())
            if isinstance(messages[-1], p.EngineError):
                return messages[-1]
    raise AssertionError(f"no EngineError within {timeout}s: {messages}")


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
    walked = collect(engine, lambda ms: isinstance(ms[-1], p.StepReport), "a walked step")
    pause_and_settle(engine)
    engine.send(p.SetSpeed(None))
    phases = [m.phase for m in walked if isinstance(m, p.LoopFigures)]
    assert phases == list(p.PHASES[:-1])
    assert walked[-1].figures.phase == "update" and walked[-1].step == walked[0].step


def test_layering_contracts_hold():
    """The import-linter contracts in pyproject.toml: tui → model → scenarios, never back."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "broken" in result.stdout and "0 broken" in result.stdout
