"""The words for the keys, by action. The keys themselves are written once, in the bindings
(the App's BINDINGS, SAMPLER_BINDINGS, the widgets'): the help screen (tui.screens.help)
and the command palette (tui.palette) look each key up here by its action, so a key
rebound in a binding is rebound everywhere. tests/test_keys_written_once.py fails when
these words name an action that no binding has, when a binding has no words, and when
README's key table names other keys than the help does.
"""

from __future__ import annotations

import importlib

from textual.binding import Binding
from textual.keys import format_key

from tui.runs import method_names
from tui.stage_cards import CARDS

APP = "app"
# Where the main screen's other keys are bound, by a short name. Named rather than imported:
# the panes load after the first frame, and only the help screen needs them, when opened.
OWNERS = {
    "tab": "tui.tabs.base:StageTab",  # every tab's: space n ←→ g w s x r
    "pretrain": "tui.tabs.pretrain:PretrainTab",
    "later": "tui.tabs.later:LaterStageView",  # tabs 2 and 3
    "sft": "tui.tabs.sft:SFTView",
    "method": "tui.tabs.methods:MethodView",  # tab 3's views
    "rlhf": "tui.tabs.rlhf:RLHFView",
    "compare_tab": "tui.tabs.compare:CompareView",
    "screen": "textual.screen:Screen",  # tab: select the training loop
    "loop": "tui.widgets.pretrain.loop_diagram:LoopDiagram",
    "compare": "tui.widgets.compare.compare_grid:CompareGrid",
    "question": "tui.widgets.compare.compare_input:CompareInput",
    "help": "tui.screens.help:HelpScreen",
    "scroll": "textual.containers:VerticalScroll",
}
# As README and the help have always said them; Textual's ⏎ is easy to miss in a table.
SAID = {"enter": "enter"}


# Plain classes: made at start-up, where two dataclasses cost a few milliseconds.
class Keys:
    """The keys of one or more actions, shown together ("t T")."""

    __slots__ = ("actions",)

    def __init__(self, actions: tuple[tuple[str, str], ...]) -> None:
        self.actions = actions  # (owner, action)

    def __add__(self, other: Keys) -> Keys:
        return Keys(self.actions + other.actions)


def app(*actions: str) -> Keys:
    return Keys(tuple((APP, a) for a in actions))


def on(owner: str, *actions: str) -> Keys:
    return Keys(tuple((owner, a) for a in actions))


class Row:
    __slots__ = ("keys", "text")

    def __init__(self, keys: tuple[Keys, ...], text: str) -> None:
        self.keys = keys  # shown joined by " · ", as the text's parts are
        self.text = text


def row(text: str, *keys: Keys | str) -> Row:
    return Row(tuple(app(k) if isinstance(k, str) else k for k in keys), text)


