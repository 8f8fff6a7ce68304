"""Tab 4, Compare: the scenario's probes and your own question, answered side by side by
every model there is (base, fine-tuned, DPO, RLHF), each with the same sampler and seed.
The answers are worked out in the engine process (model.compare) and arrive one model at a
time; until a model's answers are in, its column says "computing…"."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from model import protocol as p
from tui.runs import RUNS, compare_name
from tui.tabs.base import StageTab

if TYPE_CHECKING:
    from tui.widgets.common.status import StatusInfo
    from tui.widgets.compare.compare_grid import CompareGrid

INTRO = "One prompt, every model, the same sampler and seed: see what each stage added."
PLACEHOLDER = "your own question for every model: / to type here, enter asks, esc goes back"
LEGEND = "green sure … red unsure · underlined: not its favourite · ←→↑↓ tab · / ask"

NOTHING_TRAINS = "Compare trains nothing: 1 2 3 go to the stages · g asks again · / your question"


def nearest_words(nearest: p.NearestPrompt | None) -> str:
    """What the fine-tuning data had like the learner's question, in a sentence."""
    if nearest is None:
        return ""
    quoted = f"“{nearest.prompt}”"
    if nearest.phrasing == "exact":
        return "Your question is in the fine-tuning data, word for word."
    if nearest.phrasing == "same":
        return (
            f"Your phrasing is in the fine-tuning data, asked of other things: {quoted}. "
            "Fine-tuning teaches the format it was shown."
        )
    words = f"({nearest.shared} of your {nearest.words} words)"
    if nearest.phrasing == "like":
        return f"A phrasing like yours is in the fine-tuning data: {quoted} {words}."
    return (
        f"No fine-tuning prompt is phrased like yours; the nearest is {quoted} {words}: "
        "the fine-tuned models were shown other phrasings."
    )


def hint(column: p.CompareColumn) -> tuple[str, str]:
    """What a column without a model says: in its head, and in its first cell."""
    if column.missing == "untrained":
        run = RUNS.get(column.stage)
        return run.untrained if run else ("not trained", "not trained yet")
    if column.missing == "no-data":
        return "no data", column.detail
    return "failed", f"could not ask this model: {column.detail}"


