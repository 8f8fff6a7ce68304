"""`trainterm bench-serve`: measure `trainterm serve` on this machine, now.

1. page open → first screen: a real browser (tui.serve.browser) opens the page, until the
   app's status line is on it, and until the trainer is ready (median of a few visits);
2. sessions playing at max speed, 1, 2, 4, … at once, each a websocket speaking the page's
   protocol (a browser per session would take the cores it measures): steps/s each, read
   off each screen's step counter, until the slowest is under 2 steps/s;
3. memory per session at each level: RSS and PSS of the app and the trainer (/proc).

Everything runs on this machine: the figures include the server and the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time

from model.cli.common import OneLineParser, add_source_args
from tui.bench.launch import source_args
from tui.serve import process_groups

STEP = re.compile(rb"step (\d+)/\d+")
TARGET = 2.0  # steps/s each visitor should keep


def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="trainterm bench-serve", description=__doc__.splitlines()[0])
    add_source_args(parser)
    parser.add_argument("--visits", type=int, default=3, help="page opens to time")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per level")
    parser.add_argument("--levels", default="1,2,4,6,8", help="sessions at once, in turn")
    return parser.parse_args(argv)


class Server:
    """`trainterm serve` on a free loopback port, with room for every level."""

    def __init__(self, source: list[str], seats: int) -> None:
        import subprocess
        import sys

        self.folder = tempfile.mkdtemp(prefix="trainterm-bench-serve-")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", "serve", "--port", "0", "--no-warm",
             "--max-sessions", str(seats), *source],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.folder,
        )  # fmt: skip
        for line in self.process.stdout:
            if found := re.search(r"open (http://\S+)", line):
                self.url = found.group(1)
                break
        else:
            raise RuntimeError("trainterm serve did not start")

    def sessions(self) -> list[int]:
        return [p.pid for p in process_groups.children(self.process.pid) if p.pid == p.pgid]

    def wait_empty(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while any(process_groups.group(leader) for leader in self.sessions()):
            if time.monotonic() > deadline:
                raise RuntimeError("sessions did not end")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def page_visits(server: Server, count: int) -> tuple[list[float], list[float]]:
    from tui.serve.browser import Browser, wait_screen

    browser = Browser()
    first, ready = [], []
    try:
        for _ in range(count):
            page = browser.page()
            opened = time.perf_counter()
            page.goto(server.url)
            first.append(wait_screen(page, "trainterm") - opened)
            ready.append(wait_screen(page, "paused") - opened)
            page.close()
            server.wait_empty()
    finally:
        browser.close()
    return first, ready


class Visitor:
    def __init__(self, http, url: str) -> None:
        self.http, self.url, self.screen = http, url, bytearray()

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(f"{self.url}/ws?width=120&height=40")
        await self.ws.send_json(["resize", {"width": 120, "height": 40}])
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if isinstance(message.data, bytes):
                self.screen += message.data
                del self.screen[:-40000]

    def step(self) -> int:
        found = STEP.findall(bytes(self.screen[-20000:]))
        return int(found[-1]) if found else 0

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


async def level(server: Server, n: int, seconds: float) -> dict:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        visitors = [Visitor(http, server.url) for _ in range(n)]
        await asyncio.gather(*(v.open() for v in visitors))
        deadline = time.monotonic() + 300
        while not all(b"paused" in v.screen for v in visitors):
            if time.monotonic() > deadline:
                raise RuntimeError("sessions not ready in 300 s")
            await asyncio.sleep(0.1)
        for v in visitors:
            await v.ws.send_json(["stdin", " "])
        await asyncio.sleep(3.0)  # the first steps, the first charts
        start = time.perf_counter(), [v.step() for v in visitors]
        await asyncio.sleep(seconds)
        end = time.perf_counter(), [v.step() for v in visitors]
        memory = session_memory(server)
        for v in visitors:
            await v.close()
    await asyncio.to_thread(server.wait_empty)
    elapsed = end[0] - start[0]
    rates = [(b - a) / elapsed for a, b in zip(start[1], end[1], strict=True)]
    return {"n": n, "rates": rates, **memory}


def session_memory(server: Server) -> dict:
    """Median KiB per session, by role: ui, trainer (RSS and PSS)."""
    roles: dict[str, list[tuple[int, int]]] = {"ui": [], "trainer": []}
    for leader in server.sessions():
        for p in process_groups.group(leader):
            mem = process_groups.memory_kib(p.pid)
            cmd = process_groups.cmdline(p.pid) if mem else b""
            if p.pid == leader:
                roles["ui"].append(mem)
            elif b"spawn_main" in cmd:
                roles["trainer"].append(mem)
    return {
        role: tuple(statistics.median(m[i] for m in mems) for i in (0, 1)) if mems else (0, 0)
        for role, mems in roles.items()
    }


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def main(argv: list[str]) -> int:
    from tui.serve.browser import missing

    args = parse(argv)
    levels = [int(x) for x in args.levels.split(",")]
    source = source_args(args)
    load = os.getloadavg()[0]
    print(
        f"trainterm bench-serve · {' '.join(source) or 'default scenario'} · "
        f"{os.cpu_count()} cores · load {load:.1f} at start (a shared machine: noisy)"
    )
    server = Server(source, max(levels))
    try:
        if why := missing():
            print(f"page open → first screen   not measured: {why}")
        else:
            first, ready = page_visits(server, args.visits)
            print(
                f"page open → first screen   median {statistics.median(first):.2f} s "
                f"(of {len(first)}: {', '.join(f'{t:.2f}' for t in first)}); "
                f"trainer ready median {statistics.median(ready):.2f} s"
            )
        print(f"sessions playing at max speed, steps/s each over {args.seconds:.0f} s, "
              "and memory per session (median):")  # fmt: skip
        held = 0
        for n in levels:
            r = asyncio.run(level(server, n, args.seconds))
            rates = sorted(r["rates"])
            ui, trainer = r["ui"], r["trainer"]
            print(
                f"  {n:2d} at once: median {statistics.median(rates):5.2f} · slowest "
                f"{rates[0]:5.2f} steps/s · UI {mib(ui[0])} MiB RSS ({mib(ui[1])} PSS) · "
                f"trainer {mib(trainer[0])} MiB RSS ({mib(trainer[1])} PSS)",
                flush=True,
            )
            if rates[0] < TARGET:
                break
            held = n
        print(
            f"{os.cpu_count()} cores held {held} session(s) at ≥ {TARGET:.0f} steps/s each "
            "(the slowest of them)"
        )
    finally:
        server.stop()
    return 0
