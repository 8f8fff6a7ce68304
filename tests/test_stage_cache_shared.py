"""The stage cache shared by many sessions (`trainterm serve`): two processes finishing the
same stage at once write it once and corrupt nothing, a reader never sees half an entry, an
entry is never replaced, and a read-only session writes nothing at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from engine_fixtures import tiny_corpus
from test_checkpoint_faults import wait_for_line
from test_cli import TINY_SCENARIO

from model.pipeline import cached_stage, new_trainer, run_headless, store_finished
from model.resume import load_checkpoint
from scenarios import load_scenario

TESTS = Path(__file__).resolve().parent

# Trains the tiny scenario's default pretraining run, then, told to go, caches it.
FINISHER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from model.pipeline import new_trainer, run_headless, store_finished
    from scenarios import load_scenario

    scenario = load_scenario(sys.argv[1])
    trainer = new_trainer(scenario, "pretrain")
    run_headless(trainer)
    print("ready", flush=True)
    sys.stdin.readline()
    print(f"stored {store_finished(trainer, scenario)}", flush=True)
    """
)

# Polls the cache while the finishers write: every entry it is shown must load whole.
READER = textwrap.dedent(
    """
    import sys, time
    from model.loaded_model import load_model
    from model.pipeline import cached_stage
    from scenarios import load_scenario

    scenario = load_scenario(sys.argv[1])
    print("ready", flush=True)
    loads, deadline = 0, time.monotonic() + 120
    while loads < 20 and time.monotonic() < deadline:
        path = cached_stage(scenario, "pretrain")
        if path is not None:
            load_model(path)  # raises on half an entry
            loads += 1
    print(f"loaded {loads}", flush=True)
    """
)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TRAINTERM_CACHE_READONLY", raising=False)
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "scenario.toml").write_text(TINY_SCENARIO)
    (folder / "corpus.txt").write_text(tiny_corpus())
    return folder


def spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_sessions_finishing_the_same_stage_at_once_write_it_once(tiny, tmp_path):
    finishers = [spawn(FINISHER, str(tiny), str(TESTS)) for _ in range(2)]
    reader = spawn(READER, str(tiny))
    children = [*finishers, reader]
    try:
        for child in children:
            assert wait_for_line(child) == "ready"
        for child in finishers:
            child.stdin.write("go\n")
            child.stdin.flush()
        stored = {wait_for_line(child) for child in finishers}
        assert wait_for_line(reader) == "loaded 20"
        for child in children:
            assert child.wait(timeout=60) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    scenario = load_scenario(tiny)
    entry = cached_stage(scenario, "pretrain")
    assert stored == {f"stored {entry}"}, stored  # both got the one entry
    stages = tmp_path / "cache" / "stages"
    assert [p.name for p in stages.iterdir()] == [entry.name]  # no temporary or old folder
    assert load_checkpoint(entry, scenario).state.step == scenario.settings("pretrain").steps


def test_an_entry_once_cached_is_never_replaced(tiny):
    scenario = load_scenario(tiny)
    trainer = new_trainer(scenario, "pretrain")
    run_headless(trainer)
    entry = store_finished(trainer, scenario)
    before = {p.name: p.stat().st_ino for p in entry.iterdir()}
    again = new_trainer(scenario, "pretrain")
    run_headless(again)
    assert store_finished(again, scenario) == entry
    assert {p.name: p.stat().st_ino for p in entry.iterdir()} == before


def test_a_read_only_session_writes_no_cache(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINTERM_CACHE_READONLY", "1")
    scenario = load_scenario(tiny)
    trainer = new_trainer(scenario, "pretrain")  # trains its tokenizer: not cached either
    run_headless(trainer)
    assert store_finished(trainer, scenario) is None
    cache = tmp_path / "cache"
    written = [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
    assert not written, written
