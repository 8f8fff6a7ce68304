"""The app's side of the stages after pretraining: routing their messages to their tab's
view, and the keys while such a tab is shown. A mixin of TrainTermApp."""

from __future__ import annotations

from typing import Any

from model import protocol as p
from tui.history import speed_label
from tui.sampler import label as sampler_label
from tui.views.later import LaterStageView
from tui.views.preference import PreferenceView
from tui.views.sft import SFTView
from tui.widgets.status import StatusBar, StatusInfo

# Tab number → the engine's stage name, and the words for it.
TAB_STAGE = {1: "pretrain", 2: "sft", 3: "dpo", 4: "compare"}  # 4: tui.compare_control
WORDS = {"sft": "fine-tuning", "dpo": "preference tuning"}
STATUS_STAGE = {"sft": "2 Fine-tuning", "dpo": "3 Preference (DPO)"}
NOT_STARTED = {
    "sft": "fine-tuning has not started: enter starts it (f fast-forwards stage 1 first)",
    "dpo": "preference tuning has not started: enter starts it (m method, [ ] β)",
}


class LaterStages:
    """Expects the host app to provide `send`, `notify`, `stage`, `state`, `speed`, `ready`,
    `sampler`, `clock`, `_status` and `request_draw`."""

    @property
    def sft_view(self) -> SFTView:
        return self.query_one(SFTView)

    def later_view(self, stage: str) -> LaterStageView | None:
        for view in self.query(LaterStageView):
            if view.stage == stage:
                return view
        return None

    @property
    def tab_view(self) -> LaterStageView | None:
        return self.later_view(TAB_STAGE.get(self.stage, ""))

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
                self.request_draw()
                return True
            case p.LossHistory():
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
                title = f"{WORDS[view.stage].capitalize()} diverged"
                self.notify(m.message, title=title, severity="error", timeout=30)
            case p.Saved():
                self.notify(m.path, title=f"Saved {WORDS[view.stage]} @ step {m.step}", timeout=8)
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
        for view in self.query(LaterStageView):
            view.draw()

    def later_stage_data(self, stage_data) -> None:
        sentences = dict(stage_data)
        for key, stage in (("sft", "sft"), ("preference", "dpo")):
            if key in sentences and not sentences[key].endswith("are ready for it."):
                self.later_view(stage).missing(sentences[key])

    def later_activate(self, number: int) -> None:
        if self.state == "playing":
            self.state = "paused"  # the engine pauses a run whose tab is left
        for view in self.query(LaterStageView):
            if view.state == "playing":
                view.state = "paused"
        self.send(p.Activate(TAB_STAGE[number]))

    def later_status(self) -> bool:
        view = self.tab_view
        if view is None:
            return False
        report, ready = view.latest, view.ready
        state = view.state if view.running else "waiting"
        self.query_one(StatusBar).info = StatusInfo(
            scenario=self.ready.scenario if self.ready else "",
            stage=STATUS_STAGE[view.stage],
            step=report.step if report else ready.step if ready else 0,
            total=report.total_steps if report else ready.total_steps if ready else 0,
            loss=report.loss if report else view.series.last,
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
            self.notify(f"{WORDS[view.stage]} has {what}: r starts it again", timeout=5)
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
        view = self.tab_view
        if view is None:
            return
        if view.running:
            self.notify(f"{WORDS[view.stage]} is running: r resets it to start again")
            return
        if view.base is None or not view.base.source:
            self.notify("no model to start from yet", timeout=4)
            return
        if view.base.fast_forwarding:
            self.notify("stage 1 is fast-forwarding: wait, or esc to cancel", timeout=4)
            return
        if isinstance(view, PreferenceView):
            self.send(p.StartStage("dpo", beta=view.beta, method=view.method))
        else:
            self.send(p.StartStage(view.stage))
        self.notify(f"{WORDS[view.stage]} starts: the evals run first…", timeout=4)

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
        view = self.tab_view
        if isinstance(view, PreferenceView) and not view.running:
            view.choose_method()

    def action_beta(self, direction: int) -> None:
        view = self.tab_view
        if isinstance(view, PreferenceView) and not view.running:
            view.choose_beta(direction)
