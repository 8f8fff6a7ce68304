"""Tab 4, Compare: the scenario's probes and your own question, answered side by side by
every model there is (base, fine-tuned, DPO, RLHF), each with the same sampler and seed.
The answers are worked out in the engine process (model.compare) and arrive one model at a
time; until a model's answers are in, its column says "computing…"."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from model import protocol as p
from tui.widgets.compare_detail import HINT, CompareDetail
from tui.widgets.compare_grid import NAMES, CompareGrid, Selection
from tui.widgets.lines import set_title

INTRO = "One prompt, every model, the same sampler and seed: see what each stage added."
PLACEHOLDER = "your own question for every model: / to type here, enter asks, esc goes back"
LEGEND = "green sure … red unsure · underlined: not its favourite · ←→↑↓ tab · / ask"

# How to get a model that does not exist yet: (a few words for the column's head, a
# sentence for its first cell), by stage; the keys are the stage tabs' own.
UNTRAINED = {
    "pretrain": ("tab 1 · space", "not trained yet: tab 1, space trains it (or tab 2, f "
                 "fast-forwards it to the end)"),
    "sft": ("tab 2 · enter", "not trained yet: tab 2, enter starts fine-tuning from the base "
            "model, then space trains it"),
    "dpo": ("tab 3 · enter", "not trained yet: tab 3, enter starts DPO from the fine-tuned "
            "model, then space trains it"),
    "rlhf": ("tab 3 · m", "not trained yet: tab 3, m picks RLHF, enter starts it, then space "
             "trains it"),
}  # fmt: skip


def hint(column: p.CompareColumn) -> tuple[str, str]:
    """What a column without a model says: in its head, and in its first cell."""
    if column.missing == "untrained":
        return UNTRAINED.get(column.stage, ("not trained", "not trained yet"))
    if column.missing == "no-data":
        return "no data", column.detail
    return "failed", f"could not ask this model: {column.detail}"


class CompareInput(Input):
    BINDINGS = [Binding("escape", "leave", "back to the answers", show=False)]

    def action_leave(self) -> None:
        self.screen.query_one(CompareGrid).focus()


class CompareView(Vertical):
    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView #compare-intro { height: 1; padding: 0 1; color: $text-muted; }
    CompareView CompareInput { margin: 0 1; background: $boost; }
    CompareView CompareGrid, CompareView CompareDetail {
        border: round $primary 60%; border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted; padding: 0 1;
    }
    CompareView CompareGrid:focus { border: round $primary; }
    CompareView CompareGrid { height: 1fr; }
    CompareView CompareDetail { height: 5; }
    """

    class Ask(Message):
        """The user asked (a question in the box, or again)."""

        def __init__(self, question: str) -> None:
            super().__init__()
            self.question = question

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ask_id = 0
        self.question = ""
        self.sampler: p.Sampler | None = None
        self.prompts: tuple[tuple[str, str], ...] = ()
        self.columns: list[p.CompareColumn | None] = [None] * len(p.COMPARE_STAGES)
        self.pending: set[int] = set()
        self.started_at = 0.0
        self.seconds: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(INTRO, id="compare-intro")
        yield CompareInput(placeholder=PLACEHOLDER, compact=True, max_length=200,
                           id="compare-input")  # fmt: skip
        yield CompareGrid(id="compare-grid")
        yield CompareDetail(id="compare-detail")

    def on_mount(self) -> None:
        grid = self.query_one(CompareGrid)
        grid.border_title = "Compare"
        grid.border_subtitle = LEGEND

    @property
    def grid(self) -> CompareGrid:
        return self.query_one(CompareGrid)

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
        if m.prompts != self.prompts:
            asked_now = bool(m.prompts) and m.prompts[0][0] == "you"
            self.prompts = m.prompts
            self.columns = [None] * len(self.columns)  # old answers fit other rows
            if asked_now:  # the question just asked is the row to look at
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
        grid = self.grid
        grid.hints = {c.stage: hint(c) for c in self.columns if c is not None and c.missing}
        # A column still being answered again shows its last answers, its head "computing…".
        grid.pending = frozenset(self.pending)
        grid.prompts = self.prompts
        grid.columns = tuple(self.columns)
        self._detail()

    def _title(self) -> None:
        title = "Compare"
        if self.sampler is not None:
            from tui.sampler import label

            title += f" · every model: {label(self.sampler)}"
        if self.pending:
            title += " · computing…"
        elif self.seconds is not None:
            title += f" · answered in {self.seconds:.1f} s"
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
        detail = self.query_one(CompareDetail)
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
        detail.shown = (NAMES[column.stage], answer, index, answer.asked or prompt)

    # --- keys -----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Ask(event.value.strip()))
        self.grid.focus()

    def type_question(self) -> None:
        self.query_one(CompareInput).focus()
