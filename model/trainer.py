"""One training run: model, optimizer, schedule and data order, stepped one batch at a time."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import torch

from model.gpt import GPT, GPTConfig
from model.inspect import attention_and_embeddings, row_words, top_changes, weight_patches
from model.objectives import next_token_loss, token_losses
from model.protocol import (
    PHASES,
    Alternative,
    Divergence,
    LayerStat,
    LoopFigures,
    Position,
    StepReport,
)
from model.settings import TrainSettings, lr_at
from model.tokenizer import Tokenizer

TOP_K = 5


class CorpusTooSmall(ValueError):
    pass


def split_tokens(tokens: torch.Tensor, context: int, val_fraction: float):
    """Hold out the tail of the corpus for validation; fail plainly when it cannot fill a batch."""
    n_val = max(2, int(len(tokens) * val_fraction))
    needed = context + 1 + n_val
    if len(tokens) < needed:
        raise CorpusTooSmall(
            f"corpus is too small: {len(tokens)} tokens after tokenizing, one batch needs at "
            f"least {needed} (a context window of {context} + 1, plus {n_val} held out)"
        )
    return tokens[:-n_val], tokens[-n_val:]


@dataclass
class StepWork:
    """A step in flight: what each phase left for the next one."""

    figures: LoopFigures
    done: int = 0
    seconds: float = 0.0
    starts: torch.Tensor | None = None
    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    grad_norm: float = 0.0
    grad_norms: list[float] = field(default_factory=list)
    layers: tuple[LayerStat, ...] = ()


@dataclass
class RunState:
    """What a checkpoint must carry besides weights and optimizer to resume exactly."""

    step: int = 0
    tokens_seen: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)
    val_losses: list[tuple[int, float]] = field(default_factory=list)


class Trainer:
    """Pretraining: next-token prediction on random windows of the corpus."""

    stage = "pretrain"

    def __init__(
        self,
        tokens: list[int],
        tokenizer: Tokenizer,
        config: GPTConfig,
        settings: TrainSettings,
        scenario: str = "built-in",
    ) -> None:
        torch.set_num_threads(settings.threads)
        self.tokenizer = tokenizer
        self.config = config
        self.settings = settings
        self.scenario = scenario
        self.all_tokens = torch.tensor(tokens, dtype=torch.long)
        self.train_tokens, self.val_tokens = split_tokens(
            self.all_tokens, config.context, settings.val_fraction
        )
        torch.manual_seed(settings.seed)
        self.model = GPT(config)
        self.optimizer = self._make_optimizer()
        # Data order has its own generator so sampling text or evaluating never shifts it.
        self.data_rng = torch.Generator().manual_seed(settings.seed)
        self.state = RunState()
        self.divergence: Divergence | None = None
        self._texts = [tokenizer.token_text(i) for i in range(tokenizer.n_vocab)]
        self._groups = self._layer_groups()
        self._param_names = {id(p): n for n, p in self.model.named_parameters()}
        self._work: StepWork | None = None

    @property
    def corpus_tokens(self) -> int:
        return len(self.all_tokens)

    @property
    def done(self) -> bool:
        return self.state.step >= self.settings.steps

    def _make_optimizer(self) -> torch.optim.AdamW:
        # Norms, biases and embeddings are not decayed, as in nanoGPT.
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (decay if p.dim() >= 2 and "emb" not in name else no_decay).append(p)
        groups = [
            {"params": decay, "weight_decay": self.settings.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        # Fused AdamW on CPU cut the optimizer step 2.4-2.9x here (shared/DESIGN.md).
        return torch.optim.AdamW(groups, lr=self.settings.lr, betas=(0.9, 0.95), fused=True)

    def _layer_groups(self) -> list[tuple[str, list[torch.nn.Parameter]]]:
        m = self.model
        groups = [("Embed", [m.tok_emb.weight, m.pos_emb.weight])]
        groups += [(f"Block {i + 1}", list(b.parameters())) for i, b in enumerate(m.blocks)]
        # The output head is tied to the embedding; what is left of "Logits" is the final norm.
        groups.append(("Logits", list(m.ln_f.parameters())))
        return groups

    def _sample_starts(self) -> torch.Tensor:
        T, B = self.config.context, self.settings.batch_size
        return torch.randint(len(self.train_tokens) - T, (B,), generator=self.data_rng)

    def _gather(self, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        window = self.train_tokens[starts[:, None] + torch.arange(self.config.context + 1)]
        return window[:, :-1], window[:, 1:]  # (B, T) each

    @property
    def next_phase(self) -> str:
        return PHASES[self._work.done] if self._work else PHASES[0]

    def step(self) -> StepReport | Divergence:
        """One AdamW step (or the rest of one begun phase by phase).

        Never raises for a bad loss: a non-finite one ends stepping and is reported.
        """
        while True:
            result = self.step_phase()
            if not isinstance(result, LoopFigures):
                return result

    def step_phase(self) -> LoopFigures | StepReport | Divergence:
        """Compute the next phase of the current step; the last one returns the StepReport."""
        if self.divergence is not None:
            return self.divergence
        if self._work is None:
            self._work = StepWork(figures=LoopFigures(step=self.state.step + 1, phase=""))
        work = self._work
        phase = PHASES[work.done]
        started = time.perf_counter()
        outcome = getattr(self, f"_phase_{phase}")(work)
        work.seconds += time.perf_counter() - started
        work.done += 1
        if isinstance(outcome, Divergence):
            self._work = None
            return outcome
        work.figures = replace(work.figures, phase=phase, **outcome)
        if work.done < len(PHASES):
            return work.figures
        self._work = None
        return self._finish(work)

    def _phase_sample(self, work: StepWork) -> dict:
        work.starts = self._sample_starts()
        B, T = self.settings.batch_size, self.config.context
        return {
            "corpus_tokens": self.corpus_tokens,
            "batch_shape": (B, T),
            "starts": tuple(work.starts.tolist()),
        }

    def _phase_tokenize(self, work: StepWork) -> dict:
        # The corpus was encoded once, up front (as real pipelines pre-tokenize their data);
        # this phase looks the batch's ids up.
        work.x, work.y = self._gather(work.starts)
        ids = work.x[0].tolist()
        return {
            "row_ids": tuple(ids),
            "row_texts": tuple(self._texts[i] for i in ids),
            "words": row_words(self.tokenizer, ids),
        }

    def _phase_forward(self, work: StepWork) -> dict:
        self.model.train()
        work.logits = self.model(work.x)  # (B, T, vocab)
        attention, embeddings = attention_and_embeddings(self.model, work.x[0])
        self.model.train()
        row = self._display_row(work.x[0], work.y[0], work.logits[0].detach())
        return {"attention": attention, "embeddings": embeddings, "row": row}

    def _phase_loss(self, work: StepWork) -> dict | Divergence:
        work.loss = next_token_loss(work.logits, work.y)
        value = work.loss.item()
        if not math.isfinite(value):
            return self._diverge(value)
        return {"loss": value}

    def _phase_backward(self, work: StepWork) -> dict | Divergence:
        self.optimizer.zero_grad(set_to_none=True)
        work.loss.backward()
        work.grad_norms = [_norm(p.grad for p in params) for _, params in self._groups]
        clip = self.settings.grad_clip or math.inf
        work.grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        if not math.isfinite(work.grad_norm):
            return self._diverge(work.grad_norm)
        names = [name for name, _ in self._groups]
        return {
            "grad_norm": work.grad_norm,
            "grad_norms": tuple(zip(names, work.grad_norms, strict=True)),
        }

    def _phase_update(self, work: StepWork) -> dict | Divergence:
        lr = lr_at(self.state.step, self.settings)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
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
        step_tokens = work.x.numel()
        loss = work.figures.loss
        self.state.step += 1
        self.state.tokens_seen += step_tokens
        self.state.losses.append((self.state.step, loss))
        val_loss = None
        if self.settings.eval_every and self.state.step % self.settings.eval_every == 0:
            val_loss = self.evaluate()
            self.state.val_losses.append((self.state.step, val_loss))
        return StepReport(
            stage=self.stage,
            step=self.state.step,
            total_steps=self.settings.steps,
            loss=loss,
            lr=work.figures.lr,
            grad_norm=work.grad_norm,
            tokens_per_s=step_tokens / work.seconds if work.seconds > 0 else 0.0,
            tokens_seen=self.state.tokens_seen,
            step_seconds=work.seconds,
            layers=work.layers,
            row=work.figures.row,
            val_loss=val_loss,
            losses=((self.state.step, loss),),
            val_losses=((self.state.step, val_loss),) if val_loss is not None else (),
            figures=work.figures,
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
                "the last finite weights were kept"
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

    def _display_row(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor):
        probs = logits.float().softmax(dim=-1)  # (T, vocab)
        losses = token_losses(logits[None], y[None])[0]
        top_p, top_i = probs.topk(TOP_K, dim=-1)
        target_p = probs.gather(1, y[:, None])[:, 0]
        texts = self._texts
        xs, ys = x.tolist(), y.tolist()
        tp, ti, tgt, ls = top_p.tolist(), top_i.tolist(), target_p.tolist(), losses.tolist()
        return tuple(
            Position(
                token_id=xs[t],
                text=texts[xs[t]],
                target_id=ys[t],
                target_text=texts[ys[t]],
                target_prob=tgt[t],
                loss=ls[t],
                counts_in_loss=True,
                top=tuple(Alternative(i, texts[i], p) for i, p in zip(ti[t], tp[t], strict=True)),
            )
            for t in range(len(xs))
        )

    @torch.no_grad()
    def evaluate(self) -> float:
        """Mean loss on fixed windows of the held-out text: the same windows every time."""
        self.model.eval()
        T = min(self.config.context, len(self.val_tokens) - 1)
        n = self.settings.eval_batches * self.settings.batch_size
        starts = torch.linspace(0, len(self.val_tokens) - T - 1, n).long()
        window = self.val_tokens[starts[:, None] + torch.arange(T + 1)]
        total = 0.0
        for chunk in window.split(self.settings.batch_size):
            total += next_token_loss(self.model(chunk[:, :-1]), chunk[:, 1:]).item() * len(chunk)
        self.model.train()
        return total / n

    @torch.no_grad()
    def sample(self, prompt: str = "", max_new_tokens: int = 60, seed: int | None = None) -> str:
        ids = self.tokenizer.encode(prompt) if prompt else [self.tokenizer.eot_id]
        ids = ids[-self.config.context :]
        gen = torch.Generator().manual_seed(self.state.step if seed is None else seed)
        self.model.eval()
        out = self.model.generate(
            torch.tensor([ids]),
            max_new_tokens,
            stop_ids=(self.tokenizer.eot_id,),
            generator=gen,
        )
        self.model.train()
        new = [t for t in out[0, len(ids) :].tolist() if t != self.tokenizer.eot_id]
        return self.tokenizer.decode(new)


def _norm(tensors) -> float:
    total = 0.0
    for t in tensors:
        if t is not None:
            total += float(t.detach().float().pow(2).sum())
    return math.sqrt(total)
