"""Shared fixtures for the app's tests: a seeded text file, a stand-in engine fed over a real
pipe, and a short training run recorded from the real trainer (for deterministic snapshots)."""

from __future__ import annotations

import atexit
import importlib.util
import multiprocessing
import os
import queue
import random
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from model import protocol as p

# Tokenizers trained by tests (and by engine processes the tests start, which inherit the
# environment) go to a throwaway cache, never the user's ~/.cache.
os.environ.setdefault("TRAINTERM_CACHE", tempfile.mkdtemp(prefix="trainterm-test-cache-"))

# No test reaches the network: connections leaving the machine are refused here and, through
# PYTHONPATH, in every Python process a test starts (see no_network/sitecustomize.py).
NO_NETWORK = Path(__file__).resolve().parent / "no_network"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(NO_NETWORK), *filter(None, [os.environ.get("PYTHONPATH")])]
)
_spec = importlib.util.spec_from_file_location("no_network", NO_NETWORK / "sitecustomize.py")
no_network = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(no_network)
# Every process of this run, this one and those the tests start, appends its refused attempts
# here. Always a new file: a test run a test starts must not write into its parent's.
_fd, NETWORK_LOG = tempfile.mkstemp(prefix="trainterm-test-network-", suffix=".log")
os.close(_fd)
os.environ[no_network.LOG_VARIABLE] = NETWORK_LOG
atexit.register(lambda: Path(NETWORK_LOG).unlink(missing_ok=True))
_forgiven_to = 0


def network_attempts_since(offset: int) -> list[str]:
    with open(NETWORK_LOG, encoding="utf-8") as log:
        log.seek(max(offset, _forgiven_to))
        return log.read().splitlines()


def forgive_network_attempts() -> None:
    """The attempts so far were made on purpose (a test of the guard): not a failure."""
    global _forgiven_to
    _forgiven_to = os.path.getsize(NETWORK_LOG)


@pytest.fixture(autouse=True)
def network_stays_unused():
    """Fail a test that tried the network, even if the code under test hid the error, in
    this process or in any process the test started."""
    start = os.path.getsize(NETWORK_LOG)
    yield
    tried = network_attempts_since(start)
    assert not tried, f"the test tried to reach the network: {tried}"


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a slow test never skips: a missing tmux or browser there would hide the only
    tests of what they drive, so the skip fails the run instead."""
    outcome = yield
    report = outcome.get_result()
    slow = item.get_closest_marker("slow") is not None
    if report.skipped and slow and not hasattr(report, "wasxfail") and _ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"a slow test skipped in CI (CI={os.environ['CI']}): {reason}"


_PLACES = ["Velmora", "Tarsk", "Orinth", "Quellan", "Zandor", "Mirel", "Keshet", "Ablon"]
_THINGS = ["bread", "fish", "plums", "rice", "cheese", "figs", "tea", "salt"]
_VERBS = ["like", "sell", "grow", "trade", "cook"]


def seeded_text(sentences: int = 700, seed: int = 11) -> str:
    """English-ish sentences about made-up places: small, repetitive, quick to learn."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        place = rng.choice(_PLACES)
        capital = place[:3] + "port"
        out.append(
            rng.choice(
                [
                    f"The capital of {place} is {capital}.",
                    f"{capital} is the largest city of {place}.",
                    f"People in {place} {rng.choice(_VERBS)} {rng.choice(_THINGS)}.",
                    f"In {capital} they {rng.choice(_VERBS)} {rng.choice(_THINGS)} by the sea.",
                ]
            )
        )
    return " ".join(out)


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "places.txt"
    path.write_text(seeded_text(), encoding="utf-8")
    return path


class FakeEngine:
    """Stands in for model.engine.process.EngineHandle: a real pipe the test writes reports into,
    and a list of the commands the app sent."""

    def __init__(self) -> None:
        self.conn, self.peer = multiprocessing.Pipe()
        self.sent: list = []
        # A writer thread, as the engine is another process: a pipe holds only so much
        # before a writer blocks until the app reads.
        self._queue: queue.Queue = queue.Queue()
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._writer.start()

    def _write(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self.peer.send(message)
            except OSError:
                return

    def send(self, command) -> None:
        self.sent.append(command)

    def feed(self, *messages) -> None:
        for message in messages:
            self._queue.put(message)

    def stop(self) -> None:
        self._queue.put(None)
        self.peer.close()
        self.conn.close()


@pytest.fixture
def fake_engine():
    engine = FakeEngine()
    yield engine
    engine.stop()


@dataclass(frozen=True)
class Recording:
    ready: p.EngineReady
    reports: tuple[p.StepReport, ...]
    sample: p.SampleText


@pytest.fixture(scope="session")
def recording() -> Recording:
    """40 steps of the real trainer, recorded by tests/record.py with the wall-clock fields
    fixed: screenshots depend neither on the machine's speed nor on torch's arithmetic."""
    from recorded import load

    return Recording(**load("pretrain"))
