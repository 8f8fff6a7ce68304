"""While playing, the reports the screen gets carry the batch it shows: the engine computes
display figures only for steps it will send, so a report sent without them would leave the
batch, the loop and the weights on screen standing still."""

import time

import pytest
from engine_fixtures import receive, tiny_corpus
from test_cli import TINY_SCENARIO

from model import protocol as p
from model.engine.options import EngineOptions
from model.engine.process import EngineHandle


@pytest.fixture
def engine(tmp_path):
    (tmp_path / "scenario.toml").write_text(TINY_SCENARIO.replace("steps = 20", "steps = 100000"))
    (tmp_path / "corpus.txt").write_text(tiny_corpus())
    handle = EngineHandle(EngineOptions(scenario=str(tmp_path), save_dir=str(tmp_path / "s")))
    receive(handle, p.EngineReady)
    yield handle
    handle.stop()


def test_every_report_while_playing_carries_the_batch(engine):
    engine.send(p.Play())
    reports = []
    deadline = time.monotonic() + 120
    while len(reports) < 12:
        assert time.monotonic() < deadline, f"only {len(reports)} reports while playing"
        reports.append(receive(engine, p.StepReport))
    engine.send(p.Pause())
    for report in reports:
        assert report.row and report.figures is not None, f"step {report.step}: no batch"
    steps = [s for r in reports for s, _ in r.losses]
    assert steps == list(range(steps[0], steps[-1] + 1)), "a loss point was dropped"


def test_a_pause_lands_on_a_step_the_screen_can_show(engine):
    """Paused, the screen shows the step its status line names: the batch, the loop ring and
    the loss of one step, not the figures of the last display step before it."""
    for _ in range(3):
        engine.send(p.Play())
        receive(engine, p.StepReport)
        last = receive(engine, p.StepReport)
        engine.send(p.Pause())
        engine.send(p.Sample(prompt="", max_new_tokens=1))  # answered after the pause
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "no answer to the sample"
            if not engine.conn.poll(0.1):
                continue
            message = engine.conn.recv()
            if isinstance(message, p.StepReport):
                last = message
            elif isinstance(message, p.SampleText):
                break
        assert last.step == message.step
        assert last.row and last.figures is not None, f"paused at step {last.step}: no batch"
        assert last.losses[-1][0] == last.step
