"""The suite's own guards: no network, and no test that hangs for ever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import forgive_network_attempts, network_attempts_since, no_network

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("192.0.2.1", 80)  # TEST-NET-1: documentation only, never routed


def test_leaving_the_machine_is_refused_and_loopback_is_not():
    before = len(no_network.attempts)
    with pytest.raises(no_network.NetworkBlocked):
        socket.create_connection(OUTSIDE, timeout=5)
    with pytest.raises(no_network.NetworkBlocked):
        socket.getaddrinfo("example.com", 443)
    assert no_network.attempts[before:] == ["192.0.2.1:80", "example.com"]
    logged = network_attempts_since(0)[-2:]
    assert [line.split()[0] for line in logged] == ["192.0.2.1:80", "example.com"]
    forgive_network_attempts()  # refused on purpose: not this test's failure

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=5) as client:
            peer, _ = server.accept()
            client.sendall(b"ok")
            assert peer.recv(2) == b"ok"
            peer.close()


def test_processes_the_tests_start_are_guarded_too(tmp_path):
    code = f"import socket; socket.create_connection({OUTSIDE!r}, timeout=5)"
    # The child reports to a log of its own: its attempt is on purpose.
    log = tmp_path / "attempts.log"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**os.environ, no_network.LOG_VARIABLE: str(log)},
    )  # fmt: skip
    assert result.returncode == 1
    assert "NetworkBlocked" in result.stderr and "192.0.2.1:80" in result.stderr
    assert log.read_text().startswith("192.0.2.1:80 (pid ")


def inner_pytest(folder: Path, *args: str, env: dict | None = None, replace_env=False):
    """pytest on ``folder``'s tests with this suite's conftest.py and configuration."""
    base = {} if replace_env else dict(os.environ)
    env = {**base, **(env or {})}
    tests = str(ROOT / "tests")
    path = os.pathsep.join([tests, str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(folder), "-p", "conftest", "-p", "no:cacheprovider", "-rA", *args,
         str(folder)],
        capture_output=True, text=True, timeout=240, cwd=folder,
        env={**env, "PYTHONPATH": path},
    )  # fmt: skip


def test_a_child_that_swallows_the_refusal_still_fails_its_test(tmp_path):
    (tmp_path / "test_child.py").write_text(
        textwrap.dedent(
            f"""
            import subprocess, sys

            def child(code):
                return subprocess.run([sys.executable, "-c", code], timeout=120).returncode

            def test_child_hides_a_connection():
                code = (
                    "import socket\\n"
                    "try:\\n"
                    "    socket.create_connection({OUTSIDE!r}, timeout=5)\\n"
                    "except OSError:\\n"
                    "    pass\\n"
                )
                assert child(code) == 0

            def test_child_stays_home():
                assert child("import socket; socket.getaddrinfo('localhost', 80)") == 0
            """
        )
    )
    result = inner_pytest(tmp_path)
    out = result.stdout
    assert result.returncode == 1, out[-3000:]
    # The call itself passes (the child exited 0); the guard's teardown fails it.
    assert "ERROR at teardown of test_child_hides_a_connection" in out, out[-3000:]
    assert "ERROR test_child.py::test_child_stays_home" not in out, out[-3000:]
    assert "2 passed, 1 error" in out, out[-3000:]
    assert "the test tried to reach the network: ['192.0.2.1:80 (pid " in out, out[-3000:]


def test_a_hung_test_fails_by_itself(tmp_path):
    limit = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert 0 < int(limit["timeout"]) <= 600, "every test has a time limit"
    (tmp_path / "test_hangs.py").write_text(
        textwrap.dedent(
            """
            import threading

            def test_waits_for_an_event_nobody_sets():
                threading.Event().wait()
            """
        )
    )
    # The project's configuration, with its limit shortened so the hang ends quickly.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), "-o", "timeout=2", "-p", "no:cacheprovider",
         str(tmp_path / "test_hangs.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-2000:]
    assert "Timeout" in result.stdout and "1 failed" in result.stdout
