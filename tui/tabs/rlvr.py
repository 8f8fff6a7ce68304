"""Tab 3 by RLVR: RL against a verifiable reward. The same RLOO loop as RLHF, but each
sampled answer is scored by the gold judge, which checks it against the world's facts and
rules, instead of by a reward model that learnt to imitate people's choices. A reward that
checks the truth is hard to hack the way a learnt one is: there is nothing to over-optimise
but the truth. The view is RLHF's, without the reward model's phase."""

from __future__ import annotations

from model import protocol as p
from tui.tabs.rlhf import RLHFView
from tui.widgets.common.lines import set_title


class RLVRView(RLHFView):
    runs = ("rlvr",)
    BETAS = (0.0, 0.01, 0.05, 0.1, 0.3)
    beta = 0.1  # until the engine says the scenario's (p.BaseModel.beta)

    @property
    def reward_ready(self) -> bool:
        return True  # the gold judge is the reward: nothing to train first

    def show_choices(self) -> None:
        if not self.panes_ready:
            return
        words = " (nothing holds it near the fine-tuned model)" if self.beta == 0 else ""
        choices = f"method rlvr: RLOO scored by the gold judge · β {self.beta:g}{words}"
        self.pane("handoff").query_one("HandoffBody").choices = choices
        self._hint()

    def _hint(self) -> None:
        hint = "the policy's answers appear after the first step, each with the judge's score"
        self.pane("samples").hint = hint

    def ready_panes(self, ready: p.EngineReady) -> None:
        super().ready_panes(ready)
        loss = self.pane("loss")
        loss.placeholder = "the gold judge's score\nappears here as RL runs"
        settings = ready.settings
        beta = f"β {settings.beta:g} lr {settings.lr:g}" if settings is not None else ""
        set_title(loss, subtitle=f"── batch gold score · ● held-out gold · {beta}")

    def draw(self) -> None:
        super().draw()
        if self.running and self.series.val:
            set_title(self.pane("loss"), f"Reward · held-out gold {self.series.val[-1][1]:+.2f}")
            self.pane("metrics").note = self.alarm

    def action_overoptimise(self) -> None:
        self.notify(
            "o is RLHF's experiment: here the reward is the gold judge itself, with no learnt "
            "reward model to fool (m: the other methods, RLHF among them)",
            timeout=6,
        )