# The help screen's list of keys, and README's key table (a row each, the same keys).
HELP: tuple[Row, ...] = (
    row("play / pause training", on("tab", "play_pause")),
    row("train exactly one step, then pause", on("tab", "step")),
    row("run only the next phase of the step (sample → … → update)", on("pretrain", "step_phase")),
    # Two rows, not one: a longer key column would narrow every pane's text above.
    row(
        "select the training loop · leave it",
        on("screen", "app.focus_next"),
        on("loop", "leave"),
    ),
    row(
        "in the loop: a box · the box explains what it is doing, with this step's numbers "
        "(or click it)",
        on("loop", "move(-1)", "move(1)"),
        on("loop", "ask"),
    ),
    row("move the token cursor (or click a token)", on("tab", "cursor(-1)", "cursor(1)")),
    row(
        "attention: the next / previous head, through every block (under 34 rows, a opens "
        "the pane over the screen)",
        on("pretrain", "attention(1)", "attention(-1)"),
    ),
    row(
        "stage tabs · Compare: every model's answers side by side",
        app("stage(1)", "stage(2)", "stage(3)"),
        "stage(4)",
    ),
    row(
        "Compare: a token (or click it) · the answer's first / last token",
        on("compare", "move(0, 0, -1)", "move(0, 0, 1)"),
        on("compare", "move(0, 0, -9999)", "move(0, 0, 9999)"),
    ),
    row(
        "Compare: a prompt · the next / previous model",
        on("compare", "move(-1, 0, 0)", "move(1, 0, 0)"),
        on("compare", "move(0, 1, 0)", "move(0, -1, 0)"),
    ),
    row(
        "Compare: type your own question · ask every model · back to the answers",
        on("compare_tab", "compare_type"),
        on("question", "submit"),
        on("question", "leave"),
    ),
    row("speed cap: 1, 2, 5, 10, 20 steps/s or max", app("speed(1)", "speed(-1)")),
    row(
        "ask the model to write some text now (tabs 2, 3: refresh the evals and probes; "
        "Compare: ask every model again)",
        on("tab", "sample"),
    ),
    row(
        "why this token: a sample of the tab's model, and how the sampler chose each token",
        on("tab", "why"),
    ),
    row(
        "sampler: temperature hotter / cooler · greedy on / off",
        app("sampler('temperature', 1)", "sampler('temperature', -1)"),
        app("sampler('greedy')"),
    ),
    row(
        "sampler: top-k more / fewer tokens · top-p more / less probability",
        app("sampler('top_k', 1)", "sampler('top_k', -1)"),
        app("sampler('top_p', 1)", "sampler('top_p', -1)"),
    ),
    row("sampler: next / previous seed", app("sampler('seed', 1)", "sampler('seed', -1)")),
    row(
        "tabs 2, 3: start the stage · tab 2: fast-forward stage 1 · cancel it",
        on("later", "start_stage"),
        on("sft", "fast_forward"),
        on("sft", "cancel"),
    ),
    row("tabs 2, 3: evals ⇄ probes · run the evals now", on("later", "side"), on("later", "evals")),
    row(
        f"tab 3: method ({', '.join(method_names())}) · β, before the run starts",
        on("method", "method"),
        on("method", "beta(-1)", "beta(1)"),
    ),
    row("tab 3, RLHF: RL with β 0, the over-optimisation experiment", on("rlhf", "overoptimise")),
    row("save a checkpoint", on("tab", "save")),
    row(
        "report card: every model this session has, scored as `trainterm eval` does", "report_card"
    ),
    row(
        "scaling: loss against model size, the fitted law and the compute-optimal size (the "
        "last `trainterm scaling`; r there runs it)",
        "scaling",
    ),
    row(
        "export the run's per-step metrics (CSV, JSONL) and the batch's predictions",
        on("tab", "export"),
    ),
    row("save an SVG screenshot of the screen (into the save folder, like s)", "save_screen"),
    row("reset the stage (asks first)", on("tab", "reset")),
    row("command palette: every action by name", "command_palette"),
    row("this help · close it", "help", on("help", "close")),
    row("quit", "quit"),
)

# The command palette: a title and a sentence per action of the App's keys, in the order of
# the bindings. The key is added to the sentence from the binding.
PALETTE: dict[str, tuple[str, str]] = {
    "play_pause": ("Play / pause", "Start or stop training"),
    "step": ("Step", "Train exactly one step"),
    "step_phase": (
        "Step one phase",
        "Run only the next phase of the step: sample, tokenize, forward, loss, …",
    ),
    **{
        f"stage({card.number})": (f"Stage {card.tab_label}", f"Show the {card.title} tab")
        for card in CARDS
    },
    "stage(4)": ("Compare", "Every model's answers side by side"),
    "attention(1)": ("Next attention head", "Where the next head looks, through every block"),
    "attention(-1)": ("Previous attention head", "Where the previous head looks"),
    "compare_type": ("Your question", "Compare: put your own question to every model"),
    "speed(1)": ("Faster", "Raise the speed cap"),
    "speed(-1)": ("Slower", "Lower the speed cap"),
    "sample": ("Sample text", "What does the model write now?"),
    "why": ("Why this token", "A sample, and how the sampler chose each token"),
    "sampler('temperature', 1)": ("Hotter", "Raise the sampling temperature"),
    "sampler('temperature', -1)": ("Cooler", "Lower the sampling temperature"),
    "sampler('top_k', 1)": ("More top-k", "Draw from more of the likeliest tokens"),
    "sampler('top_k', -1)": ("Fewer top-k", "Draw from fewer of the likeliest tokens"),
    "sampler('top_p', 1)": ("More top-p", "Draw from a larger share of the probability"),
    "sampler('top_p', -1)": ("Less top-p", "Draw from a smaller share of the probability"),
    "sampler('seed', 1)": ("Next seed", "Another seed for the draw"),
    "sampler('seed', -1)": ("Previous seed", "The seed before"),
    "sampler('greedy')": ("Greedy on / off", "Always the most likely token"),
    "start_stage": ("Start the stage", "Tabs 2 and 3: train from the stage before"),
    "fast_forward": ("Fast-forward stage 1", "Tab 2: train stage 1 to its end first, headless"),
    "cancel": ("Cancel the fast-forward", "Tab 2: stop training stage 1 first"),
    "evals": ("Run the evals", "Tabs 2 and 3: score the model now"),
    "side": ("Evals / probes", "Tabs 2 and 3: switch between the evals and the probes"),
    "method": (
        "Method",
        f"Tab 3: {', '.join(method_names()[:-1])} or {method_names()[-1]}, before the run starts",
    ),
    "overoptimise": ("Over-optimise", "Tab 3, RLHF: RL with β 0, the over-optimisation experiment"),
    "beta(-1)": ("β down", "Tab 3: a smaller β, before the run starts"),
    "beta(1)": ("β up", "Tab 3: a larger β, before the run starts"),
    "save": ("Save checkpoint", "Save weights and optimizer"),
    "report_card": (
        "Report card",
        "Every model this session has, scored as `trainterm eval` does",
    ),
    "scaling": (
        "Scaling experiment",
        "Loss against model size: the last `trainterm scaling`, or run it (r)",
    ),
    "export": (
        "Export the run",
        "Per-step metrics (CSV, JSONL) and the batch's predictions (JSONL)",
    ),
    "save_screen": ("Screenshot into the save folder", "The screen as an SVG image"),
    "reset": ("Reset stage", "Start the stage again from scratch"),
    "help": ("Help", "Every pane explained"),
}
# The App's keys that are no command: a cursor moves nothing by name, Textual's palette
# has Quit of its own, and ctrl+p is the palette.
NOT_IN_PALETTE = frozenset({"cursor(-1)", "cursor(1)", "quit", "command_palette"})


