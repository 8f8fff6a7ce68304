"""`trainterm serve` end to end over its websocket (textual-serve's protocol, as the page
speaks it): a visitor's own app and trainer, the seat cap, and nothing left running after a
tab closes, the server stops, or the server is killed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import aiohttp
import pytest
from engine_fixtures import tiny_corpus
from serve_fixtures import (
    LEAVING_DEADLINE,
    Served,
    cmdline,
    engine_of,
    environ,
    session_processes,
    wait_until,
)
from test_cli import TINY_SCENARIO

pytestmark = pytest.mark.slow
STEP = re.compile(rb"step (\d+)/\d+")
SAMPLED = re.compile(
    rb"step (\d+)(?: \xc2\xb7 [^:\x1b]*)?: "
)  # the sample pane: "step 3 · greedy: "


class Visitor:
    """A browser tab's websocket: it reads the app's screen bytes and types keys.

    ``autoping=False`` is a browser that stops answering the server's heartbeat pings (a
    frozen tab, a laptop gone to sleep): they are counted, never answered."""

    def __init__(self, http: aiohttp.ClientSession, url: str, autoping: bool = True) -> None:
        self.http, self.url, self.autoping = http, url, autoping
        self.screen = b""
        self.texts: list[str] = []
        self.pings = 0
        self.closed = False

    async def __aenter__(self) -> Visitor:
        self.ws = await self.http.ws_connect(
            f"{self.url}/ws?width=120&height=40", autoping=self.autoping
        )
        await self.ws.send_json(["resize", {"width": 120, "height": 40}])
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def read_until(
        self, done, what: str, timeout: float = 120.0, keep_alive: bool = False
    ) -> None:
        """Read the socket until ``done(self)``. ``keep_alive``: say something every second
        (the page's own ping), which the server counts as the browser being there."""
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                raise AssertionError(f"never happened: {what}; screen ends {self.screen[-300:]}")
            if keep_alive:
                await self.ws.send_json(["ping", str(time.monotonic())])
            try:
                message = await asyncio.wait_for(self.ws.receive(), min(left, 1.0))
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                self.screen += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.texts.append(message.data)
            elif message.type == aiohttp.WSMsgType.PING:
                self.pings += 1
            elif message.type != aiohttp.WSMsgType.PONG:
                self.closed = True

    def last_step(self) -> int | None:
        found = STEP.findall(self.screen[-20000:])
        return int(found[-1]) if found else None

    async def sampled_step(self) -> int:
        """Ask this visitor's trainer for a sample (g): the step it says it is at. The
        answer comes after every screen the app had drawn before it, so an old frame
        still on its way cannot answer for it."""
        mark = len(self.screen)
        await self.press("g")
        await self.read_until(lambda v: SAMPLED.search(v.screen[mark:]), "a sample")
        return int(SAMPLED.search(self.screen[mark:])[1])

    async def press(self, keys: str) -> None:
        await self.ws.send_json(["stdin", keys])


def shows(text: bytes):
    return lambda v: text in v.screen


async def seat_given_back(http: aiohttp.ClientSession, url: str) -> None:
    """Ask for the page until it is served, for as long as a leaver may hold its seat."""
    deadline = time.monotonic() + LEAVING_DEADLINE
    while True:
        async with http.get(url) as page:
            if page.status == 200:
                return
            assert page.status == 503, page.status
        if time.monotonic() > deadline:
            raise AssertionError(f"no seat given back within {LEAVING_DEADLINE:.0f} s")
        await asyncio.sleep(0.2)


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
                assert await b.sampled_step() == 0  # b's trainer is b's alone
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
            await seat_given_back(http, served.url)
    finally:
        assert served.stop() == 0, served.output
    assert "turned away" in served.output


async def test_a_browser_that_stops_answering_loses_its_seat(tmp_path):
    served = Served("--max-sessions", "1", cwd=tmp_path)
    try:
        async with (
            aiohttp.ClientSession() as http,
            Visitor(http, served.url, autoping=False) as v,
        ):
            await v.read_until(shows(b"paused"), "the trainer to be ready", keep_alive=True)
            [leader] = [p.pid for p in served.sessions()]
            # From here the tab is silent: the server's heartbeat pings go unanswered.
            await v.read_until(lambda v: v.closed, "the server to close a silent socket")
            assert v.pings >= 1, "closed, but not for want of an answer to a ping"
            wait_until(
                lambda: not session_processes(leader),
                "the silent visitor's processes to end",
                timeout=LEAVING_DEADLINE,
            )
            await seat_given_back(http, served.url)
    finally:
        assert served.stop() == 0, served.output
    assert "visitor 1 left" in served.output


async def test_the_default_seat_count_is_the_documented_one(tmp_path):
    # What docs/serve.md promises; the server is asked what it serves, not a constant of its.
    doc = (Path(__file__).resolve().parent.parent / "docs" / "serve.md").read_text()
    per_core = int(re.search(r"--max-sessions N`[^.]*?default (\d+) per core", doc)[1])
    served = Served(cwd=tmp_path)  # no --max-sessions
    try:
        seats = per_core * os.cpu_count()
        assert f"· {seats} seats ·" in served.output, served.output
        async with aiohttp.ClientSession() as http, http.get(f"{served.url}/full") as page:
            assert f"All {seats} seats are taken" in await page.text()
    finally:
        assert served.stop() == 0, served.output


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
