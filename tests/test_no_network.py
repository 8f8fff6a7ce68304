"""The suite's own guards: no network, and no test that hangs for ever."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import no_network

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("192.0.2.1", 80)  # TEST-NET-1: documentation only, never routed


def test_leaving_the_machine_is_refused_and_loopback_is_not():
    before = len(no_network.attempts)
    with pytest.raises(no_network.NetworkBlocked):
        socket.create_connection(OUTSIDE, timeout=5)
    with pytest.raises(no_network.NetworkBlocked):
        socket.getaddrinfo("example.com", 443)
    assert no_network.attempts[before:] == ["192.0.2.1:80", "example.com"]
    del no_network.attempts[before:]  # refused on purpose: not this test's failure

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=5) as client:
            peer, _ = server.accept()
            client.sendall(b"ok")
            assert peer.recv(2) == b"ok"
            peer.close()


def test_processes_the_tests_start_are_guarded_too():
    code = f"import socket; socket.create_connection({OUTSIDE!r}, timeout=5)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "NetworkBlocked" in result.stderr and "192.0.2.1:80" in result.stderr


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
