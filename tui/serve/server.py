"""The web server of `trainterm serve`: textual-serve's, with seats and clean endings.

textual-serve starts one app process per websocket (its AppService) and, when the socket
closes, asks the app to quit and waits for its output to end, however long that takes.
Here each visitor's app runs in a process group of its own (its trainer and multiprocessing's
resource tracker join it), and a session ends when that whole group is gone: asked to quit,
then, after a grace period, terminated, then killed. Only then is its seat free again.

The seats: at most ``limit`` sessions at once. A visitor beyond that gets a page that says
the room is full and tries again by itself, instead of a machine too slow for everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tui.serve import process_groups

TEMPLATES = Path(__file__).resolve().parent / "templates"
QUIT_GRACE = 8.0  # seconds for an app to end itself (its trainer stops within ~2.5 s)
TERM_GRACE = 3.0  # then SIGTERM to the group, then SIGKILL
CLOSING_WAIT = 5.0  # a page asked for while the room is full waits this long for a leaver
RETRY_SECONDS = 15  # the full page reloads itself this often

log = logging.getLogger("trainterm.serve")


class Session(AppService):
    """One visitor's app process and everything it starts, in one process group."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], number: int, **kw) -> None:
        super().__init__(" ".join(argv), **kw)
        self.argv = list(argv)
        self.extra_env = env
        self.number = number
        self.started_at = time.monotonic()
        self.closing = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width, height), **self.extra_env}

    async def _open_app_process(self, width: int = 80, height: int = 24):
        # No shell (textual-serve runs a command line through one), and a session of its own:
        # its process group is the session, and the server's ctrl+c is not sent to it.
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            # The app's output ended (it quit, or died without saying so): end the page's
            # session too, or the browser would show a frozen screen holding a seat.
            with contextlib.suppress(Exception):
                await self.remote_close()

    async def stop(self) -> None:
        """Ask the app to quit; after QUIT_GRACE end its whole group. Returns when every
        process of the session is gone."""
        self.closing = True
        task, self._task = self._task, None
        if task is None or self._process is None:
            return
        with contextlib.suppress(Exception):
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        if self._process.returncode is None:
            with contextlib.suppress(Exception):
                await self.send_meta({"type": "quit"})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._process.wait()), QUIT_GRACE)
        await end_group(self._process.pid)
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(self._process.wait(), TERM_GRACE)
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(task, TERM_GRACE)
        if not task.done():
            task.cancel()


async def wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process_groups.group(pgid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def end_group(pgid: int) -> None:
    """Wait briefly for the group to empty by itself, then TERM it, then KILL it."""
    if await wait_group_gone(pgid, TERM_GRACE):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        if await wait_group_gone(pgid, TERM_GRACE):
            return
    log.error("session group %s still has processes after SIGKILL", pgid)


class Seats:
    """At most ``limit`` sessions at once; a seat is free only once its processes are gone."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sessions: set[Session] = set()
        self._changed = asyncio.Condition()

    @property
    def taken(self) -> int:
        return len(self.sessions)

    def free(self) -> bool:
        return self.taken < self.limit

    async def wait_for_leaver(self, timeout: float) -> bool:
        """If the room is full only because someone is leaving, wait for them to go."""
        if self.free() or not any(s.closing for s in self.sessions):
            return self.free()
        async with self._changed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(self.free), timeout)
        return self.free()

    async def leave(self, session: Session) -> None:
        async with self._changed:
            self.sessions.discard(session)
            self._changed.notify_all()


class ClassroomServer(Server):
    """textual-serve's Server with seats, a full page, and sessions that leave nothing."""

    def __init__(
        self,
        app_argv: Sequence[str],
        *,
        limit: int,
        session_env: dict[str, str],
        save_root: str,
        title: str = "trainterm",
    ) -> None:
        super().__init__("trainterm", title=title, templates_path=TEMPLATES)
        self.app_argv = list(app_argv)
        self.session_env = session_env
        self.save_root = save_root
        self.seats = Seats(limit)
        self.visitors = 0
        self.stamp = time.strftime("%Y%m%d-%H%M%S")

    # --- pages ----------------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/full", self.handle_full)
        return app

    async def on_startup(self, app: web.Application) -> None:
        pass  # tui.serve.command says where it serves

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if not await self.seats.wait_for_leaver(CLOSING_WAIT):
            log.info("a visitor was turned away: %d of %d seats taken", *self._room())
            return self._full_page(request)
        context = {
            "title": self.title,
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_full(self, request: web.Request) -> web.StreamResponse:
        return self._full_page(request)

    def _full_page(self, request: web.Request) -> web.StreamResponse:
        context = {"title": self.title, "seats": self.seats.limit, "retry": RETRY_SECONDS}
        response = aiohttp_jinja2.render_template("full.html", request, context, status=503)
        response.headers["Retry-After"] = str(RETRY_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _room(self) -> tuple[int, int]:
        return self.seats.taken, self.seats.limit

    # --- sessions -------------------------------------------------------------------------

    def session_argv(self, number: int) -> list[str]:
        save_dir = os.path.join(self.save_root, f"{self.stamp}-{number:03d}")
        return [sys.executable, "-m", "tui.serve.session", *self.app_argv, "--save-dir", save_dir]

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        if not self.seats.free():
            # Two visitors raced for the last seat: the page goes to the full page.
            with contextlib.suppress(Exception):
                await websocket.send_str(
                    json.dumps(["open_url", {"url": "/full", "new_tab": False}])
                )
                await websocket.close()
            log.info("a visitor was turned away: %d of %d seats taken", *self._room())
            return websocket
        self.visitors += 1
        number = self.visitors
        session = Session(
            self.session_argv(number),
            {**self.session_env, "TRAINTERM_SERVE_PID": str(os.getpid())},
            number,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.seats.sessions.add(session)
        log.info("visitor %d joined: %d of %d seats taken", number, *self._room())
        try:
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # noqa: BLE001 — one visitor's failure is not the server's
            log.exception(error)
        finally:
            await asyncio.shield(self._end(session, websocket))
        return websocket

    async def _end(self, session: Session, websocket: web.WebSocketResponse) -> None:
        try:
            await session.stop()
            with contextlib.suppress(Exception):
                await websocket.close()
        finally:
            await self.seats.leave(session)
        minutes = (time.monotonic() - session.started_at) / 60
        log.info(
            "visitor %d left after %.1f min: %d of %d seats taken",
            session.number, minutes, *self._room(),
        )  # fmt: skip

    async def end_all(self) -> None:
        """Server shutdown: every session ends as a closed tab would."""
        await asyncio.gather(*(s.stop() for s in list(self.seats.sessions)))

    # --- running --------------------------------------------------------------------------

    async def run(self, sock, ready=None) -> None:
        """Serve on the bound, listening ``sock`` until SIGINT or SIGTERM."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        app = await self._make_app()
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        if ready is not None:
            ready()
        try:
            await stop.wait()
        finally:
            taken = self.seats.taken
            await self.end_all()
            await runner.cleanup()
            log.info("stopped; %d session(s) ended", taken)
