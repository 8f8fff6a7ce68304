"""The one training loop every stage shares: schedule, clipping, divergence, phases, reports.

A stage plug-in (model/stages/) supplies the batches and the objective; this loop does the
rest. Display figures (the per-position predictions, the loop diagram's numbers, the weight
statistics) cost a second forward pass and a copy of the weights, so they are computed only
for the steps the screen will show: ``step(display=False)`` costs what a plain step costs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import torch

from model.gpt import GPT, GPTConfig
from model.loop_figures import attention_and_embeddings, row_words, top_changes, weight_patches
from model.objectives import token_losses
from model.optim import make_optimizer
from model.protocol import (
    APP_SAMPLER,
    PHASES,
    Alternative,
    Divergence,
    LayerStat,
    LoopFigures,
    Position,
    Sampler,
    SampleText,
    StepReport,
)
from model.settings import DEFAULT_THREADS, TrainSettings, lr_at
from model.stages import is_chat
from model.stages.base import Batch, Stage
from model.tokenizer import Tokenizer

TOP_K = 5


@dataclass
class StepWork:
    """A step in flight: what each phase left for the next one."""

    figures: LoopFigures
    display: bool = True
    done: int = 0
    seconds: float = 0.0
    picks: tuple[int, ...] = ()
    batch: Batch | None = None
    logits: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    grad_norm: float = 0.0
    grad_norms: list[float] = field(default_factory=list)
    layers: tuple[LayerStat, ...] = ()
    extra: dict = field(default_factory=dict)


@dataclass
class RunState:
    """What a checkpoint must carry besides weights and optimizer to resume exactly."""

    step: int = 0
    tokens_seen: int = 0
    # Seconds spent in steps and their held-out evals: the run's wall time, less any pause
    # between steps (the app's), so the report card compares stages, not how long a person
    # watched.
    seconds: float = 0.0
    losses: list[tuple[int, float]] = field(default_factory=list)
    val_losses: list[tuple[int, float]] = field(default_factory=list)
    # Other held-out series a stage measures ("pretrain val" during fine-tuning), by name.
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


class Trainer:
    """One run of one stage: its model, optimizer, schedule and data order."""

    def __init__(
        self,
        stage: Stage,
        tokenizer: Tokenizer,
        config: GPTConfig,
        settings: TrainSettings,
        scenario: str = "built-in",
        *,
        model: GPT | None = None,
        threads: int = DEFAULT_THREADS,
        parent: dict | None = None,
    ) -> None:
        torch.set_num_threads(threads)
        self.data = stage
        self.tokenizer = tokenizer
        self.config = config
        self.settings = settings
        self.scenario = scenario
        self.threads = threads
        # Where the starting weights came from (a later stage's base model), for the record.
        self.parent = parent
        # Set when the run is the scenario's default recipe, finished: its stage-cache key.
        self.cache_key = ""
        torch.manual_seed(settings.seed)
        if model is None:
            model = GPT(config)
        self.model = model
        self.model.train()
        self.optimizer = make_optimizer(self.model, settings)
        # Data order has its own generator so sampling text or evaluating never shifts it.
        self.data_rng = torch.Generator().manual_seed(settings.seed)
        self.state = RunState()
        self.divergence: Divergence | None = None
        self._texts = [tokenizer.token_text(i) for i in range(tokenizer.n_vocab)]
        self._groups = self._layer_groups()
        self._param_names = {id(p): n for n, p in self.model.named_parameters()}
        self._work: StepWork | None = None

    @property
    def stage(self) -> str:
        return self.data.name

    @property
    def corpus_tokens(self) -> int:
        return self.data.data_tokens

    @property
    def done(self) -> bool:
        return self.state.step >= self.settings.steps

    def _layer_groups(self) -> list[tuple[str, list[torch.nn.Parameter]]]:
        m = self.model
        groups = [("Embed", [m.tok_emb.weight, m.pos_emb.weight])]
        groups += [(f"Block {i + 1}", list(b.parameters())) for i, b in enumerate(m.blocks)]
        # The output head is tied to the embedding; what is left of "Logits" is the final norm.
        groups.append(("Logits", list(m.ln_f.parameters())))
        return groups

    @property
    def next_phase(self) -> str:
        return PHASES[self._work.done] if self._work else PHASES[0]

    def step(self, display: bool = True) -> StepReport | Divergence:
        """One optimizer step (or the rest of one begun phase by phase).

        ``display=False`` skips every figure only the screen needs: the report then carries
        the numbers (loss, learning rate, grad norm) but no batch row, figures or layer stats.
        Never raises for a bad loss: a non-finite one ends stepping and is reported.
        """
        while True:
            result = self.step_phase(display)
            if not isinstance(result, LoopFigures):
                return result

    def step_phase(self, display: bool = True) -> LoopFigures | StepReport | Divergence:
        """Compute the next phase of the current step; the last one returns the StepReport."""
        if self.divergence is not None:
            return self.divergence
        if self._work is None:
            figures = LoopFigures(step=self.state.step + 1, phase="")
            self._work = StepWork(figures=figures, display=display)
        work = self._work
        phase = PHASES[work.done]
        started = time.perf_counter()
        outcome = getattr(self, f"_phase_{phase}")(work)
        work.seconds += time.perf_counter() - started
        work.done += 1
        if isinstance(outcome, Divergence):
            self._work = None
            return outcome
        if work.display:
            work.figures = replace(work.figures, phase=phase, **outcome)
        if work.done < len(PHASES):
            return work.figures
        self._work = None
        return self._finish(work)

    def _phase_sample(self, work: StepWork) -> dict:
        work.picks = self.data.sample(self.data_rng, self.settings.batch_size)
        # The data was encoded once, up front (as real pipelines pre-tokenize it): drawing
        # the batch is looking its ids up; the tokenize phase shows them.
        work.batch = self.data.gather(work.picks)
        return {
            "corpus_tokens": self.corpus_tokens,
            "starts": work.picks,
            "batch_shape": tuple(work.batch.x.shape),
        }

    def _phase_tokenize(self, work: StepWork) -> dict:
        if not work.display:
            return {}
        ids = work.batch.x[0, : work.batch.row_length].tolist()
        return {
            "row_ids": tuple(ids),
            "row_texts": tuple(self._texts[i] for i in ids),
            "words": row_words(self.tokenizer, ids),
        }

    def _phase_forward(self, work: StepWork) -> dict:
        work.logits = self.model(work.batch.x)  # (B, T, vocab)
        if not work.display:
            return {}
        n = work.batch.row_length
        attention, shares, embeddings = attention_and_embeddings(self.model, work.batch.x[0, :n])
        self.model.train()
        row = self._display_row(work.batch, work.logits[0, :n].detach())
        work.extra = self.data.display(self.model, work.batch, work.logits)
        return {
            "head_attention": attention,
            "head_shares": shares,
            "embeddings": embeddings,
            "row": row,
        }

    def _phase_loss(self, work: StepWork) -> dict | Divergence:
        work.loss = self.data.loss(work.logits, work.batch)
        value = work.loss.item()
        if not math.isfinite(value):
            return self._diverge(value)
        return {"loss": value}

    def _phase_backward(self, work: StepWork) -> dict | Divergence:
        self.optimizer.zero_grad(set_to_none=True)
        work.loss.backward()
        if work.display:
            work.grad_norms = [_norm(p.grad for p in params) for _, params in self._groups]
        clip = self.settings.grad_clip or math.inf
        work.grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        if not math.isfinite(work.grad_norm):
            return self._diverge(work.grad_norm)
        if not work.display:
            return {}
        names = [name for name, _ in self._groups]
        return {
            "grad_norm": work.grad_norm,
            "grad_norms": tuple(zip(names, work.grad_norms, strict=True)),
        }

    def _phase_update(self, work: StepWork) -> dict | Divergence:
        lr = lr_at(self.state.step, self.settings)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        work.figures = replace(work.figures, lr=lr)
        if not work.display:
            # A finite, clipped gradient gives a finite update: no copy to fall back on
            # is needed, and none is paid for.
            self.optimizer.step()
            return {}
        before = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.optimizer.step()
        if not self.weights_finite():
            self._restore(before)
            return self._diverge(float("nan"))
        work.layers = self._layer_stats(before, work.grad_norms)
        return {
            "lr": lr,
            "top_changes": top_changes(self.model, before),
            "patches": weight_patches(self.model, before),
        }

    def _finish(self, work: StepWork) -> StepReport:
        step_tokens = work.batch.x.numel()
        loss = work.loss.item()
        self.state.step += 1
        self.state.tokens_seen += step_tokens
        self.state.seconds += work.seconds
        self.state.losses.append((self.state.step, loss))
        val_loss = None
        series: tuple[tuple[str, int, float], ...] = ()
        if self.settings.eval_every and self.state.step % self.settings.eval_every == 0:
            started = time.perf_counter()
            measured = self.evaluate_all()
            self.state.seconds += time.perf_counter() - started
            val_loss = measured.pop("val")
            self.state.val_losses.append((self.state.step, val_loss))
            for name, value in measured.items():
                self.state.series.setdefault(name, []).append((self.state.step, value))
            series = tuple((name, self.state.step, v) for name, v in measured.items())
        return StepReport(
            stage=self.stage,
            step=self.state.step,
            total_steps=self.settings.steps,
            loss=loss,
            lr=work.figures.lr if work.figures.lr is not None else 0.0,
            grad_norm=work.grad_norm,
            tokens_per_s=step_tokens / work.seconds if work.seconds > 0 else 0.0,
            tokens_seen=self.state.tokens_seen,
            step_seconds=work.seconds,
            layers=work.layers,
            row=work.figures.row,
            val_loss=val_loss,
            losses=((self.state.step, loss),),
            val_losses=((self.state.step, val_loss),) if val_loss is not None else (),
            series=series,
            figures=work.figures if work.display else None,
            metrics=tuple(self.data.metrics().items()),
            alarm=self.data.alarm(),
            **work.extra,
        )

    @torch.no_grad()
    def weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    def _diverge(self, value: float) -> Divergence:
        self.divergence = Divergence(
            stage=self.stage,
            step=self.state.step + 1,
            value=value,
            message=(
                f"training diverged at step {self.state.step + 1}: the loss became {value} "
                f"(learning rate {lr_at(self.state.step, self.settings):.3g} is too high?); "
                "stepping stopped"
            ),
        )
        return self.divergence

    def _restore(self, before: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.copy_(before[name])

    def _layer_stats(self, before: dict[str, torch.Tensor], grad_norms) -> tuple[LayerStat, ...]:
        stats = []
        with torch.no_grad():
            for (name, params), g in zip(self._groups, grad_norms, strict=True):
                weight = _norm(params)
                old = [before[self._param_names[id(p)]] for p in params]
                delta = _norm(p - o for p, o in zip(params, old, strict=True))
                stats.append(LayerStat(name, g, delta / (weight + 1e-12), weight))
        return tuple(stats)

    def _display_row(self, batch: Batch, logits: torch.Tensor):
        n = batch.row_length
        x, targets, trained = batch.x[0, :n], batch.targets[0, :n], batch.trained[0, :n]
        probs = logits.float().softmax(dim=-1)  # (T, vocab)
        # The loss at every position, counted or not: the prediction pane explains any.
        losses = token_losses(logits[None], targets[None])[0]
        top_p, top_i = probs.topk(TOP_K, dim=-1)
        target_p = probs.gather(1, targets[:, None])[:, 0]
        texts = self._texts
        xs, ys = x.tolist(), targets.tolist()
        tp, ti, tgt, ls = top_p.tolist(), top_i.tolist(), target_p.tolist(), losses.tolist()
        counts = trained.tolist()
        return tuple(
            Position(
                token_id=xs[t],
                text=texts[xs[t]],
                target_id=ys[t],
                target_text=texts[ys[t]],
                target_prob=tgt[t],
                loss=ls[t],
                counts_in_loss=counts[t],
                top=tuple(Alternative(i, texts[i], p) for i, p in zip(ti[t], tp[t], strict=True)),
            )
            for t in range(len(xs))
        )

    def evaluate_all(self) -> dict[str, float]:
        """Every held-out loss the stage measures: "val" and, for fine-tuning, "pretrain val"."""
        measured = self.data.evaluate(self.model, self.settings)
        self.model.train()
        return measured

    def evaluate(self) -> float:
        """Mean loss on the stage's held-out data: the same examples every time."""
        return self.evaluate_all()["val"]

    def sample(self, prompt: str = "", max_new_tokens: int = 60, seed: int | None = None) -> str:
        """What the model says now: a continuation (base model) or an answer (later stages)."""
        sampler = replace(APP_SAMPLER, seed=self.state.step if seed is None else seed)
        return self.sample_message(prompt, max_new_tokens, sampler).text

    def sample_message(
        self, prompt: str, max_new_tokens: int, sampler: Sampler | None = None
    ) -> SampleText:
        """A sample for the screen, with why each token was drawn. Without a sampler, the
        app's default seeded by the step: each step, a new sample."""
        from model.generate import sample_one

        if sampler is None:
            sampler = replace(APP_SAMPLER, seed=self.state.step)
        chat = is_chat(self.stage)
        out = sample_one(self.model, self.tokenizer, prompt, max_new_tokens, sampler, chat=chat)
        self.model.train()
        text = self.tokenizer.decode(out.ids)
        return SampleText(self.stage, self.state.step, prompt, text, sampler, out.choices)


def _norm(tensors) -> float:
    total = 0.0
    for t in tensors:
        if t is not None:
            total += float(t.detach().float().pow(2).sum())
    return math.sqrt(total)
