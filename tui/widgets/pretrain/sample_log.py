"""What the model writes when asked (g): the latest samples, newest first, with their step
and the sampler that drew them."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from model.protocol import SampleText
from tui.sampler import label


class SamplePane(Widget):
    samples: reactive[tuple[SampleText, ...]] = reactive(())

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Sample (g) · why this token (w)"

    def render(self) -> Text:
        if not self.samples:
            return Text("press g to see what the model writes now, from an empty prompt", "dim")
        out = Text(end="")
        for n, sample in enumerate(reversed(self.samples)):
            if n:
                out.append("\n")
            drawn = f" · {label(sample.sampler)}" if sample.sampler else ""
            out.append(f"step {sample.step}{drawn}: ", "bold" if n == 0 else "dim")
            if sample.prompt:
                out.append(sample.prompt, "underline")
            out.append(sample.text.replace("\n", "↵ ") or "(nothing)", "" if n == 0 else "dim")
        return out
