"""`trainterm serve` in a real browser (the system's headless Chromium, driven by Playwright):
the first screen, a key that trains, tabs, a closed tab that leaves no process, the full page
for the visitor past the cap, and a killed trainer's message on the page.

Skipped where there is no Chromium (`chromium` on PATH, the rule .ci/run installs by) or
Playwright, except in CI, where a skipped slow test fails the run (conftest.py)."""

from __future__ import annotations

import os
import re
import signal

import pytest
from serve_fixtures import Served, engine_of, session_processes, wait_until

from tui.serve.browser import Browser, missing, press, screen, wait_screen

why = missing()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(why is not None, reason=str(why))]
STEP = re.compile(r"step (\d+)/\d+")


@pytest.fixture(scope="module")
def browser():
    browser = Browser()
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def requests_of_this_test(browser):
    """The browser is shared by the module's tests, in any order: each test's check of where
    its page reached sees only its own requests, not an earlier test's server."""
    browser.requests.clear()


def step_shown(page) -> int | None:
    found = STEP.search(screen(page))
    return int(found.group(1)) if found else None


def only_loopback(browser: Browser, served: Served) -> None:
    strays = [url for url in browser.requests if not url.startswith(served.url)]
    assert not strays, f"the page asked for something off this server: {strays}"


def test_a_visitor_trains_in_the_browser_and_closing_the_tab_ends_it(browser, tmp_path):
    served = Served("--max-sessions", "2", cwd=tmp_path)
    try:
        page = browser.page()
        page.goto(served.url)
        wait_screen(page, "trainterm")  # the first screen: the status line
        wait_screen(page, "paused")  # the trainer is ready
        assert "1 Pretraining" in screen(page) and step_shown(page) == 0
        [leader] = [p.pid for p in served.sessions()]
        assert engine_of(leader) is not None
        press(page, " ")
        wait_screen(page, "playing")
        wait_until(lambda: (step_shown(page) or 0) >= 2, "the step counter to move", every=0.2)
        press(page, "2")
        wait_screen(page, "stage 2 Fine-tuning")
        assert "Starts from" in screen(page)
        press(page, "1")
        wait_screen(page, "stage 1 Pretraining")
        page.screenshot(path=str(tmp_path / "playing.png"))
        page.close()
        wait_until(lambda: not session_processes(leader), "the closed tab's processes to end")
        served.wait_for("visitor 1 left", "the server to free the seat")
        only_loopback(browser, served)
    finally:
        assert served.stop() == 0, served.output
    assert not served.everything()


def test_the_visitor_past_the_cap_gets_the_full_page(browser, tmp_path):
    served = Served("--max-sessions", "1", cwd=tmp_path)
    try:
        first = browser.page()
        first.goto(served.url)
        wait_screen(first, "trainterm")
        second = browser.page()
        second.goto(served.url)
        second.wait_for_selector("text=trainterm is full, try again later", timeout=60_000)
        assert "All 1 seats are taken" in second.inner_text("body")
        assert len(served.sessions()) == 1
        second.close()
        first.close()
    finally:
        assert served.stop() == 0, served.output


def test_a_killed_trainer_shows_its_message_in_the_browser(browser, tmp_path):
    served = Served(cwd=tmp_path)
    try:
        page = browser.page()
        page.goto(served.url)
        wait_screen(page, "paused")
        [leader] = [p.pid for p in served.sessions()]
        engine = engine_of(leader)
        os.kill(engine.pid, signal.SIGKILL)
        wait_screen(page, "The trainer stopped")
        assert "the trainer process ended unexpectedly (exit code -9)" in screen(page)
        assert "r restart" in screen(page)
        press(page, "r")  # a new trainer, in the same session
        wait_screen(page, "paused")
        assert engine_of(leader).pid != engine.pid
        page.close()
        wait_until(lambda: not session_processes(leader), "the closed tab's processes to end")
    finally:
        assert served.stop() == 0, served.output
