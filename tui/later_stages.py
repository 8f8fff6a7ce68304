"""The app's side of the stages after pretraining: routing their messages to their tab's
view, and the keys while such a tab is shown. A mixin of TrainTermApp."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import ContentSwitcher

from model import protocol as p
from tui.history import speed_label
from tui.sampler import label as sampler_label
from tui.widgets.status import StatusBar, StatusInfo

if TYPE_CHECKING:
    from tui.views.later import LaterStageView
    from tui.views.rlhf import RLHFView
    from tui.views.sft import SFTView

# The views of tabs 2–4 are imported where a key or a message needs them, not here: the app
# imports this module before its first frame, and mounts those tabs after it.

# Tab number → the engine's stage name (tab 3: DPO's, or RLHF's as m switches), and words.
TAB_STAGE = {1: "pretrain", 2: "sft", 3: "dpo", 4: "compare"}  # 4: tui.compare_control
WORDS = {
    "sft": "fine-tuning",
    "dpo": "preference tuning",
    "rlhf": "RLHF",
    "reward-model": "the reward model",
}
STATUS_STAGE = {
    "sft": "2 Fine-tuning",
    "dpo": "3 Preference (DPO)",
    "rlhf": "3 RLHF: policy",
    "reward-model": "3 RLHF: reward model",
}
NOT_STARTED = {
    "sft": "fine-tuning has not started: enter starts it (f fast-forwards stage 1 first)",
    "dpo": "preference tuning has not started: enter starts it (m method, [ ] β)",
    "rlhf": "RLHF has not started: enter trains the reward model, then RL (m method, [ ] β)",
}


def later_tabs() -> list[Widget]:
    """Tabs 2–4, hidden, for the stage switcher. Imported here, after the first frame."""
    from tui.views.compare import CompareView
    from tui.views.preference import PreferenceView
    from tui.views.rlhf import RLHFView
    from tui.views.sft import SFTView

    tabs = [
        SFTView(id="stage-2"),
        # Tab 3 shows one method at a time: m switches DPO ⇄ RLHF.
        ContentSwitcher(
            PreferenceView(id="dpo-view"), RLHFView(id="rlhf-view"),
            id="stage-3", initial="dpo-view",
        ),
        CompareView(id="stage-4"),
    ]  # fmt: skip
    for tab in tabs:
        tab.display = False  # as the switcher does with what it does not show
    return tabs


class LaterStages:
    """Expects the host app to provide `send`, `notify`, `stage`, `state`, `speed`, `ready`,
    `sampler`, `clock`, `_status` and `request_draw`."""

    @property
    def sft_view(self) -> SFTView:
        return self.query_one("#stage-2")

    def later_view(self, stage: str) -> LaterStageView | None:
        for view in self.query("LaterStageView"):
            if stage in getattr(view, "stages", (view.stage,)):
                return view
        return None

    @property
    def rlhf_shown(self) -> bool:
        return self.query_one("#stage-3", ContentSwitcher).current == "rlhf-view"

    @property
    def tab_view(self) -> LaterStageView | None:
        if self.stage == 3 and self.rlhf_shown:
            return self.query_one("#rlhf-view")
        return self.later_view(TAB_STAGE.get(self.stage, ""))

    def _tab_stage(self, number: int) -> str:
        if number == 3 and self.rlhf_shown:
            return self.query_one("#rlhf-view").current_stage
        return TAB_STAGE[number]

    def later_receive(self, m: Any) -> bool:
        """Handle a message of a later stage; False leaves it to stage 1's handling."""
        view = self.later_view(getattr(m, "stage", ""))
        if view is None:
            return False
        match m:
            case p.EngineReady():
                view.on_ready(m)
            case p.StepReport():
                view.on_report(m, self.clock())
                if m.alarm:
                    self.notify(m.alarm, title="Run paused", severity="warning", timeout=30)
                    self._status()
                self.request_draw()
                return True
            case p.LossHistory() if m.stage != "rlhf":  # RL's chart is of rewards, not loss
                view.series.replace(m.points)
            case p.EvalTable():
                view.on_evals(m)
            case p.ProbeAnswers():
                view.on_probes(m)
            case p.BaseModel():
                self._base_model(view, m)
            case p.StageCleared():
                view.cleared()
            case p.Divergence():
                view.state = "diverged"
                title = f"{WORDS[m.stage].capitalize()} diverged"
                self.notify(m.message, title=title, severity="error", timeout=30)
            case p.Saved():
                self.notify(m.path, title=f"Saved {WORDS[m.stage]} @ step {m.step}", timeout=8)
            case _:
                return False
        view.draw()
        self._status()
        return True

    def _base_model(self, view: LaterStageView, base: p.BaseModel) -> None:
        was_forwarding = view.base is not None and view.base.fast_forwarding
        view.on_base(base)
        if view.stage != "sft":
            return
        if base.fast_forwarding:
            self.state = "playing"
        elif was_forwarding and self.state == "playing":
            self.state = "done" if base.step >= base.total_steps else "paused"
            if base.source == "cache":
                self.notify(
                    "stage 1 finished and is cached: enter starts fine-tuning from it",
                    title="Base model ready",
                    timeout=8,
                )

    def later_pretrain_progress(self, report: p.StepReport) -> None:
        self.sft_view.on_parent_progress(report.step, report.total_steps)

    def later_draw(self) -> None:
        for view in self.query("LaterStageView"):
            view.draw()

    def later_stage_data(self, stage_data) -> None:
        sentences = dict(stage_data)
        for key, stage in (("sft", "sft"), ("preference", "dpo")):
            if key in sentences and not sentences[key].endswith("are ready for it."):
                self.later_view(stage).missing(sentences[key])

    def later_activate(self, number: int) -> None:
        if self.state == "playing":
            self.state = "paused"  # the engine pauses a run whose tab is left
        for view in self.query("LaterStageView"):
            if view.state == "playing":
                view.state = "paused"
        self.send(p.Activate(self._tab_stage(number)))

    def later_status(self) -> bool:
        view = self.tab_view
        if view is None:
            return False
        report, ready = view.latest, view.ready
        state = view.state if view.running else "waiting"
        rl = _shown(view) == "rlhf" and view.running  # RL's loss says nothing: its reward does
        self.query_one(StatusBar).info = StatusInfo(
            scenario=self.ready.scenario if self.ready else "",
            stage=STATUS_STAGE[_shown(view)],
            step=report.step if report else ready.step if ready else 0,
            total=report.total_steps if report else ready.total_steps if ready else 0,
            loss=view.series.last if rl else report.loss if report else view.series.last,
            loss_label="RM score" if rl else "loss",
            state=state,
            speed=speed_label(self.speed),
            rate=view.rate.rate(self.clock()) if state == "playing" else None,
            sampler=sampler_label(self.sampler),
        )
        return True

    # --- keys on a later stage's tab ------------------------------------------------------

    def _ready_to_train(self, view: LaterStageView) -> bool:
        if not view.running:
            self.notify(NOT_STARTED[view.stage], timeout=5)
            return False
        if view.state in ("done", "diverged"):
            what = "finished" if view.state == "done" else "diverged"
            self.notify(f"{WORDS[_shown(view)]} has {what}: r starts it again", timeout=5)
            return False
        return True

    def later_play_pause(self) -> None:
        view = self.tab_view
        if view is None:
            return
        if view.state == "playing":
            self.send(p.Pause())
            view.state = "paused"
        elif self._ready_to_train(view):
            self.send(p.Play())
            view.state = "playing"
        self._status()

    def later_step(self) -> None:
        view = self.tab_view
        if view is not None and (view.state == "playing" or self._ready_to_train(view)):
            self.send(p.Step(1))
            view.state = "paused"
            self._status()

    def later_cursor(self, delta: int) -> None:
        view = self.tab_view
        if view is not None:
            view.move_cursor(delta)

    def later_sample(self) -> None:
        view = self.tab_view
        if view is not None and view.running:
            self.send(p.RunEvals())
            self.notify("asking the probes and the evals…", timeout=3)

    def later_save(self) -> None:
        view = self.tab_view
        if view is not None and view.running:
            self.send(p.Save())

    def later_reset(self) -> None:
        view = self.tab_view
        if view is not None and view.running:
            self.send(p.Reset())

    def action_start_stage(self) -> None:
        from tui.views.preference import PreferenceView
        from tui.views.rlhf import RLHFView

        view = self.tab_view
        if view is None:
            return
        if isinstance(view, RLHFView) and view.phase == "reward-model" and view.state == "done":
            self._start_rl(view)
            return
        if view.running:
            self.notify(f"{WORDS[_shown(view)]} is running: r resets it to start again")
            return
        if view.base is None or not view.base.source:
            self.notify("no model to start from yet", timeout=4)
            return
        if view.base.fast_forwarding:
            self.notify("stage 1 is fast-forwarding: wait, or esc to cancel", timeout=4)
            return
        if isinstance(view, RLHFView):
            if view.reward_ready:
                self._start_rl(view)
            else:
                self.send(p.StartStage("reward-model"))
                self.notify("the reward model trains first: then enter starts RL", timeout=5)
            return
        if isinstance(view, PreferenceView):
            self.send(p.StartStage("dpo", beta=view.beta, method=view.method))
        else:
            self.send(p.StartStage(view.stage))
        self.notify(f"{WORDS[view.stage]} starts: the evals run first…", timeout=4)

    def _start_rl(self, view: RLHFView, lr: float | None = None) -> None:
        self.send(p.StartStage("rlhf", beta=view.beta, lr=lr))
        pushed = f", lr {lr:g}" if lr is not None else ""
        self.notify(f"RL starts from the fine-tuned model, β {view.beta:g}{pushed}…", timeout=4)

    def action_fast_forward(self) -> None:
        base = self.sft_view.base
        if self.stage != 2 or base is None:
            return
        if base.source == "cache" or base.step >= base.total_steps:
            self.notify("the base model is trained already: enter starts fine-tuning", timeout=4)
            return
        self.send(p.FastForward())

    def action_cancel(self) -> None:
        base = self.sft_view.base
        if base is not None and base.fast_forwarding:
            self.send(p.Cancel())

    def action_evals(self) -> None:
        self.later_sample()

    def action_side(self) -> None:
        view = self.tab_view
        if view is not None and view.running:
            view.toggle_side()

    def action_method(self) -> None:
        """m: DPO+NLL → plain DPO → RLHF → DPO+NLL. Each method keeps its own run."""
        from tui.views.preference import PreferenceView

        view = self.tab_view
        if self.stage != 3 or view is None:
            return
        if isinstance(view, PreferenceView) and not view.running and view.method != "dpo":
            view.choose_method()
            return
        switcher = self.query_one("#stage-3", ContentSwitcher)
        to_rlhf = isinstance(view, PreferenceView)
        if view.state == "playing":
            self.send(p.Pause())
            view.state = "paused"
        if not to_rlhf:
            dpo = self.query_one("#dpo-view", PreferenceView)
            if not dpo.running:
                dpo.choose_method()  # back to the first method
        switcher.current = "rlhf-view" if to_rlhf else "dpo-view"
        self.send(p.Activate(self._tab_stage(3)))
        self._status()

    def action_beta(self, direction: int) -> None:
        from tui.views.preference import PreferenceView
        from tui.views.rlhf import RLHFView

        view = self.tab_view
        # RLHF's β is RL's: it may change until RL starts (the reward model may have run).
        before_rl = isinstance(view, RLHFView) and view.phase != "rlhf"
        if isinstance(view, PreferenceView | RLHFView) and (not view.running or before_rl):
            view.choose_beta(direction)

    def action_overoptimise(self) -> None:
        """o in RLHF: the over-optimisation experiment, RL with β 0 and lr ×3."""
        from tui.views.rlhf import OVEROPTIMISE_BETA, OVEROPTIMISE_LR, RLHFView

        view = self.tab_view
        if not isinstance(view, RLHFView):
            return
        if view.phase == "rlhf":
            self.notify("RL has run: r resets it, then o starts the experiment", timeout=5)
            return
        if not view.reward_ready:
            self.notify("the reward model must train first: enter trains it", timeout=5)
            return
        view.beta = OVEROPTIMISE_BETA
        view.choose_beta(0)
        self._start_rl(view, lr=OVEROPTIMISE_LR)
        self.notify(
            "watch the two lines: the reward model's score climbs; does the gold judge's?",
            title="Over-optimisation", timeout=10,
        )  # fmt: skip


def _shown(view: LaterStageView) -> str:
    """The engine's name of the run a view shows (RLHF's view shows two, in turn)."""
    return getattr(view, "current_stage", view.stage)
