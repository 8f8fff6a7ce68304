"""The top line: play state, step/total, loss, the sampler, speed cap, scenario, stage.

Which parts fit is decided from the widest each could be (any state, any step up to the
total), so a part never drops out and back in as the numbers move; the rate keeps a fixed
width, so the rest of the line stays where it is and only the figures repaint.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from tui.sampler import WIDEST_LABEL
from tui.widgets.common.lines import LinesWidget

STATE_SIGNS = {
    "starting": "… starting",
    "paused": "⏸ paused",
    "playing": "▶ playing",
    "done": "■ done",
    "diverged": "✖ diverged",
    "stopped": "✖ trainer stopped",
    "resetting": "↺ resetting",
    # The Compare tab: its models answering, or all answered.
    "computing": "… computing",
    "compared": "⇆ compared",
}


@dataclass(frozen=True)
class StatusInfo:
    scenario: str = ""
    stage: str = "1 Pretraining"
    step: int = 0
    total: int = 0
    loss: float | None = None
    # What ``loss`` is of: RL's status line shows the reward model's score instead.
    loss_label: str = "loss"
    state: str = "starting"
    speed: str = "max"
    rate: float | None = None
    sampler: str = ""  # tui.sampler.label: how the samples are drawn
    compute: str = ""  # while training: "3.1 GFLOP/s · MFU 12%" (tui.widgets.pretrain.cost)


RATE_WIDTH = len(" 99.9 steps/s")
BOLD = Style(bold=True)
DIM = Style(dim=True)


def _state(info: StatusInfo) -> str:
    state = STATE_SIGNS.get(info.state, info.state)
    if info.state == "playing" and info.rate is not None:
        state += f" {info.rate:4.1f} steps/s"
    if info.state == "paused":
        state += " (space: train)"
    return state


def _widest_state() -> int:
    playing = cell_len(STATE_SIGNS["playing"]) + RATE_WIDTH
    paused = cell_len(_state(StatusInfo(state="paused")))
    others = (cell_len(sign) for sign in STATE_SIGNS.values())
    return max(playing, paused, *others, len("waiting"))


WIDEST_STATE = _widest_state()


def status_line(i: StatusInfo, width: int) -> Text:
    step = f"step {i.step}/{i.total}" if i.total else ""
    loss = f"{i.loss_label} {i.loss:.3f}" if i.loss is not None else ""
    # (text, style, widest it can be); most important first, the rest as width allows.
    parts: list[tuple[str, Style, int]] = [
        (_state(i), BOLD, WIDEST_STATE),
        (step, BOLD, len(f"step {i.total}/{i.total}") if i.total else 0),
        (loss, Style(), len(f"{i.loss_label} 99.999") if i.loss is not None else 0),
        # Before the speed: at 80 columns only one fits, and what a sample is drawn with is
        # not shown anywhere else, while the speed is felt.
        (i.sampler, Style(), WIDEST_LABEL),
        (f"speed {i.speed}", Style(), len("speed 99/s")),
        (i.compute, Style(), len("999.9 GFLOP/s · MFU 100%")),
        (f"scenario {i.scenario}" if i.scenario else "", Style(), 9 + cell_len(i.scenario)),
        (f"stage {i.stage}", Style(), 6 + cell_len(i.stage)),
        ("trainterm", DIM, 9),
    ]
    text = Text(" ", no_wrap=True, end="")
    room = 1
    for part, style, widest in parts:
        if not part:
            continue
        room += (3 if room > 1 else 0) + max(widest, cell_len(part))
        if room > width:
            break
        if len(text) > 1:
            text.append(" · ", DIM)
        text.append(part, style)
    return text


class StatusBar(LinesWidget):
    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; }
    """

    info: reactive[StatusInfo] = reactive(StatusInfo(), repaint=False)

    def watch_info(self, info: StatusInfo) -> None:
        for state in STATE_SIGNS:
            self.set_class(info.state == state, f"-{state}")
        self.redraw()

    def render(self) -> Text:
        return status_line(self.info, self.size.width)

    def build(self) -> list[Text]:
        return [self.render()]
