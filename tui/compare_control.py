"""The app's side of the Compare tab (tab 4): asking the engine, routing its answers to the
view, and what the keys do while the tab is shown. A mixin of TrainTermApp, placed before
LaterStages and SamplingControl so that on tab 4 it answers their hooks and elsewhere it
hands them on (super())."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model import protocol as p
from model.exports import ExportError, compare_records, write_records
from tui.exports import _fresh
from tui.history import speed_label
from tui.sampler import label as sampler_label
from tui.widgets.status import StatusBar, StatusInfo

if TYPE_CHECKING:  # imported with tab 4, after the first frame
    from tui.views.compare import CompareView

COMPARE_TAB = 4
NOTHING_TRAINS = "Compare trains nothing: 1 2 3 go to the stages · g asks again · / your question"


class CompareControl:
    """Expects the host app to provide `send`, `notify`, `stage`, `ready`, `speed`,
    `sampler`, `clock`, `save_dir`, `screen`, `push_screen`, `query_one` and `_status`."""

    _compare_asks = 0
    _why_compare = False  # the "why this token" view shows a Compare answer

    @property
    def compare_view(self) -> CompareView:
        return self.query_one("#stage-4")

    def compare_ask(self, question: str | None = None) -> None:
        """Put the probes (and the question: by default the one asked last) to every model."""
        view = self.compare_view
        self._compare_asks += 1
        ask = p.CompareAsk(self._compare_asks, self.sampler,
                           view.question if question is None else question)  # fmt: skip
        self.send(ask)
        view.asked(ask, self.clock())
        self._status()

    def on_compare_view_ask(self, message: CompareView.Ask) -> None:
        message.stop()
        self.compare_ask(message.question)

    # --- hooks of LaterStages ---------------------------------------------------------------

    def later_receive(self, m: Any) -> bool:
        match m:
            case p.ComparePrompts():
                self.compare_view.on_prompts(m)
            case p.CompareColumn():
                self.compare_view.on_column(m, self.clock())
                self._compare_why()
                self._status()
            case _:
                return super().later_receive(m)
        return True

    def later_activate(self, number: int) -> None:
        super().later_activate(number)
        view = self.compare_view
        if number != COMPARE_TAB:
            if self.focused is not None and view in self.focused.ancestors:
                self.set_focus(None)  # the other tabs' keys are all the app's
            return
        view.grid.focus()
        asked_same = view.busy and view.sampler == self.sampler
        if not asked_same:
            self.compare_ask()

    def later_status(self) -> bool:
        if self.stage != COMPARE_TAB:
            return super().later_status()
        view = self.compare_view
        self.query_one(StatusBar).info = StatusInfo(
            scenario=self.ready.scenario if self.ready else "",
            stage="4 Compare",
            state="computing" if view.busy else "compared",
            speed=speed_label(self.speed),
            sampler=sampler_label(self.sampler),
        )
        return True

    def later_play_pause(self) -> None:
        if self.stage == COMPARE_TAB:
            self.notify(NOTHING_TRAINS, timeout=4)
        else:
            super().later_play_pause()

    def later_step(self) -> None:
        if self.stage == COMPARE_TAB:
            self.notify(NOTHING_TRAINS, timeout=4)
        else:
            super().later_step()

    def later_cursor(self, delta: int) -> None:
        if self.stage == COMPARE_TAB:
            self.compare_view.grid.action_move(0, 0, delta)
        else:
            super().later_cursor(delta)

    def later_sample(self) -> None:
        if self.stage == COMPARE_TAB:
            self.compare_ask()
        else:
            super().later_sample()

    def later_save(self) -> None:
        if self.stage == COMPARE_TAB:
            self.notify("s saves the run of a stage tab (1 2 3); x exports these answers")
        else:
            super().later_save()

    def later_reset(self) -> None:
        if self.stage != COMPARE_TAB:
            super().later_reset()

    # --- hooks of SamplingControl -----------------------------------------------------------

    def sample_on_screen(self) -> bool:
        return self.stage == COMPARE_TAB or super().sample_on_screen()

    def _ask_sample(self) -> bool:
        """On tab 4 a sampler key asks every model again: the columns follow the status line."""
        if self.stage != COMPARE_TAB:
            return super()._ask_sample()
        self.compare_ask()
        return True

    def action_why(self) -> None:
        from tui.screens.why import WhyScreen

        if self.stage != COMPARE_TAB:
            super().action_why()
            return
        sample = self._compare_sample()
        if sample is None:
            self.notify("select a token of an answer first (← → ↑ ↓ tab)", timeout=4)
            return
        self._why_compare = True
        screen = WhyScreen(sample)
        screen.position = self.compare_view.grid.selection.token
        self.push_screen(screen, lambda _: setattr(self, "_why_compare", False))

    def _compare_sample(self) -> p.SampleText | None:
        view = self.compare_view
        found = view.selected()
        if found is None:
            return None
        column, answer, _, _ = found
        # A chat answer starts a turn of its own; a base model's continues its prompt.
        prompt = answer.asked + " " if column.template else answer.asked
        return p.SampleText(column.stage, column.step, prompt, answer.text, view.sampler,
                            answer.choices)  # fmt: skip

    def _compare_why(self) -> None:
        """The why view opened on a Compare answer follows it when it is asked again."""
        from tui.screens.why import WhyScreen

        if self._why_compare and isinstance(self.screen, WhyScreen):
            sample = self._compare_sample()
            if sample is not None and sample.sampler == self.sampler:
                self.screen.sample = sample

    def action_export(self) -> None:
        """x on tab 4: the answers on screen, token by token, as JSONL into the save folder."""
        if self.stage != COMPARE_TAB:
            super().action_export()
            return
        view = self.compare_view
        columns = [c for c in view.columns if c is not None and c.answers]
        if not columns or view.sampler is None:
            self.notify("no answers to export yet", timeout=4)
            return
        records = compare_records(view.prompts, columns, view.sampler)
        try:
            path = write_records(records, _fresh(self.save_dir / "compare-answers.jsonl"))
        except ExportError as e:
            self.notify(str(e), title="Export failed", severity="error", timeout=8)
            return
        self.notify(str(path), title=f"Exported {len(records)} answers", timeout=10)

    def action_compare_type(self) -> None:
        if self.stage == COMPARE_TAB:
            self.compare_view.type_question()
