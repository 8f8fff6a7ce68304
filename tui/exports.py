"""The keys that take something away: the report card (c), the run's data (x) and a
screenshot (i), all into the save folder. A mixin of TrainTermApp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model import protocol as p
from model.exports import ExportError, write_predictions

DEFAULT_SAVE_DIR = "runs/app"


def _fresh(path: Path) -> Path:
    """``path``, or with -2, -3, … before the suffix: a screenshot never replaces another."""
    n = 2
    found = path
    while found.exists():
        found = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return found


class Exports:
    """Expects the host app to provide `send`, `notify`, `stage`, `state`, `engine`,
    `tab_view`, `_tab_stage` and `_drawn`."""

    save_dir_override: str | None = None
    report_card: p.ReportCard | None = None
    # The batch file written for an export whose metrics the engine is still writing.
    _pending_batch: Path | None = None
    _card_asked: object = None  # the engine asked for a card not yet received

    @property
    def save_dir(self) -> Path:
        """The engine's save folder (where `s` saves), so every file of a session is together."""
        if self.save_dir_override:
            return Path(self.save_dir_override)
        options = getattr(self.engine, "options", None)
        return Path(getattr(options, "save_dir", None) or DEFAULT_SAVE_DIR)

    def exports_receive(self, m: Any) -> bool:
        match m:
            case p.ReportCard():
                from tui.screens.report import ReportScreen  # here: every message passes by

                self.report_card = m
                self._card_asked = None
                if isinstance(self.screen, ReportScreen):
                    self.screen.show(m)
                if m.error:
                    self.notify(m.error, title="Report card not written", severity="error")
            case p.Exported():
                files = [*m.paths, *([str(self._pending_batch)] if self._pending_batch else [])]
                self._pending_batch = None
                self.notify(
                    "\n".join(files), title=f"Exported {m.stage} @ step {m.step}", timeout=10
                )
            case p.EngineError() if self._pending_batch is not None:
                self._pending_batch = None
                return False  # the engine's own words say what went wrong
            case _:
                return False
        return True

    def _shown_report(self) -> tuple[str, p.StepReport | None]:
        """The run shown, and the step its panes show. The run's name is the one the engine
        was told to activate (tab 3: DPO's, the reward model's or RL's), so the batch file
        is named as the engine names the metrics it writes beside it."""
        stage = self._tab_stage(self.stage)
        if self.stage == 1:
            return stage, self._drawn
        view = self.tab_view
        return stage, view.latest if view is not None else None

    def action_report_card(self) -> None:
        from tui.screens.report import ReportScreen

        if isinstance(self.screen, ReportScreen):
            return
        if self.state in ("starting", "stopped"):
            self.notify("the trainer is not ready yet", timeout=3)
            return
        self.push_screen(ReportScreen())
        # Scoring takes the engine a while: closing and opening again waits for the same card
        # (unless the engine that was asked has since been replaced by a restart).
        if self._card_asked is not self.engine:
            self._card_asked = self.engine
            self.send(p.MakeReport())

    def action_export(self) -> None:
        stage, report = self._shown_report()
        if report is None:
            self.notify("nothing to export yet: train a step first (n)", timeout=4)
            return
        path = self.save_dir / f"{stage}-batch-step{report.step}.jsonl"
        try:
            self._pending_batch = write_predictions(report, path)
        except ExportError as e:
            self.notify(str(e), title="Export failed", severity="error", timeout=8)
            return
        self.send(p.ExportMetrics())

    def action_save_screen(self) -> None:
        from tui.screens.report import ReportScreen

        stage, report = self._shown_report()
        screen = "report" if isinstance(self.screen, ReportScreen) else stage
        step = report.step if report is not None else 0
        folder = self.save_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = _fresh(folder / f"screen-{screen}-step{step}.svg")
            saved = self.save_screenshot(path.name, str(folder))
        except OSError as e:
            self.notify(
                f"cannot write to {folder}: {e.strerror or e}",
                title="Screenshot failed",
                severity="error",
                timeout=8,
            )
            return
        self.notify(saved, title="Screenshot saved", timeout=8)