class CompareView(StageTab):
    BINDINGS = [Binding("slash,enter", "compare_type", "your question", show=False)]
    DEFAULT_CSS = """
    CompareView #compare-intro { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    CompareView CompareInput { margin: 0 1; background: $boost; }
    CompareView CompareGrid, CompareView CompareDetail {
        border: round $primary 60%; border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted; padding: 0 1;
    }
    CompareView CompareGrid:focus { border: round $primary; }
    CompareView CompareGrid { height: 1fr; }
    CompareView CompareDetail { height: 5; }
    """

    number = 4
    runs = ("compare",)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.asks = 0
        self.why_open = False  # the "why this token" view shows an answer of this tab
        self.ask_id = 0
        self.nearest: p.NearestPrompt | None = None  # to the question asked, in fine-tuning
        self.question = ""
        self.sampler: p.Sampler | None = None
        self.prompts: tuple[tuple[str, str], ...] = ()
        self.columns: list[p.CompareColumn | None] = [None] * len(p.COMPARE_STAGES)
        self.pending: set[int] = set()
        self.started_at = 0.0
        self.seconds: float | None = None

    def compose_panes(self) -> ComposeResult:
        from textual.widgets import Static

        from tui.widgets.compare.compare_detail import CompareDetail
        from tui.widgets.compare.compare_grid import CompareGrid
        from tui.widgets.compare.compare_input import CompareInput

        yield Static(INTRO, id="compare-intro")
        yield CompareInput(placeholder=PLACEHOLDER, compact=True, max_length=200,
                           id="compare-input")  # fmt: skip
        yield CompareGrid(id="compare-grid")
        yield CompareDetail(id="compare-detail")

    def panes_mounted(self) -> None:
        grid = self.grid
        grid.border_title = "Compare"
        grid.border_subtitle = LEGEND
        self.query_one("#compare-intro").update(nearest_words(self.nearest) or INTRO)
        self._title()
        self._show()
        if self.host.tab is self:
            grid.focus()

    @property
    def grid(self) -> CompareGrid:
        return self.query_one("#compare-grid")  # type: ignore[return-value]

    @property
    def busy(self) -> bool:
        return bool(self.pending)

    # --- asking ---------------------------------------------------------------------------

    def asked(self, ask: p.CompareAsk, now: float) -> None:
        """An ask went to the engine: every column is pending until its answers come."""
        self.ask_id = ask.ask_id
        self.question = ask.question
        self.sampler = ask.sampler
        self.pending = set(range(len(self.columns)))
        self.started_at = now
        self.seconds = None
        self._title()
        self._show()

    def on_prompts(self, m: p.ComparePrompts) -> None:
        if m.ask_id != self.ask_id:
            return  # an answer to an ask since replaced
        self.nearest = m.nearest
        if self.panes_ready:
            self.query_one("#compare-intro").update(nearest_words(m.nearest) or INTRO)
        if m.prompts != self.prompts:
            asked_now = bool(m.prompts) and m.prompts[0][0] == "you"
            self.prompts = m.prompts
            self.columns = [None] * len(self.columns)  # old answers fit other rows
            if asked_now and self.panes_ready:  # the question just asked is the row to look at
                from tui.widgets.compare.compare_grid import Selection

                self.grid.wanted = Selection(0, self.grid.wanted.col, 0)
        self._show()

    def on_column(self, m: p.CompareColumn, now: float) -> None:
        if m.ask_id != self.ask_id or m.stage not in p.COMPARE_STAGES:
            return
        col = p.COMPARE_STAGES.index(m.stage)
        self.columns[col] = m
        self.pending.discard(col)
        if not self.pending:
            self.seconds = now - self.started_at
        self._title()
        self._show()

    def _show(self) -> None:
        if not self.panes_ready:
            return
        grid = self.grid
        grid.hints = {c.stage: hint(c) for c in self.columns if c is not None and c.missing}
        # A column still being answered again shows its last answers, its head "computing…".
        grid.pending = frozenset(self.pending)
        grid.prompts = self.prompts
        grid.columns = tuple(self.columns)
        self._detail()

    def _title(self) -> None:
        if not self.panes_ready:
            return
        title = "Compare"
        if self.sampler is not None:
            from tui.sampler import label

            title += f" · every model: {label(self.sampler)}"
        if self.pending:
            title += " · computing…"
        elif self.seconds is not None:
            title += f" · answered in {self.seconds:.1f} s"
        from tui.widgets.common.lines import set_title

        set_title(self.grid, title)

    # --- the selected token ---------------------------------------------------------------

    def on_compare_grid_selected(self, message: CompareGrid.Selected) -> None:
        message.stop()
        self._detail()

    def selected(self) -> tuple[p.CompareColumn, p.CompareAnswer, int, str] | None:
        """The column, answer, token index and prompt the selection is on, if any."""
        s = self.grid.selection
        answer = self.grid.answer(s.row, s.col)
        if answer is None or not answer.choices:
            return None  # (an answer being asked again is shown, and explained, until then)
        column = self.columns[s.col]
        prompt = self.prompts[s.row][1]
        return column, answer, min(s.token, len(answer.choices) - 1), prompt

    def _detail(self) -> None:
        found = self.selected()
        from tui.widgets.common.lines import set_title
        from tui.widgets.compare.compare_detail import HINT

        detail = self.query_one("#compare-detail")
        if found is None:
            detail.shown = None
            set_title(detail, "Alternatives")
            if any(c is not None and c.answers for c in self.columns):
                detail.hint = HINT
            elif self.pending:
                detail.hint = "the models are answering, in the trainer process…"
            else:
                detail.hint = "no model has answered: each column says how to train its own"
            return
        column, answer, index, prompt = found
        detail.shown = (compare_name(column.stage), answer, index, answer.asked or prompt)

    # --- keys -----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.ask(event.value.strip())
        self.grid.focus()

    # --- the App's questions ----------------------------------------------------------------

    def receive(self, m: Any) -> None:
        match m:
            case p.ComparePrompts():
                self.on_prompts(m)
            case p.CompareColumn():
                self.on_column(m, self.host.clock())
                self._follow_why()
                self.host.show_status()

    def ask(self, question: str | None = None) -> None:
        """Put the probes (and the question: by default the one asked last) to every model."""
        self.asks += 1
        ask = p.CompareAsk(self.asks, self.sampling.sampler,
                           self.question if question is None else question)  # fmt: skip
        self.send(ask)
        self.asked(ask, self.host.clock())
        self.host.show_status()

    def activated(self) -> None:
        super().activated()
        if self.panes_ready:
            self.grid.focus()
        if not (self.busy and self.sampler == self.sampling.sampler):
            self.ask()

    def status(self, line: StatusInfo) -> StatusInfo:
        return replace(line, stage="4 Compare", state="computing" if self.busy else "compared")

    def sample_on_screen(self) -> bool:
        return True

    def resample(self) -> bool:
        """A sampler key asks every model again: the columns follow the status line."""
        self.ask()
        return True

    # --- keys -------------------------------------------------------------------------------

    def not_trainable(self) -> str:
        return NOTHING_TRAINS

    def action_play_pause(self) -> None:
        self.notify(NOTHING_TRAINS, timeout=4)

    def action_step(self) -> None:
        self.notify(NOTHING_TRAINS, timeout=4)

    def action_cursor(self, delta: int) -> None:
        self.grid.action_move(0, 0, delta)

    def action_sample(self) -> None:
        self.ask()

    def action_save(self) -> None:
        self.notify("s saves the run of a stage tab (1 2 3); x exports these answers")

    def action_reset(self) -> None:
        pass

    def action_compare_type(self) -> None:
        self.query_one("#compare-input").focus()

    def action_why(self) -> None:
        from tui.screens.why import WhyScreen

        sample = self._selected_sample()
        if sample is None:
            self.notify("select a token of an answer first (← → ↑ ↓ tab)", timeout=4)
            return
        self.why_open = True
        screen = WhyScreen(sample)
        screen.position = self.grid.selection.token
        self.app.push_screen(screen, lambda _: setattr(self, "why_open", False))

    def _selected_sample(self) -> p.SampleText | None:
        found = self.selected()
        if found is None:
            return None
        column, answer, _, _ = found
        # A chat answer starts a turn of its own; a base model's continues its prompt.
        prompt = answer.asked + " " if column.template else answer.asked
        return p.SampleText(column.stage, column.step, prompt, answer.text, self.sampler,
                            answer.choices)  # fmt: skip

    def _follow_why(self) -> None:
        """The why view opened on a Compare answer follows it when it is asked again."""
        from tui.screens.why import WhyScreen

        if self.why_open and isinstance(self.app.screen, WhyScreen):
            sample = self._selected_sample()
            if sample is not None and sample.sampler == self.sampling.sampler:
                self.app.screen.sample = sample

    def action_export(self) -> None:
        """x: the answers on screen, token by token, as JSONL into the save folder."""
        from model.exports import ExportError, compare_records, write_records
        from tui.exports import fresh

        columns = [c for c in self.columns if c is not None and c.answers]
        if not columns or self.sampler is None:
            self.notify("no answers to export yet", timeout=4)
            return
        records = compare_records(self.prompts, columns, self.sampler)
        try:
            path = write_records(records, fresh(self.exports.save_dir / "compare-answers.jsonl"))
        except ExportError as e:
            self.exports.failed(e)
            return
        self.notify(str(path), title=f"Exported {len(records)} answers", timeout=10)
