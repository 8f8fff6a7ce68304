"""Checkpoints under faults: a save killed half-way, a save that fails half-way, a pickle that
runs code, and two processes saving the same checkpoint at once."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from engine_fixtures import make_trainer, tiny_corpus

from model import checkpoint
from model.checkpoint import CheckpointError, save_checkpoint
from model.resume import load_checkpoint

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def corpus() -> str:
    return tiny_corpus()


def saved_at_step_1(corpus, tmp_path) -> Path:
    trainer = make_trainer(corpus, tmp_path)
    trainer.step()
    return save_checkpoint(trainer, tmp_path / "ckpt")


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# The child resumes the step-1 checkpoint, takes a step and saves it, stopping at `point`
# to say so: the test kills it there, so the kill lands exactly where it hurts most.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    import torch
    from engine_fixtures import tiny_corpus
    from model.checkpoint import save_checkpoint
    from model.resume import load_checkpoint

    path, point = Path(sys.argv[1]), sys.argv[2]
    trainer = load_checkpoint(path, tiny_corpus())
    trainer.step()

    def hold():
        print("held", flush=True)
        time.sleep(600)

    if point == "writing":
        def half_a_file(obj, file):
            with open(file, "wb") as f:
                f.write(b"PK\\x03\\x04 half of state.pt")
                f.flush()
                hold()
        torch.save = half_a_file
    else:
        rename = Path.rename
        def rename_then_hold(self, target):
            moved = rename(self, target)
            if Path(target) == (path.with_name("." + path.name + ".old") if point == "aside"
                                else path):
                hold()
            return moved
        Path.rename = rename_then_hold
    save_checkpoint(trainer, path)
    print("finished", flush=True)
    """
)


def wait_for_line(process: subprocess.Popen, timeout: float = 120.0) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"the saving process said nothing within {timeout}s"
    return process.stdout.readline().strip()


@pytest.mark.parametrize(
    "point, survivor",
    [
        ("writing", 1),  # half of state.pt written in the temporary folder
        ("aside", 1),  # the old checkpoint moved aside, the new one not yet in place
        ("swapped", 2),  # the new one in place, the old one not yet removed
    ],
)
def test_a_save_killed_half_way_leaves_a_loadable_checkpoint(corpus, tmp_path, point, survivor):
    path = saved_at_step_1(corpus, tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), point, str(TESTS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_line(child) == "held"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    left = [n for n in names(tmp_path) if n.startswith(".ckpt.")]
    assert left, "the kill left nothing half-done: it did not land mid-save"

    resumed = load_checkpoint(path, corpus)  # the leftovers are not read
    assert resumed.state.step == survivor and len(resumed.state.losses) == survivor

    resumed.step()
    save_checkpoint(resumed, path)
    assert names(tmp_path) == ["cache", "ckpt"], "a dead save's folders were not cleaned"
    assert load_checkpoint(path, corpus).state.step == survivor + 1


def test_a_save_that_fails_half_way_keeps_the_previous_checkpoint(corpus, tmp_path, monkeypatch):
    path = saved_at_step_1(corpus, tmp_path)
    trainer = load_checkpoint(path, corpus)
    trainer.step()

    def disk_full(obj, file):
        Path(file).write_bytes(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device") as err:
        save_checkpoint(trainer, path)
    assert "\n" not in str(err.value)
    monkeypatch.undo()
    assert names(tmp_path) == ["cache", "ckpt"]
    assert load_checkpoint(path, corpus).state.step == 1


class RunsCode:
    """Unpickling this calls exec: what a booby-trapped checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def test_a_pickle_that_runs_code_is_refused_and_never_runs(corpus, tmp_path):
    path = saved_at_step_1(corpus, tmp_path)
    marker = tmp_path / "ran"
    state = torch.load(path / "state.pt", weights_only=True)
    state["optimizer"]["extra"] = RunsCode(marker)
    torch.save(state, path / "state.pt")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, corpus)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    assert "refused" in message and "state.pt" in message
    assert not marker.exists(), "the pickle's code ran"


# Saves the step-1 checkpoint again and again once told to go; says how many failed.
HAMMER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from engine_fixtures import tiny_corpus
    from model.checkpoint import CheckpointError, save_checkpoint
    from model.resume import load_checkpoint

    path, steps = Path(sys.argv[1]), int(sys.argv[2])
    trainer = load_checkpoint(path, tiny_corpus())
    for _ in range(steps):
        trainer.step()
    print("ready", flush=True)
    sys.stdin.readline()
    failed = []
    for _ in range(15):
        try:
            save_checkpoint(trainer, path)
        except CheckpointError as e:
            failed.append(str(e))
    print(f"failed {len(failed)} {failed[:1]}", flush=True)
    """
)


def test_two_processes_saving_one_checkpoint_take_turns(corpus, tmp_path):
    """The overlap two `s` presses only sometimes produce, forced: 15 saves each, at once."""
    path = saved_at_step_1(corpus, tmp_path)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, str(path), str(steps), str(TESTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for steps in (1, 2)
    ]
    try:
        for child in children:
            assert wait_for_line(child) == "ready"
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            said = wait_for_line(child)
            assert said.startswith("failed 0 "), said
            assert child.wait(timeout=30) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert names(tmp_path) == ["cache", "ckpt"]
    assert load_checkpoint(path, corpus).state.step in (2, 3)


def at_step(app, step: int) -> bool:
    return app.first.latest is not None and app.first.latest.step == step


async def test_two_apps_saving_the_same_checkpoint_at_once_both_land_whole(tmp_path):
    """Two app instances on one save folder, `s` pressed in both at the same moment, a few
    rounds: every save succeeds and what is on disk is always one of them, whole."""
    import asyncio

    from stage_fixtures import until
    from test_cli import TINY_SCENARIO

    from model.engine.options import EngineOptions
    from model.engine.process import EngineHandle
    from scenarios import load_scenario
    from tui.app import TrainTermApp

    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "scenario.toml").write_text(TINY_SCENARIO)
    (folder / "corpus.txt").write_text(tiny_corpus())
    saves = tmp_path / "saves"
    handles = [
        EngineHandle(EngineOptions(scenario=str(folder), seed=seed, save_dir=str(saves)))
        for seed in (1, 2)
    ]
    apps = [TrainTermApp(h, restart=None) for h in handles]
    titles: dict[int, list[str]] = {0: [], 1: []}
    for i, app in enumerate(apps):
        app.notify = lambda message, i=i, **kw: titles[i].append(kw.get("title", ""))
    try:
        async with apps[0].run_test(size=(80, 24)) as a, apps[1].run_test(size=(80, 24)) as b:
            pilots = {0: a, 1: b}
            for i, app in enumerate(apps):
                await until(pilots[i], lambda app=app: app.first.state == "paused", "the trainer")
            for step in range(1, 5):
                for i, app in enumerate(apps):
                    await pilots[i].press("n")
                    await until(pilots[i], lambda app=app, s=step: at_step(app, s), "a step")
                await asyncio.gather(a.press("s"), b.press("s"))
                for i in titles:
                    await until(pilots[i], lambda i=i, s=step: len(titles[i]) == s, "an answer")
                    assert titles[i][-1] == f"Saved checkpoint @ step {step}", titles[i]
                on_disk = saves / "pretrain-checkpoint"
                losses = load_checkpoint(on_disk, load_scenario(str(folder))).state.losses
                assert losses in [list(app.first.series.train) for app in apps]
                assert names(saves) == ["pretrain-checkpoint"]
    finally:
        for handle in handles:
            handle.stop()
