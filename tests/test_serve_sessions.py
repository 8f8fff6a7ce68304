"""`trainterm serve` end to end over its websocket (textual-serve's protocol, as the page
speaks it): a visitor's own app and trainer, the seat cap, and nothing left running after a
tab closes, the server stops, or the server is killed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import aiohttp
import pytest
from engine_fixtures import tiny_corpus
from serve_fixtures import Served, cmdline, engine_of, environ, session_processes, wait_until
from test_cli import TINY_SCENARIO

pytestmark = pytest.mark.slow
STEP = re.compile(rb"step (\d+)/\d+")


class Visitor:
    """A browser tab's websocket: it reads the app's screen bytes and types keys."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.screen = b""
        self.texts: list[str] = []
        self.closed = False

    async def __aenter__(self) -> Visitor:
        self.ws = await self.http.ws_connect(f"{self.url}/ws?width=120&height=40")
        await self.ws.send_json(["resize", {"width": 120, "height": 40}])
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def read_until(self, done, what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                raise AssertionError(f"never happened: {what}; screen ends {self.screen[-300:]}")
            try:
                message = await asyncio.wait_for(self.ws.receive(), min(left, 1.0))
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                self.screen += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.texts.append(message.data)
            else:
                self.closed = True

    def last_step(self) -> int | None:
        found = STEP.findall(self.screen[-20000:])
        return int(found[-1]) if found else None

    async def press(self, keys: str) -> None:
        await self.ws.send_json(["stdin", keys])


def shows(text: bytes):
    return lambda v: text in v.screen


@pytest.fixture
def tiny(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "scenario.toml").write_text(TINY_SCENARIO)
    (folder / "corpus.txt").write_text(tiny_corpus())
    return folder


async def test_a_visitor_gets_their_own_app_and_trainer_and_leaves_nothing(tmp_path, tiny):
    served = Served("--scenario", str(tiny), "--max-sessions", "3", cwd=tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            page = await http.get(served.url)
            assert page.status == 200 and 'class="textual-terminal"' in await page.text()
            async with Visitor(http, served.url) as a, Visitor(http, served.url) as b:
                for v in (a, b):
                    await v.read_until(shows(b"paused"), "the first screen, trainer ready")
                leaders = [p.pid for p in served.sessions()]
                assert len(leaders) == 2, served.everything()
                # Each its own trainer, in its own group, told the app's flags and its own folder.
                engines = [engine_of(leader) for leader in leaders]
                assert all(engines) and engines[0].pid != engines[1].pid
                saves = set()
                for leader in leaders:
                    argv = cmdline(leader).split(b"\0")
                    assert str(tiny).encode() in argv
                    saves.add(argv[argv.index(b"--save-dir") + 1])
                assert len(saves) == 2 and all(s.startswith(str(tmp_path).encode()) for s in saves)
                await a.press(" ")
                await a.read_until(lambda v: (v.last_step() or 0) >= 3, "a's steps to move")
                assert b.last_step() == 0  # b's trainer is b's alone
            groups = {leader: session_processes(leader) for leader in leaders}
            wait_until(
                lambda: not any(session_processes(leader) for leader in leaders),
                f"the closed tabs' processes to end: {groups}",
            )
            served.wait_for("visitor 2 left", "the server to free the seats")
    finally:
        assert served.stop() == 0, served.output
    assert not served.everything()
    assert "Traceback" not in served.output, served.output


async def test_the_visitor_past_the_cap_sees_the_full_page_until_a_seat_frees(tmp_path):
    served = Served("--max-sessions", "1", cwd=tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            async with Visitor(http, served.url) as first:
                await first.read_until(shows(b"trainterm"), "the first screen")
                full = await http.get(served.url)
                assert full.status == 503 and "trainterm is full" in await full.text()
                assert full.headers["Retry-After"].isdigit()
                # A page that raced for the last seat is sent to the full page.
                async with Visitor(http, served.url) as second:
                    await second.read_until(lambda v: v.closed, "the second socket to close")
                    assert any("/full" in t for t in second.texts), second.texts
                assert len(served.sessions()) == 1
            # The first tab closed: its seat is free once its processes are gone.
            page = await http.get(served.url)
            assert page.status == 200, "the seat of a closed tab was not given back"
    finally:
        assert served.stop() == 0, served.output
    assert "turned away" in served.output


async def test_stopping_the_server_ends_every_session(tmp_path):
    served = Served(cwd=tmp_path)
    try:
        async with aiohttp.ClientSession() as http, Visitor(http, served.url) as v:
            await v.read_until(shows(b"paused"), "the trainer to be ready")
            leader = served.sessions()[0].pid
            assert engine_of(leader) is not None
            assert served.stop() == 0, served.output
            await v.read_until(lambda v: v.closed, "the page's socket to close")
    finally:
        served.stop()
    assert not session_processes(leader)
    assert "1 session(s) ended" in served.output


async def test_a_killed_server_takes_its_sessions_with_it(tmp_path):
    served = Served(cwd=tmp_path)
    try:
        async with aiohttp.ClientSession() as http, Visitor(http, served.url) as v:
            await v.read_until(shows(b"paused"), "the trainer to be ready")
            leader = served.sessions()[0].pid
            os.kill(served.pid, signal.SIGKILL)
            wait_until(lambda: not session_processes(leader), "the orphaned session to end")
    finally:
        served.stop()


async def test_warmed_cache_is_read_only_to_visitors(tmp_path, tiny):
    cache = tmp_path / "cache"
    env = {"TRAINTERM_CACHE": str(cache)}
    served = Served("--scenario", str(tiny), cwd=tmp_path, warm=True, env=env)
    try:
        assert "pretrain: trained and cached" in served.output, served.output
        entries = sorted((cache / "stages").iterdir())
        assert len(entries) == 1
        async with aiohttp.ClientSession() as http, Visitor(http, served.url) as v:
            await v.read_until(shows(b"paused"), "the trainer to be ready")
            leader = served.sessions()[0].pid
            assert environ(leader).get("TRAINTERM_CACHE_READONLY") == "1"
            assert environ(engine_of(leader).pid).get("TRAINTERM_CACHE_READONLY") == "1"
    finally:
        assert served.stop() == 0, served.output
    again = Served("--scenario", str(tiny), cwd=tmp_path, warm=True, env=env)
    try:
        assert "pretrain: cached" in again.output, again.output
    finally:
        again.stop()
    assert sorted((cache / "stages").iterdir()) == entries
