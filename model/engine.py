"""The trainer process: it owns the model, obeys commands, and sends coalesced reports.

This module is light at import time (torch loads inside the child), so the UI process can
import it to start the engine without pulling in torch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

from model import protocol as p

# The screen redraws at most ~10 times a second; a faster stream of reports is wasted work.
REPORT_INTERVAL = 0.1
# At this many steps per second or fewer, playing sends every phase of every step.
ANIMATE_AT_OR_BELOW = 2.0


@dataclass(frozen=True)
class EngineOptions:
    scenario: str | None = None
    corpus: str | None = None
    threads: int = 1
    seed: int | None = None
    save_dir: str = "runs/app"
    resume: str | None = None


class EngineHandle:
    """The UI side of the engine: a process and the two ends of one pipe."""

    def __init__(self, options: EngineOptions) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child_conn = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=engine_main, args=(child_conn, options), name="trainterm-engine", daemon=True
        )
        self.process.start()
        child_conn.close()

    def send(self, command) -> None:
        # A dead engine is noticed by the reader (EOF), not here.
        with contextlib.suppress(OSError):
            self.conn.send(command)

    def stop(self, timeout: float = 0.5) -> None:
        # A trainer that is still starting (importing torch, training its tokenizer) does
        # not read the pipe yet: after a short wait it is terminated; it holds nothing unsaved.
        self.send(p.Shutdown())
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        self.conn.close()


def engine_main(conn: Connection, options: EngineOptions) -> None:
    # The terminal's ctrl+c and hangup belong to the UI; it ends us through the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        Engine(conn, options).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    except Exception as e:  # noqa: BLE001 — the screen must hear why the trainer died
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        with contextlib.suppress(OSError):
            conn.send(p.EngineError(f"the trainer crashed: {reason}", fatal=True))
        os._exit(1)


def ready_message(trainer, stage_data: tuple[tuple[str, str], ...] = ()) -> p.EngineReady:
    """What the screen needs to know about a trainer before its first step."""
    c = trainer.config
    group = trainer.optimizer.param_groups[0]
    beta1, beta2 = group["betas"]
    return p.EngineReady(
        scenario=trainer.scenario,
        stage=trainer.stage,
        params=trainer.model.num_params(),
        vocab_size=c.vocab_size,
        corpus_tokens=trainer.corpus_tokens,
        context=c.context,
        batch_size=trainer.settings.batch_size,
        n_layer=c.n_layer,
        d_model=c.d_model,
        optimizer=f"AdamW β=({beta1}, {beta2}) wd {trainer.settings.weight_decay}",
        total_steps=trainer.settings.steps,
        step=trainer.state.step,
        threads=trainer.settings.threads,
        settings=trainer.settings,
        stage_data=stage_data,
    )


def stage_data(scenario) -> tuple[tuple[str, str], ...]:
    """What the scenario brings for the stages after pretraining, in a sentence each."""
    held = {
        "sft": f"{len(scenario.sft_examples):,} prompt → answer conversations",
        "preference": f"{len(scenario.preference_pairs):,} chosen / rejected answer pairs",
    }
    return tuple(
        (stage, f"{held[stage]} are ready for it." if scenario.has_stage(stage) else
         scenario.missing_for(stage))
        for stage in ("sft", "preference")
    )  # fmt: skip


class Engine:
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
        self.trainer = None
        self.scenario = None

    def run(self) -> None:
        if not self._build():
            return
        while True:
            busy = self.playing or self.pending_steps > 0
            wait = self._wait_time() if busy else REPORT_INTERVAL if self.unsent else None
            if self.conn.poll(wait):
                if not self._handle(self.conn.recv()):
                    return
                continue
            if busy and self._wait_time() == 0:
                if self._animated:
                    self._step_phase()
                else:
                    self._step()
            self._flush(force=not (self.playing or self.pending_steps))

    def _build(self) -> bool:
        from model.build import build_trainer, model_config, stage_settings
        from model.checkpoint import CheckpointError, load_checkpoint
        from model.tokenizer import TokenizerError
        from model.trainer import CorpusTooSmall
        from scenarios import ScenarioError, corpus_scenario, default_scenario, load_scenario

        o = self.options
        try:
            if o.corpus:
                self.scenario = corpus_scenario(o.corpus)
            elif o.scenario:
                self.scenario = load_scenario(o.scenario)
            else:
                self.scenario = default_scenario()
            if o.resume:
                self.trainer = load_checkpoint(o.resume, self.scenario.corpus, o.threads)
            else:
                settings = stage_settings(self.scenario, seed=o.seed, threads=o.threads)
                self.trainer = build_trainer(
                    self.scenario.corpus, model_config(self.scenario), settings, self.scenario.name
                )
        except (ScenarioError, CheckpointError, TokenizerError, CorpusTooSmall, ValueError) as e:
            self.conn.send(p.EngineError(str(e), fatal=True))
            return False
        self._announce()
        return True

    def _announce(self) -> None:
        t = self.trainer
        self.conn.send(ready_message(t, stage_data(self.scenario)))
        if t.state.losses:
            self.conn.send(p.LossHistory(tuple(t.state.losses)))

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
        match command:
            case p.Play():
                self.playing = not self.trainer.done
            case p.Pause():
                self.playing = False
                self.pending_steps = 0
            case p.Step(count=count):
                self.playing = False
                self.pending_steps += max(0, count)
            case p.SetSpeed(steps_per_second=cap):
                self.speed_cap = cap
            case p.StepPhase():
                self.playing = False
                self.pending_steps = 0
                self._step_phase()
            case p.Sample(prompt=prompt, max_new_tokens=n):
                t = self.trainer
                self.conn.send(p.SampleText(t.stage, t.state.step, prompt, t.sample(prompt, n)))
            case p.Save(path=path):
                self._save(path)
            case p.Reset():
                self._reset()
            case p.Shutdown():
                return False
        return True

    def _step(self) -> None:
        self.last_step_at = time.perf_counter()
        self.pending_steps = max(0, self.pending_steps - 1)
        self._accept(self.trainer.step())

    def _accept(self, report: p.StepReport | p.Divergence) -> None:
        if isinstance(report, p.Divergence):
            self.playing = False
            self.pending_steps = 0
            self._flush(force=True)
            self.conn.send(report)
            return
        self.unsent = report
        self.unsent_losses.extend(report.losses)
        self.unsent_val.extend(report.val_losses)
        if self.trainer.done:
            self.playing = False
            self.pending_steps = 0

    def _step_phase(self) -> None:
        self.last_step_at = time.perf_counter()
        result = self.trainer.step_phase()
        if isinstance(result, p.LoopFigures):
            self.conn.send(result)
        else:
            self._accept(result)
            self._flush(force=True)

    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.unsent is None or (not force and now - self.last_sent_at < REPORT_INTERVAL):
            return
        report = replace(
            self.unsent, losses=tuple(self.unsent_losses), val_losses=tuple(self.unsent_val)
        )
        self.conn.send(report)
        self.unsent = None
        self.unsent_losses.clear()
        self.unsent_val.clear()
        self.last_sent_at = now

    def _save(self, path: str | None) -> None:
        from model.checkpoint import CheckpointError, save_checkpoint

        target = path or os.path.join(self.options.save_dir, f"{self.trainer.stage}-checkpoint")
        try:
            saved = save_checkpoint(self.trainer, target)
        except CheckpointError as e:
            self.conn.send(p.EngineError(str(e)))
            return
        self.conn.send(p.Saved(str(saved), self.trainer.state.step))

    def _reset(self) -> None:
        self.playing = False
        self.pending_steps = 0
        self.unsent = None
        self.unsent_losses.clear()
        self.unsent_val.clear()
        self.options = replace(self.options, resume=None)
        self._build()
