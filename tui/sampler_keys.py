"""The sampler every tab draws with, as the keys set it, and the "why this token" view it
opens. A plain object the App owns: the sampler is one for the whole app (the status line
shows it), while what a change re-asks is the shown tab's business (StageTab.resample)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from model import protocol as p
from tui import sampler as ladders

if TYPE_CHECKING:
    from tui.app import TrainTermApp

LADDERS: dict[str, Callable[[p.Sampler, int], p.Sampler]] = {
    "temperature": ladders.temperature,
    "top_k": ladders.top_k,
    "top_p": ladders.top_p,
    "seed": ladders.seed,
}


class SamplerKeys:
    def __init__(self, app: TrainTermApp) -> None:
        self.app = app
        self.sampler: p.Sampler = p.APP_SAMPLER
        # The temperature 0 returns to when greedy is switched off again.
        self.warm: float = p.APP_SAMPLER.temperature
        self.why_wanted = False

    def turn(self, ladder: str, direction: int = 0) -> None:
        """A sampler key: a step along one of tui.sampler's ladders, or greedy on / off."""
        if ladder != "greedy":
            self.set(LADDERS[ladder](self.sampler, direction))
        elif self.sampler.greedy:
            self.set(replace(self.sampler, temperature=self.warm or 1.0))
        else:
            self.set(replace(self.sampler, temperature=0.0))

    def set(self, sampler: p.Sampler) -> None:
        from tui.screens.why import WhyScreen

        if sampler == self.sampler:
            return
        if sampler.greedy and not self.sampler.greedy:
            self.warm = self.sampler.temperature
        still_greedy = sampler.greedy and self.sampler.greedy
        self.sampler = sampler
        self.app.show_status()
        if still_greedy:
            later = ladders.words(replace(sampler, temperature=self.warm))
            self.app.notify(
                f"{later}: what 0 brings back. Greedy takes the favourite whatever the cuts",
                title="Greedy",
                timeout=5,
            )
            return  # a greedy sample would come out the same
        # What a sample on screen would be now: asked again, so the change shows at once.
        tab = self.app.tab
        if isinstance(self.app.screen, WhyScreen) or tab.sample_on_screen():
            tab.resample()

    def received(self, sample: p.SampleText) -> bool:
        """A sample arrived: into the open view, or the view opened on it when asked for.
        False when the view has no use for it."""
        from tui.screens.why import WhyScreen

        wanted, self.why_wanted = self.why_wanted, False
        if isinstance(self.app.screen, WhyScreen):
            self.app.screen.sample = sample
            return True
        if wanted:
            self.app.push_screen(WhyScreen(sample))
            return True
        return False
