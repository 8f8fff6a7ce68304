"""A session whose app ignores quit: the server's real code (ClassroomServer, Session, the
seats) with a stand-in app that records what it is told and dies only when killed. It is
asked to quit, given QUIT_GRACE, its whole group is sent SIGTERM, then SIGKILL, and only
then is the seat free again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import time

import aiohttp
import pytest
from aiohttp import web
from serve_fixtures import LEAVING_DEADLINE

from tui.serve import process_groups as procs
from tui.serve.command import bind, url_of
from tui.serve.server import QUIT_GRACE, ClassroomServer

pytestmark = pytest.mark.slow

# textual-serve's side of the pipe: a prelude line, then framed packets ("D"/"M", a 4-byte
# length, the payload). The child stands for the trainer: in the app's group, as deaf.
STUBBORN_APP = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time

    log = open(sys.argv[1], "a", buffering=1)

    def note(what):
        log.write(f"{what} {os.getpid()} {time.monotonic()}\\n")

    signal.signal(signal.SIGTERM, lambda *_: note("TERM"))
    if sys.argv[2:] == ["child"]:
        note("child")
        while True:
            time.sleep(1)
    subprocess.Popen([sys.executable, __file__, sys.argv[1], "child"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    out = sys.stdout.buffer
    screen = b"a stubborn app"
    out.write(b"__GANGLION__\\n" + b"D" + len(screen).to_bytes(4, "big") + screen)
    out.flush()
    note("ready")
    stdin = sys.stdin.buffer
    while kind := stdin.read(1):
        payload = stdin.read(int.from_bytes(stdin.read(4), "big"))
        if kind == b"M" and b'"quit"' in payload:
            note("quit")  # and stays
    while True:
        time.sleep(1)
    """
)


class StubbornServer(ClassroomServer):
    def __init__(self, script, log, save_root) -> None:
        super().__init__([], limit=1, session_env={}, save_root=str(save_root))
        self.script, self.log = script, log

    def session_argv(self, number: int) -> list[str]:
        return [sys.executable, str(self.script), str(self.log)]


def events(log) -> list[tuple[str, int, float]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [(what, int(pid), float(when)) for what, pid, when in map(str.split, lines)]


async def wait_for(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.05)


async def test_an_app_that_ignores_quit_is_terminated_then_killed_and_its_seat_freed(tmp_path):
    script, log = tmp_path / "stubborn.py", tmp_path / "events.log"
    script.write_text(STUBBORN_APP)
    server = StubbornServer(script, log, tmp_path / "saves")
    sock = bind("127.0.0.1", 0, public=False)
    runner = web.AppRunner(await server._make_app(), handle_signals=False, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    url, leader = url_of(sock), None
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{url}/ws?width=80&height=24")
            message = await ws.receive(timeout=60)
            assert message.data == b"a stubborn app", message
            await wait_for(lambda: {"ready", "child"} <= {e[0] for e in events(log)},
                           "the app and its child to start", 60)  # fmt: skip
            [session] = server.seats.sessions
            leader = session.pid
            members = {p.pid for p in procs.group(leader)}
            assert len(members) == 2, members
            async with http.get(url) as page:
                assert page.status == 503  # the one seat is taken

            await ws.close()  # the tab closes
            closed = time.monotonic()
            await wait_for(lambda: server.seats.taken == 0, "the seat to be freed",
                           LEAVING_DEADLINE)  # fmt: skip
            # The seat is free only once every process of the session is gone.
            assert not procs.group(leader)
            assert session._process.returncode == -signal.SIGKILL
            async with http.get(url) as page:
                assert page.status == 200
    finally:
        await server.end_all()
        await runner.cleanup()
        sock.close()
        if leader is not None:  # the test failed with the group still there: end it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader, signal.SIGKILL)

    seen = events(log)
    said = [what for what, pid, _ in seen if pid == leader]
    assert said[:2] == ["ready", "quit"], seen  # asked to quit first
    termed = {pid: when for what, pid, when in seen if what == "TERM"}
    assert set(termed) == members, seen  # then the whole group was sent SIGTERM
    assert min(termed.values()) - closed >= QUIT_GRACE, "SIGTERM came before the quit grace"
