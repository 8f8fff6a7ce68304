"""The engine: the trainer process's loop. It owns the runs, obeys the screen's commands,
steps, and sends coalesced reports.

Light at import time (torch loads when the first run is built), like everything the
process's entry point (model/engine/process.py) imports.
"""

from __future__ import annotations

import os
import time
import weakref
from dataclasses import replace
from multiprocessing.connection import Connection

from model import protocol as p
from model.engine.base_models import base_info
from model.engine.compare_answers import CompareJob
from model.engine.options import EngineOptions
from model.engine.ready_message import ready_message, stage_data
from model.engine.stage_commands import StageCommands
from model.exports import step_record
from model.stages import FIRST, ORDER, answers, is_chat, lacking, parent_of

# At this many steps per second or fewer, playing sends every phase of every step.
ANIMATE_AT_OR_BELOW = 2.0


class Engine(StageCommands):
    """One run per stage; the keys act on the active one. Fast-forward trains pretraining
    headless (whatever tab is active) until it reaches its configured end."""

    def __init__(self, conn: Connection, options: EngineOptions) -> None:
        self.conn = conn
        self.options = options
        self.playing = False
        self.pending_steps = 0
        self.speed_cap: float | None = None
        self.last_step_at = 0.0
        self.last_sent_at = 0.0
        self.unsent: p.StepReport | None = None
        self.unsent_losses: list[tuple[int, float]] = []
        self.unsent_val: list[tuple[int, float]] = []
        self.unsent_series: list[tuple[str, int, float]] = []
        self.runs: dict = {}
        self.base_models: dict = {}
        self.active = FIRST
        self.fast_forwarding = False
        self.scenario = None
        # Per later stage, what it trains on in a sentence (see model.engine.base_models).
        self.trains_on: dict[str, str] = {}
        # Per run, every step's figures by step, for exports: reports reaching the screen
        # are coalesced, so only here does every step's grad norm and rate survive. Keyed
        # by the trainer itself, so a reset run's log goes with it.
        self.step_logs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.comparing = None  # the Compare tab's ask being answered (model.engine.compare_answers)

    @property
    def trainer(self):
        return self.runs.get(self.active)

    def run(self) -> None:
        if not self._build():
            return
        while True:
            stepping = self.trainer is not None and (self.playing or self.pending_steps > 0)
            busy = stepping or self.fast_forwarding or self.comparing is not None
            if busy:
                wait = 0.0 if self.fast_forwarding or self.comparing else self._wait_time()
            else:
                wait = p.REPORT_INTERVAL if self.unsent else None
            if self.conn.poll(wait):
                if not self._handle(self.conn.recv()):
                    return
                continue
            if self.comparing is not None:  # one model's answers, then the pipe again
                self.comparing = self.comparing.turn(self)
            elif self.fast_forwarding:
                self._fast_forward_step()
            elif stepping and self._wait_time() == 0:
                if self._animated:
                    self._step_phase()
                else:
                    self._step()
            # While playing, reports leave with the steps that carry display figures (_step
            # flushes those). Sending one in between would restart the interval that makes
            # the next step a display step, and the batch on screen would stop moving.
            if not self.playing or self.fast_forwarding:
                self._flush(force=not (self.pending_steps or self.fast_forwarding))

    # --- building -------------------------------------------------------------------------

    def _build(self) -> bool:
        from model.checkpoint import CheckpointError
        from model.pipeline import PipelineError
        from model.resume import load_checkpoint
        from model.stages.base import StageDataError
        from model.tokenizer import TokenizerError
        from scenarios import ScenarioError, corpus_scenario, default_scenario, load_scenario

        o = self.options
        try:
            if o.corpus:
                self.scenario = corpus_scenario(o.corpus)
            elif o.scenario:
                self.scenario = load_scenario(o.scenario)
            else:
                self.scenario = default_scenario()
            self.runs = {}
            self.active = FIRST
            if o.resume:
                resumed = load_checkpoint(o.resume, self.scenario, o.threads)
                self.runs[resumed.stage] = resumed
            if FIRST not in self.runs:
                self.runs[FIRST] = self._first_run()
        except (
            ScenarioError, CheckpointError, TokenizerError, StageDataError, PipelineError,
            ValueError,
        ) as e:  # fmt: skip
            self.conn.send(p.EngineError(str(e), fatal=True))
            return False
        for trainer in self.runs.values():
            self._announce(trainer)
        self._send_base()
        return True

    def _announce(self, trainer) -> None:
        self.conn.send(ready_message(trainer, stage_data(self.scenario)))
        if trainer.state.losses:
            self.conn.send(p.LossHistory(tuple(trainer.state.losses), trainer.stage))

    def _send_base(self) -> None:
        """What each later stage's tab offers to start from, for those the scenario has
        the data of. The reward model has no offer of its own: RLHF's tab trains it first
        and its offer says which one it would use."""
        for stage in ORDER:
            if parent_of(stage) and answers(stage) and not lacking(self.scenario, stage):
                self.conn.send(base_info(self, stage))

    # --- commands -------------------------------------------------------------------------

    @property
    def _animated(self) -> bool:
        """Slow enough to watch each phase: play the loop phase by phase, evenly spaced."""
        cap = self.speed_cap
        return self.playing and cap is not None and cap <= ANIMATE_AT_OR_BELOW

    def _wait_time(self) -> float:
        if self.pending_steps > 0 or self.speed_cap is None:
            return 0.0
        interval = 1.0 / self.speed_cap / (len(p.PHASES) if self._animated else 1)
        return max(0.0, self.last_step_at + interval - time.perf_counter())

    def _handle(self, command) -> bool:
        t = self.trainer
        match command:
            case p.Play():
                self.playing = t is not None and not t.done
            case p.Pause():
                if self.playing and self.unsent is not None and t is not None and not t.done:
                    # Steps since the last display step carry no batch or figures: the
                    # pause lands on one more step that does, so the paused screen shows
                    # the step its status line names, not a placeholder.
                    self._accept(t, t.step(display=True))
                self._halt()
                # The steps trained before the pause reach the screen now, ahead of the
                # answer to any later command: "paused" means the screen has them all.
                self._flush(force=True)
            case p.Step(count=count):
                self.playing = False
                self.pending_steps += max(0, count) if t is not None else 0
            case p.SetSpeed(steps_per_second=cap):
                self.speed_cap = cap
            case p.StepPhase():
                self._halt()
                if t is not None:
                    self._step_phase()
            case p.Sample(prompt=prompt, max_new_tokens=n, sampler=sampler) if t is not None:
                self._sample(t, prompt or self._default_prompt(t), n, sampler)
            case p.Save(path=path) if t is not None:
                self._save(path)
            case p.Reset():
                self._reset()
            case p.Activate(stage=stage):
                if stage != self.active:
                    self._halt()
                    self._flush(force=True)
                    self.active = stage
                if parent_of(stage) and stage not in self.runs:  # a later stage's hand-off
                    self._send_base()
            case p.StartStage(stage=stage, from_path=path, beta=beta, method=method, lr=lr):
                self._start(stage, path, beta, method, lr)
            case p.FastForward():
                self._begin_fast_forward()
            case p.Cancel():
                if self.fast_forwarding:
                    self.fast_forwarding = False
                    self._flush(force=True)
                    self._send_base()
            case p.RunEvals() if t is not None and parent_of(t.stage):
                self._evals(t)
            case p.CompareAsk():
                self.comparing = CompareJob.start(self, command)
            case p.MakeReport():
                self._report_card()
            case p.ExportMetrics() if t is not None:
                self._export_metrics(t)
            case p.Shutdown():
                return False
        return True

    def _halt(self) -> None:
        self.playing = False
        self.pending_steps = 0

    def _sample(self, trainer, prompt: str, n: int, sampler: p.Sampler | None) -> None:
        problem = sampler.problem() if sampler is not None else None
        if problem:
            self.conn.send(p.EngineError(f"cannot sample: {problem}"))
            return
        self.conn.send(trainer.sample_message(prompt, n, sampler))

    def _default_prompt(self, trainer) -> str:
        if not is_chat(trainer.stage):  # a base model continues the text it is given
            return ""
        questions = [pr.prompt for pr in self.scenario.probes if pr.kind == "question"]
        return questions[0] if questions else "Hello!"

    # --- stepping -------------------------------------------------------------------------

    def _display_due(self) -> bool:
        """Display figures only for the step the screen will show."""
        if not self.playing:
            return True  # stepping by hand: every step is seen
        return time.perf_counter() - self.last_sent_at >= p.PLAYING_DRAW_INTERVAL

    def _step(self) -> None:
        self.last_step_at = time.perf_counter()
        self.pending_steps = max(0, self.pending_steps - 1)
        trainer = self.trainer
        display = self._display_due() or trainer.state.step + 1 >= trainer.settings.steps
        self._accept(trainer, trainer.step(display=display))
        if display:
            self._flush(force=True)

    def _accept(self, trainer, report: p.StepReport | p.Divergence) -> None:
        if isinstance(report, p.Divergence):
            self._halt()
            self.fast_forwarding = False
            self._flush(force=True)
            self.conn.send(report)
            return
        self.step_logs.setdefault(trainer, {})[report.step] = step_record(
            report, trainer.state.seconds
        )
        if self.unsent is not None and self.unsent.stage != report.stage:
            self._flush(force=True)
        self.unsent = report
        self.unsent_losses.extend(report.losses)
        self.unsent_val.extend(report.val_losses)
        self.unsent_series.extend(report.series)
        if trainer.done and trainer is self.trainer:
            self._halt()
        if report.alarm:
            # RL collapsing: stop here, so the screen shows the step that raised it.
            self._halt()
            self._flush(force=True)
        if report.val_loss is not None and parent_of(trainer.stage):  # a later stage's tab
            self._flush(force=True)
            self._evals(trainer)

    def _step_phase(self) -> None:
        self.last_step_at = time.perf_counter()
        trainer = self.trainer
        result = trainer.step_phase()
        if isinstance(result, p.LoopFigures):
            self.conn.send(result)
        else:
            self._accept(trainer, result)
            self._flush(force=True)

    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.unsent is None or (not force and now - self.last_sent_at < p.REPORT_INTERVAL):
            return
        report = replace(
            self.unsent,
            losses=tuple(self.unsent_losses),
            val_losses=tuple(self.unsent_val),
            series=tuple(self.unsent_series),
        )
        self.conn.send(report)
        self._drop_unsent()
        self.last_sent_at = now

    def _drop_unsent(self) -> None:
        self.unsent = None
        self.unsent_losses.clear()
        self.unsent_val.clear()
        self.unsent_series.clear()

    # --- saving and resetting ---------------------------------------------------------------

    def _save(self, path: str | None) -> None:
        from model.checkpoint import CheckpointError, save_checkpoint

        trainer = self.trainer
        target = path or os.path.join(self.options.save_dir, f"{trainer.stage}-checkpoint")
        try:
            saved = save_checkpoint(trainer, target)
        except CheckpointError as e:
            self.conn.send(p.EngineError(str(e)))
            return
        self.conn.send(p.Saved(str(saved), trainer.state.step, trainer.stage))

    def _reset(self) -> None:
        self._halt()
        self.fast_forwarding = False
        self._drop_unsent()
        if self.active != FIRST:
            # Back to the hand-off: the stage starts again from a base model of your choice.
            self.runs.pop(self.active, None)
            self.conn.send(p.StageCleared(self.active))
            self._send_base()
            return
        self.runs[FIRST] = self._first_run()
        self._announce(self.runs[FIRST])
        self._send_base()

    def _first_run(self):
        """A new run of tab 1's stage, from scratch, with the seed asked for."""
        from model.pipeline import new_trainer, stage_settings

        o = self.options
        settings = stage_settings(self.scenario, FIRST, seed=o.seed)
        return new_trainer(self.scenario, FIRST, settings=settings, threads=o.threads)
