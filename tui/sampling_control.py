"""The app's side of the sampler: the keys that change it, the samples asked with it, and
the "why this token" view. A mixin of TrainTermApp; the engine draws every sample."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding

from model import protocol as p
from tui import sampler as ladders
from tui.widgets.sample_log import SamplePane

# The same keys work inside the "why this token" view, which re-samples as they change.
SAMPLER_BINDINGS = [
    Binding("t", "temperature(1)", "hotter", show=False),
    Binding("T,shift+t", "temperature(-1)", "cooler", show=False),
    Binding("k", "top_k(1)", "more top-k", show=False),
    Binding("K,shift+k", "top_k(-1)", "less top-k", show=False),
    Binding("u", "top_p(1)", "more top-p", show=False),
    Binding("U,shift+u", "top_p(-1)", "less top-p", show=False),
    Binding("d", "seed(1)", "next seed", show=False),
    Binding("D,shift+d", "seed(-1)", "previous seed", show=False),
    Binding("0", "greedy", "greedy", show=False),
]


class SamplingControl:
    """Expects the host app to provide `send`, `notify`, `stage`, `state`, `samples`,
    `tab_view` and `_status`."""

    sampler: p.Sampler = p.APP_SAMPLER
    # The temperature 0 returns to when greedy is switched off again.
    _warm: float = p.APP_SAMPLER.temperature
    _why_wanted = False

    def action_temperature(self, direction: int) -> None:
        self._set_sampler(ladders.temperature(self.sampler, direction))

    def action_top_k(self, direction: int) -> None:
        self._set_sampler(ladders.top_k(self.sampler, direction))

    def action_top_p(self, direction: int) -> None:
        self._set_sampler(ladders.top_p(self.sampler, direction))

    def action_seed(self, direction: int) -> None:
        self._set_sampler(ladders.seed(self.sampler, direction))

    def action_greedy(self) -> None:
        if self.sampler.greedy:
            self._set_sampler(replace(self.sampler, temperature=self._warm or 1.0))
        else:
            self._set_sampler(replace(self.sampler, temperature=0.0))

    def _set_sampler(self, sampler: p.Sampler) -> None:
        from tui.screens.why import WhyScreen

        if sampler == self.sampler:
            return
        if sampler.greedy and not self.sampler.greedy:
            self._warm = self.sampler.temperature
        still_greedy = sampler.greedy and self.sampler.greedy
        self.sampler = sampler
        self._status()
        if still_greedy:
            later = ladders.words(replace(sampler, temperature=self._warm))
            self.notify(
                f"{later}: what 0 brings back. Greedy takes the favourite whatever the cuts",
                title="Greedy",
                timeout=5,
            )
            return  # a greedy sample would come out the same
        # What a sample on screen would be now: asked again, so the change shows at once.
        if isinstance(self.screen, WhyScreen) or self.sample_on_screen():
            self._ask_sample()

    def sample_on_screen(self) -> bool:
        """Does the tab shown hold a sample the sampler drew (the Compare tab says yes)?"""
        return self.stage == 1 and bool(self.samples)

    def _ask_sample(self) -> bool:
        if self.stage == 1:
            if self.state in ("starting", "resetting", "stopped"):
                return False
        else:
            view = self.tab_view
            if view is None or not view.running:
                return False
        self.send(p.Sample(sampler=self.sampler))
        return True

    def action_why(self) -> None:
        """Sample now and open the view on it. The same seed and model give the same
        sample again, so asking afresh costs a moment and always matches the status line."""
        if self._ask_sample():
            self._why_wanted = True
        elif self.stage == 1:
            self.notify("the trainer is not ready yet", timeout=3)
        else:
            self.notify("this tab has no model yet to sample", timeout=4)

    def sampling_receive(self, sample: p.SampleText) -> bool:
        """A sample arrived: into the open view, or the view opened on it when asked for.
        False when the view has no use for it."""
        from tui.screens.why import WhyScreen

        wanted, self._why_wanted = self._why_wanted, False
        if isinstance(self.screen, WhyScreen):
            self.screen.sample = sample
            return True
        if wanted:
            self.push_screen(WhyScreen(sample))
            return True
        return False

    def show_sample(self, sample: p.SampleText) -> None:
        self.samples = (*self.samples, sample)[-4:]
        self.query_one(SamplePane).samples = self.samples
