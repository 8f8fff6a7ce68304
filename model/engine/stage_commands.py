"""The engine's commands for the stages after pretraining: fast-forwarding pretraining,
starting a stage from its base model, its live evals, the report card and the exports.

A part of the Engine (model/engine/engine.py, a mixin): it uses the engine's run state and its
``_halt``, ``_flush``, ``_accept``, ``_announce`` and ``_send_base``.
"""

from __future__ import annotations

import time

from model import protocol as p
from model.engine.base_models import start_stage
from model.engine.tab_evals import live_evals, probe_table
from model.evals.live_report import live_card
from model.exports import ExportError, write_metrics
from model.stages import FIRST, answers, settings_section


class StageCommands:
    # --- later stages ---------------------------------------------------------------------

    def _begin_fast_forward(self) -> None:
        pretrain = self.runs.get(FIRST)
        if pretrain is None or pretrain.divergence is not None:
            self.conn.send(p.EngineError("stage 1 cannot be fast-forwarded: reset it first (r)"))
            return
        if self.active == FIRST:
            self._halt()
        self.fast_forwarding = True
        self._send_base()

    def _fast_forward_step(self) -> None:
        from model.pipeline import store_finished

        pretrain = self.runs[FIRST]
        if pretrain.done:
            self.fast_forwarding = False
            self._flush(force=True)
            store_finished(pretrain, self.scenario)
            self._send_base()
            return
        display = time.perf_counter() - self.last_sent_at >= p.REPORT_INTERVAL
        self._accept(pretrain, pretrain.step(display=display))
        if display:
            self._flush(force=True)

    def _start(self, stage: str, from_path: str, beta=None, method=None, lr=None) -> None:
        from model.pipeline import stage_settings

        if self.fast_forwarding:
            self.conn.send(p.EngineError("stage 1 is still fast-forwarding: wait or cancel it"))
            return
        self._halt()
        self._flush(force=True)
        try:
            # The tab's choices that the stage has settings for (RLHF has no method).
            kind = type(self.scenario.settings(settings_section(stage)))
            chosen = {"beta": beta, "method": method, "lr": lr}
            given = {k: v for k, v in chosen.items() if k in kind.__dataclass_fields__}
            settings = stage_settings(self.scenario, stage, **given)
            trainer = start_stage(self, stage, from_path, settings)
        except ValueError as e:
            self.conn.send(p.EngineError(str(e).splitlines()[0]))
            return
        self.runs[stage] = trainer
        self.active = stage
        self._announce(trainer)
        self._evals(trainer)  # the "before" column: the stage's model at step 0

    def _evals(self, trainer) -> None:
        self.conn.send(live_evals(self, trainer))
        if answers(trainer.stage):  # a reward model answers no probes: it scores answers
            self.conn.send(probe_table(self, trainer))

    # --- the report card and exports ------------------------------------------------------

    def _report_card(self) -> None:
        # The screen has every step trained so far before the card (which takes a while).
        self._flush(force=True)
        self.conn.send(live_card(self))

    def _export_metrics(self, trainer) -> None:
        log = self.step_logs.get(trainer, {})
        # A resumed run's steps before this session are in its state: loss and validation.
        val = dict(trainer.state.val_losses)
        records = [
            log.get(step)
            or {"step": step, "loss": loss, **({"val_loss": val[step]} if step in val else {})}
            for step, loss in trainer.state.losses
        ]
        stem = f"{trainer.stage}-metrics-step{trainer.state.step}"
        try:
            paths = write_metrics(records, self.options.save_dir, stem)
        except ExportError as e:
            self.conn.send(p.EngineError(str(e)))
            return
        self.conn.send(p.Exported(trainer.stage, trainer.state.step, tuple(map(str, paths))))
