"""One training run: model, optimizer, schedule and data order, stepped one batch at a time."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from model.gpt import GPT, GPTConfig
from model.objectives import next_token_loss, token_losses
from model.protocol import Alternative, Divergence, LayerStat, Position, StepReport
from model.settings import TrainSettings
from model.tokenizer import Tokenizer

TOP_K = 5


class CorpusTooSmall(ValueError):
    pass


def lr_at(step: int, settings: TrainSettings) -> float:
    """Linear warmup to the peak, then cosine decay to min_lr_ratio of it.

    A short run (a quick `--steps 30`) would spend all of itself warming up, so warmup is
    capped at a fifth of the run.
    """
    peak = settings.lr
    warmup = min(settings.warmup_steps, settings.steps // 5)
    if warmup and step < warmup:
        return peak * (step + 1) / warmup
    span = max(1, settings.steps - warmup)
    progress = min(1.0, (step - warmup) / span)
    floor = peak * settings.min_lr_ratio
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))


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

    def sample_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        T, B = self.config.context, self.settings.batch_size
        starts = torch.randint(len(self.train_tokens) - T, (B,), generator=self.data_rng)
        offsets = starts[:, None] + torch.arange(T + 1)
        window = self.train_tokens[offsets]  # (B, T+1)
        return window[:, :-1], window[:, 1:]

    def step(self) -> StepReport | Divergence:
        """One AdamW step. Never raises for a bad loss: a non-finite one ends stepping."""
        if self.divergence is not None:
            return self.divergence
        started = time.perf_counter()
        x, y = self.sample_batch()
        lr = lr_at(self.state.step, self.settings)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        logits = self.model(x)
        loss = next_token_loss(logits, y)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            return self._diverge(loss_value)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norms = [_norm(p.grad for p in params) for _, params in self._groups]
        clip = self.settings.grad_clip or math.inf
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        if not math.isfinite(grad_norm):
            return self._diverge(grad_norm)
        before = [[p.detach().clone() for p in params] for _, params in self._groups]
        self.optimizer.step()
        if not self.weights_finite():
            self._restore(before)
            return self._diverge(float("nan"))
        layers = self._layer_stats(before, grad_norms)
        seconds = time.perf_counter() - started
        step_tokens = x.numel()
        self.state.step += 1
        self.state.tokens_seen += step_tokens
        self.state.losses.append((self.state.step, loss_value))
        val_loss = None
        if self.settings.eval_every and self.state.step % self.settings.eval_every == 0:
            val_loss = self.evaluate()
            self.state.val_losses.append((self.state.step, val_loss))
        return StepReport(
            stage=self.stage,
            step=self.state.step,
            total_steps=self.settings.steps,
            loss=loss_value,
            lr=lr,
            grad_norm=grad_norm,
            tokens_per_s=step_tokens / seconds if seconds > 0 else 0.0,
            tokens_seen=self.state.tokens_seen,
            step_seconds=seconds,
            layers=layers,
            row=self._display_row(x[0], y[0], logits[0].detach()),
            val_loss=val_loss,
            losses=((self.state.step, loss_value),),
            val_losses=((self.state.step, val_loss),) if val_loss is not None else (),
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

    def _restore(self, before: list[list[torch.Tensor]]) -> None:
        with torch.no_grad():
            for (_, params), saved in zip(self._groups, before, strict=True):
                for p, s in zip(params, saved, strict=True):
                    p.copy_(s)

    def _layer_stats(self, before, grad_norms) -> tuple[LayerStat, ...]:
        stats = []
        with torch.no_grad():
            for (name, params), old, g in zip(self._groups, before, grad_norms, strict=True):
                weight = _norm(params)
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
