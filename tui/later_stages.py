"""The app's side of the stages after pretraining: routing their messages to their tab's
view, and the keys while such a tab is shown. A mixin of TrainTermApp."""

from __future__ import annotations

from typing import Any

from model import protocol as p
from tui.history import speed_label
from tui.stages import BY_NUMBER
from tui.views.sft import SFTView
from tui.widgets.status import StatusBar, StatusInfo

NOT_STARTED = "fine-tuning has not started: enter starts it (f fast-forwards stage 1 first)"


class LaterStages:
    """Expects the host app to provide `send`, `notify`, `stage`, `state`, `speed`, `ready`,
    `_status` and `_draw_throttle`."""

    @property
    def sft_view(self) -> SFTView:
        return self.query_one(SFTView)

    def later_receive(self, m: Any) -> bool:
        """Handle a message of a later stage; False leaves it to stage 1's handling."""
        view = self.sft_view
        match m:
            case p.EngineReady(stage="sft"):
                view.on_ready(m)
            case p.StepReport(stage="sft"):
                view.on_report(m, self.clock())
                self._draw_throttle.request()
                return True
            case p.LossHistory(stage="sft"):
                view.series.replace(m.points)
            case p.EvalTable(stage="sft"):
                view.on_evals(m)
            case p.ProbeAnswers(stage="sft"):
                view.on_probes(m)
            case p.BaseModel(stage="sft"):
                self._base_model(m)
            case p.StageCleared(stage="sft"):
                view.cleared()
            case p.Divergence(stage="sft"):
                view.state = "diverged"
                self.notify(m.message, title="Fine-tuning diverged", severity="error", timeout=30)
            case p.Saved(stage="sft"):
                self.notify(m.path, title=f"Saved fine-tuned model @ step {m.step}", timeout=8)
            case _:
                return False
        view.draw()
        self._status()
        return True

    def _base_model(self, base: p.BaseModel) -> None:
        view = self.sft_view
        was_forwarding = view.base is not None and view.base.fast_forwarding
        view.on_base(base)
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
        self.sft_view.on_pretrain_progress(report.step, report.total_steps)

    def later_stage_data(self, stage_data) -> None:
        sentences = dict(stage_data)
        if "sft" in sentences and not sentences["sft"].endswith("are ready for it."):
            self.sft_view.missing(sentences["sft"])

    def later_activate(self, number: int) -> None:
        if self.state == "playing":
            self.state = "paused"  # the engine pauses a run whose tab is left
        view = self.sft_view
        if view.state == "playing":
            view.state = "paused"
        self.send(p.Activate(BY_NUMBER[number].key))

    def later_status(self) -> bool:
        if self.stage != 2:
            return False
        view = self.sft_view
        report, ready = view.latest, view.ready
        state = view.state if view.running else "waiting"
        self.query_one(StatusBar).info = StatusInfo(
            scenario=self.ready.scenario if self.ready else "",
            stage="2 Fine-tuning",
            step=report.step if report else ready.step if ready else 0,
            total=report.total_steps if report else ready.total_steps if ready else 0,
            loss=report.loss if report else view.series.last,
            state=state,
            speed=speed_label(self.speed),
            rate=view.rate.rate(self.clock()) if state == "playing" else None,
        )
        return True

    # --- keys on a later stage's tab ------------------------------------------------------

    def _sft_ready_to_train(self) -> bool:
        view = self.sft_view
        if self.stage != 2:
            self.notify("stage 3 arrives in a later version: press 1 or 2", timeout=4)
            return False
        if not view.running:
            self.notify(NOT_STARTED, timeout=5)
            return False
        if view.state in ("done", "diverged"):
            self.notify(f"fine-tuning has {'finished' if view.state == 'done' else 'diverged'}: "
                        "r starts it again", timeout=5)  # fmt: skip
            return False
        return True

    def later_play_pause(self) -> None:
        view = self.sft_view
        if view.state == "playing":
            self.send(p.Pause())
            view.state = "paused"
        elif self._sft_ready_to_train():
            self.send(p.Play())
            view.state = "playing"
        self._status()

    def later_step(self) -> None:
        view = self.sft_view
        if view.state == "playing" or self._sft_ready_to_train():
            self.send(p.Step(1))
            view.state = "paused"
            self._status()

    def later_sample(self) -> None:
        if self.stage == 2 and self.sft_view.running:
            self.send(p.RunEvals())
            self.notify("asking the probes and the evals…", timeout=3)

    def later_save(self) -> None:
        if self.stage == 2 and self.sft_view.running:
            self.send(p.Save())

    def later_reset(self) -> None:
        if self.stage == 2 and self.sft_view.running:
            self.send(p.Reset())

    def action_start_stage(self) -> None:
        if self.stage != 2:
            return
        view = self.sft_view
        if view.running:
            self.notify("fine-tuning is running: r resets it to choose a base model again")
            return
        if view.base is None or not view.base.source:
            self.notify("no base model yet", timeout=4)
            return
        if view.base.fast_forwarding:
            self.notify("stage 1 is fast-forwarding: wait, or esc to cancel", timeout=4)
            return
        self.send(p.StartStage("sft"))
        self.notify("fine-tuning starts: the base model answers the probes first…", timeout=4)

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
        if self.stage == 2 and self.sft_view.running:
            self.sft_view.toggle_side()
