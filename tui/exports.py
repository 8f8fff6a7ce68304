"""What the keys take away, into the save folder: the report card (c), a run's data (x) and
a screenshot (i). A plain object the App owns; the tabs say which run and step is shown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from model import protocol as p
from model.exports import ExportError, write_predictions

if TYPE_CHECKING:
    from textual.app import App

    from tui.session import EngineSession
    from tui.tabs.base import StageTab

DEFAULT_SAVE_DIR = "runs/app"


def fresh(path: Path) -> Path:
    """``path``, or with -2, -3, … before the suffix: a screenshot never replaces another."""
    n = 2
    found = path
    while found.exists():
        found = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return found


class Exports:
    def __init__(self, app: App, session: EngineSession, save_dir: str | None = None) -> None:
        self.app = app
        self.session = session
        self.save_dir_override = save_dir
        self.report_card: p.ReportCard | None = None
        # The batch file written for an export whose metrics the engine is still writing.
        self._pending_batch: Path | None = None
        self._card_asked: object = None  # the engine asked for a card not yet received

    @property
    def save_dir(self) -> Path:
        """The engine's save folder (where `s` saves), so every file of a session is together."""
        return Path(self.save_dir_override or self.session.save_dir or DEFAULT_SAVE_DIR)

    def receive(self, m: Any) -> bool:
        """Take the engine's answer to an export or a report card; False for anything else."""
        match m:
            case p.ReportCard():
                from tui.screens.report import ReportScreen  # here: every message passes by

                self.report_card = m
                self._card_asked = None
                if isinstance(self.app.screen, ReportScreen):
                    self.app.screen.show(m)
                if m.error:
                    self.app.notify(m.error, title="Report card not written", severity="error")
            case p.Exported():
                files = [*m.paths, *([str(self._pending_batch)] if self._pending_batch else [])]
                self._pending_batch = None
                self.app.notify(
                    "\n".join(files), title=f"Exported {m.stage} @ step {m.step}", timeout=10
                )
            case p.EngineError() if self._pending_batch is not None:
                self._pending_batch = None
                return False  # the engine's own words say what went wrong
            case _:
                return False
        return True

    def open_report_card(self, ready: bool) -> None:
        from tui.screens.report import ReportScreen

        if not ready:
            self.app.notify("the trainer is not ready yet", timeout=3)
            return
        if isinstance(self.app.screen, ReportScreen):
            return
        self.app.push_screen(ReportScreen())
        # Scoring takes the engine a while: closing and opening again waits for the same card
        # (unless the engine that was asked has since been replaced by a restart).
        if self._card_asked is not self.session.engine:
            self._card_asked = self.session.engine
            self.session.send(p.MakeReport())

    def batch(self, run: str, report: p.StepReport | None) -> None:
        """x: the batch's predictions now, and the run's metrics from the engine beside them,
        named by ``run`` as the engine names its metrics."""
        if report is None:
            self.app.notify("nothing to export yet: train a step first (n)", timeout=4)
            return
        path = self.save_dir / f"{run}-batch-step{report.step}.jsonl"
        try:
            self._pending_batch = write_predictions(report, path)
        except ExportError as e:
            self.failed(e)
            return
        self.session.send(p.ExportMetrics())

    def failed(self, error: Exception) -> None:
        self.app.notify(str(error), title="Export failed", severity="error", timeout=8)

    def screenshot(self, tab: StageTab) -> None:
        """i: the screen as SVG, named by what it shows (a tab's run, or the report card)."""
        from tui.screens.report import ReportScreen

        report = tab.shown_report()
        step = report.step if report is not None else 0
        screen = "report" if isinstance(self.app.screen, ReportScreen) else tab.shown_run()
        folder = self.save_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = fresh(folder / f"screen-{screen}-step{step}.svg")
            saved = self.app.save_screenshot(path.name, str(folder))
        except OSError as e:
            self.app.notify(
                f"cannot write to {folder}: {e.strerror or e}",
                title="Screenshot failed",
                severity="error",
                timeout=8,
            )
            return
        self.app.notify(saved, title="Screenshot saved", timeout=8)
