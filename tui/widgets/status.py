"""The top line: scenario, stage, step/total, loss, play state, speed cap and steps/s."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

STATE_SIGNS = {
    "starting": "… starting",
    "paused": "⏸ paused",
    "playing": "▶ playing",
    "done": "■ done",
    "diverged": "✖ diverged",
    "stopped": "✖ trainer stopped",
    "resetting": "↺ resetting",
}


@dataclass(frozen=True)
class StatusInfo:
    scenario: str = ""
    stage: str = "1 Pretraining"
    step: int = 0
    total: int = 0
    loss: float | None = None
    state: str = "starting"
    speed: str = "max"
    rate: float | None = None


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; }
    """

    info: reactive[StatusInfo] = reactive(StatusInfo())

    def watch_info(self, info: StatusInfo) -> None:
        for state in STATE_SIGNS:
            self.set_class(info.state == state, f"-{state}")

    def render(self) -> Text:
        i = self.info
        state = STATE_SIGNS.get(i.state, i.state)
        if i.state == "playing" and i.rate is not None:
            state += f" {i.rate:.1f} steps/s"
        if i.state == "paused":
            state += " (space: train)"
        # Most important first; what does not fit is left off from the end.
        parts: list[tuple[str, Style]] = [
            (state, Style(bold=True)),
            (f"step {i.step}/{i.total}" if i.total else "", Style(bold=True)),
            (f"loss {i.loss:.3f}" if i.loss is not None else "", Style()),
            (f"speed {i.speed}", Style()),
            (f"scenario {i.scenario}" if i.scenario else "", Style()),
            (f"stage {i.stage}", Style()),
            ("trainterm", Style(dim=True)),
        ]
        width = self.size.width
        text = Text(" ", no_wrap=True, end="")
        for part, style in (p for p in parts if p[0]):
            extra = (3 if len(text) > 1 else 0) + cell_len(part)
            if cell_len(text.plain) + extra > width:
                break
            if len(text) > 1:
                text.append(" · ", Style(dim=True))
            text.append(part, style)
        return text