def owner_class(owner: str) -> type:
    module, _, name = OWNERS[owner].partition(":")
    return getattr(importlib.import_module(module), name)


def bound(cls: type) -> dict[str, list[list[str]]]:
    """Each action of ``cls``'s bindings → the keys of each binding that runs it, as Textual
    merges BINDINGS: a subclass's key replaces the same key of a class it inherits from."""
    taken: set[str] = set()
    out: dict[str, list[list[str]]] = {}
    declared = []
    for c in cls.__mro__:
        declared.append(c.__dict__.get("BINDINGS", ()))
        if not c.__dict__.get("_inherit_bindings", True):  # inherit_bindings=False
            break
    if getattr(cls, "ENABLE_COMMAND_PALETTE", False):  # an App binds it when it starts
        declared.append([Binding(cls.COMMAND_PALETTE_BINDING, "command_palette")])
    for bindings in declared:
        here: set[str] = set()
        for binding in bindings:
            binding = binding if isinstance(binding, Binding) else Binding(*binding)
            keys = [b.key for b in Binding.make_bindings([binding]) if b.key not in taken]
            if keys:
                out.setdefault(binding.action, []).append(keys)
            here.update(keys)
        taken |= here
    return out


def say(key: str) -> str:
    """A key as the help says it: ← for left, ? for question_mark, ctrl+p."""
    *modifiers, name = key.split("+")
    return "+".join([*modifiers, SAID.get(name) or format_key(name)])


def shown(bindings: list[list[str]]) -> list[str]:
    """The keys a reader is told: the first of each binding (T, not shift+t; + not =)."""
    said: list[str] = []
    for keys in bindings:
        if say(keys[0]) not in said:
            said.append(say(keys[0]))
    return said


class Lookup:
    """The bindings of the App and of the main screen's widgets, read once."""

    def __init__(self, app_class: type) -> None:
        self._bound = {APP: bound(app_class)}

    def bindings(self, owner: str) -> dict[str, list[list[str]]]:
        if owner not in self._bound:
            self._bound[owner] = bound(owner_class(owner))
        return self._bound[owner]

    def keys(self, group: Keys) -> list[str]:
        """What a group's keys are called; an action that no binding has adds none."""
        said: list[str] = []
        for owner, action in group.actions:
            for key in shown(self.bindings(owner).get(action, [])):
                if key not in said:
                    said.append(key)
        return said

    def cell(self, row: Row) -> str:
        """A row's keys, as the help's key column and README's say them: "t T · 0"."""
        return " · ".join(" ".join(self.keys(group)) for group in row.keys)

    def line(self, row: Row) -> str:
        """Each group of keys before its part of the text: "↑ ↓ scroll · esc close"."""
        parts = row.text.split(" · ")
        return " · ".join(
            f"{' '.join(self.keys(group))} {part}"
            for group, part in zip(row.keys, parts, strict=True)
        )
