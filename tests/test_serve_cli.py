"""`trainterm serve`'s flags: bad input is one line and exit 2, never a traceback; loopback
unless asked; the app's flags reach every session."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui.serve.command import app_argv, build_parser, is_loopback


def serve(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--no-warm", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trainterm serve: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]


def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(serve("--port", str(port)), f"--port {port}", "already in use")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--host", "192.0.2.1", "--public"], ["192.0.2.1", "not an address of this machine"]),
        (["--host", "0.0.0.0"], ["--public", "no password"]),
        (["--host", "10.1.2.3"], ["--public"]),
        (["--max-sessions", "0"], ["--max-sessions", "at least 1"]),
        (["--max-sessions", "many"], ["--max-sessions", "whole number"]),
        (["--port", "70000"], ["--port", "0-65535"]),
        (["--port", "http"], ["--port"]),
        (["--threads", "0"], ["--threads"]),
        (["--scenario", "/no/such/folder"], ["no such folder"]),
        (["--corpus", "/no/such.txt"], ["no such file"]),
        (["--no-such-flag"], ["--no-such-flag"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, words):
    one_line_error(serve(*args), *words)


def test_help_names_the_warning_and_the_pass_through():
    result = serve("--help")
    assert result.returncode == 0
    for text in ("--max-sessions", "--public", "no authentication", "--scenario", "--threads"):
        assert text in result.stdout


def test_the_app_flags_pass_through_with_absolute_paths(tmp_path):
    scenario = tmp_path / "s"
    args = build_parser().parse_args(
        ["--scenario", str(scenario), "--threads", "1", "--seed", "5", "--no-mouse"]
    )
    assert app_argv(args) == ["--scenario", str(scenario), "--threads", "1", "--seed", "5",
                              "--no-mouse"]  # fmt: skip
    assert args.save_dir == "runs/serve" and args.max_sessions is None
    assert app_argv(build_parser().parse_args(["--fresh"])) == ["--fresh"]


@pytest.mark.parametrize(
    "address, loopback",
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.4", False), ("", False)],
)  # fmt: skip
def test_what_counts_as_loopback(address, loopback):
    assert is_loopback(address) is loopback


def test_bench_serve_refuses_bad_flags_in_one_line():
    from tui.cli import main

    assert main(["bench-serve", "--seconds", "soon"]) == 2


def test_procs_sees_this_process_and_its_memory():
    import os

    from tui.serve import process_groups as procs

    me = procs.read(os.getpid())
    assert me is not None and me.pgid == os.getpgid(0)
    assert me.pid in [p.pid for p in procs.group(me.pgid)]
    rss, pss = procs.memory_kib(os.getpid())
    assert rss >= pss > 0
    assert b"python" in procs.cmdline(os.getpid()).lower()
    assert procs.read(2**22 + 1) is None


def test_the_browser_tests_find_chromium_as_ci_does(tmp_path, monkeypatch):
    """`chromium` on PATH, the `command -v chromium` .ci/run installs by: one rule, so the
    browser tests cannot skip where .ci/run saw a browser and installed none."""
    from tui.serve.browser import chromium

    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.delenv("TRAINTERM_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium() == str(fake)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert chromium() is None
    ci_run = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "command -v chromium" in ci_run and "command -v tmux" in ci_run
