"""The trainer process as the screen sees it: commands in, plain reports out."""

import multiprocessing
import subprocess
import sys
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest
from engine_fixtures import receive, tiny_corpus
from test_cli import TINY_SCENARIO

from model import protocol as p
from model.engine.options import EngineOptions
from model.engine.process import EngineHandle
from model.settings import DEFAULT_THREADS


def tiny_scenario(folder):
    (folder / "scenario.toml").write_text(TINY_SCENARIO.replace("steps = 20", "steps = 100000"))
    (folder / "corpus.txt").write_text(tiny_corpus())
    return folder


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """One engine process for the module (starting one costs seconds)."""
    folder = tiny_scenario(tmp_path_factory.mktemp("tiny"))
    handle = EngineHandle(EngineOptions(scenario=str(folder), save_dir=str(folder / "saves")))
    ready = receive(handle, p.EngineReady)
    assert ready.scenario == "tiny" and ready.n_layer == 2 and ready.total_steps == 100000
    assert ready.threads == DEFAULT_THREADS  # no --threads: the trainer process's default
    yield handle
    handle.stop()
    assert not handle.process.is_alive()


@pytest.fixture
def engine(started):
    """The module's engine as a new one for each test, whatever ran before: uncapped,
    paused, its run reset to step 0, nothing left unread in its pipe."""
    started.send(p.SetSpeed(None))
    started.send(p.Reset())
    started.send(p.Sample("", 1))
    seen = collect(started, lambda ms: isinstance(ms[-1], p.SampleText), "the reset")
    assert [m.step for m in seen if isinstance(m, p.EngineReady)][-1:] == [0]
    return started


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


STEP_SECONDS = 0.002  # a step on the virtual clock: p.REPORT_INTERVAL is 50 of them


def test_play_coalesces_reports_but_keeps_every_loss_point(tmp_path, monkeypatch):
    """The real engine loop and trainer, in a thread of this process, on a clock that moves
    STEP_SECONDS a step: reports are counted against steps, so a machine too slow for more
    than one step an interval cannot pass one report a step off as coalescing."""
    import model.engine.engine

    clock = [0.0]
    monkeypatch.setattr(model.engine.engine, "time", SimpleNamespace(perf_counter=lambda: clock[0]))

    class Clocked(model.engine.engine.Engine):
        def _step(self) -> None:
            clock[0] += STEP_SECONDS
            super()._step()

    conn, peer = multiprocessing.Pipe()
    options = EngineOptions(scenario=str(tiny_scenario(tmp_path)), threads=DEFAULT_THREADS,
                            save_dir=str(tmp_path / "saves"))  # fmt: skip
    thread = threading.Thread(target=Clocked(peer, options).run, daemon=True)
    thread.start()
    handle = SimpleNamespace(conn=conn, send=conn.send)
    try:
        receive(handle, p.EngineReady)
        handle.send(p.Play())
        seen = collect(handle, lambda ms: len(points(ms)) >= 300, "300 steps", timeout=240)
        seen += pause_and_settle(handle)
    finally:
        handle.send(p.Shutdown())
        thread.join(60)
    reports = [m for m in seen if isinstance(m, p.StepReport)]
    steps = points(reports)
    assert steps == list(range(1, steps[-1] + 1)), "a loss point was dropped"
    assert all(r.losses[-1][0] == r.step for r in reports)
    # Reports never outpace the screen's redraws: p.REPORT_INTERVAL's worth of steps at least
    # between two while playing (the pause's may come sooner). One a step would be 300.
    gaps = [b.step - a.step for a, b in zip(reports, reports[1:-1], strict=False)]
    assert min(gaps) >= p.REPORT_INTERVAL / STEP_SECONDS, [r.step for r in reports]
    assert len(reports) <= 2 + len(steps) * STEP_SECONDS / p.REPORT_INTERVAL


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
    from model.generate import sample_one
    from model.loaded_model import load_model

    engine.send(p.Step(3))
    collect(engine, lambda ms: 3 in points(ms), "step 3")
    engine.send(p.Sample("The capital of", 8))
    sample = receive(engine, p.SampleText)
    engine.send(p.Save(str(tmp_path / "ckpt")))
    saved = receive(engine, p.Saved)
    assert saved.path == str(tmp_path / "ckpt") and (tmp_path / "ckpt" / "meta.json").exists()
    # The sample is the saved model's own, seeded by its step: drawn again here from the
    # checkpoint, the same tokens, and the text is theirs.
    loaded = load_model(saved.path)
    assert (sample.prompt, sample.step, saved.step, loaded.step) == ("The capital of", 3, 3, 3)
    again = sample_one(loaded.model, loaded.tokenizer, "The capital of", 8,
                       replace(p.APP_SAMPLER, seed=3), chat=False)  # fmt: skip
    assert [c.drawn_id for c in sample.choices] == [c.drawn_id for c in again.choices]
    assert sample.text == loaded.tokenizer.decode(list(again.ids)) and len(again.ids) > 0
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
    code = "import sys, model.engine.process, model.protocol; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_engine_and_scenarios_do_not_import_textual():
    for module in [
        "model",
        "model.cli.main",
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
