"""A real browser on a `trainterm serve` page: the system's Chromium, driven by Playwright.

Used by the browser tests and by `trainterm bench-serve`. Playwright never downloads a
browser here: it starts the `chromium` on PATH (Debian's package; .ci/run installs it when
`command -v chromium` finds none, the same rule), or $TRAINTERM_CHROMIUM, headless,
with the background networking that would try to leave the machine turned off.

The page draws the app with xterm.js on a canvas, so there is no text in the DOM to read.
An init script catches the page's terminal object as textual-serve's script creates it
(it is assigned to a property named ``terminal``), and ``screen()`` reads its buffer through
xterm.js's public API: the characters the visitor sees, row by row.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time


def chromium() -> str | None:
    """The browser to drive: $TRAINTERM_CHROMIUM, else `chromium` on PATH."""
    return shutil.which(os.environ.get("TRAINTERM_CHROMIUM") or "chromium")


FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CATCH_TERMINAL = """
window.__terminals = [];
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    window.__terminals.push(value);
    Object.defineProperty(this, "terminal",
      {value, writable: true, configurable: true, enumerable: true});
  },
});
window.__screen = () => {
  const t = window.__terminals[0];
  if (!t) return "";
  const rows = [];
  for (let i = 0; i < t.rows; i++) {
    const line = t.buffer.active.getLine(i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
};
"""


def missing() -> str | None:
    """Why a browser cannot be driven here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if chromium() is None:
        wanted = os.environ.get("TRAINTERM_CHROMIUM") or "chromium on PATH"
        return f"no Chromium: {wanted} (apt-get install chromium)"
    return None


class Browser:
    """One headless Chromium with a fresh profile; pages that can read the app's screen."""

    def __init__(self, viewport=(1280, 800)) -> None:
        from playwright.sync_api import sync_playwright

        self.profile = tempfile.mkdtemp(prefix="trainterm-chromium-")
        self._playwright = sync_playwright().start()
        self.context = self._playwright.chromium.launch_persistent_context(
            self.profile,
            executable_path=chromium(),
            headless=True,
            args=FLAGS,
            viewport={"width": viewport[0], "height": viewport[1]},
        )
        self.context.add_init_script(CATCH_TERMINAL)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))

    def page(self):
        return self.context.new_page()

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self.profile, ignore_errors=True)


def screen(page) -> str:
    return page.evaluate("window.__screen ? window.__screen() : ''")


def wait_screen(page, text: str, timeout: float = 120.0) -> float:
    """Wait until the app's screen shows ``text``; returns when (perf_counter)."""
    page.wait_for_function(
        "text => window.__screen && window.__screen().includes(text)",
        arg=text,
        timeout=timeout * 1000,
        polling=20,
    )
    return time.perf_counter()


def press(page, key: str) -> None:
    """A key press into the terminal (xterm.js takes keys through its hidden textarea)."""
    page.locator(".xterm-helper-textarea").focus()
    page.keyboard.press(key)
