"""`trainterm bench`: training speed and model FLOPs utilisation, against a peak measured now."""

from __future__ import annotations

import statistics
import time

from model.cli.common import CliError, load_source
from model.flops import per_token
from model.flops_peak import matmul_peak_flops
from model.settings import DEFAULT_THREADS


def flops_per_token(trainer) -> float:
    """Forward + backward FLOPs per token, as the screen counts them (model.flops)."""
    c = trainer.config
    return per_token(trainer.model.num_params(), c.n_layer, c.d_model, c.context)


def plain_step_fn(trainer):
    """A bare forward + backward + clip + optimizer step (the run's: AdamW, or Muon + AdamW)
    of a copy of the trainer's model on its batches: the baseline the project's step is
    measured against."""
    import copy

    import torch
    import torch.nn.functional as F

    from model.optim import make_optimizer

    model = copy.deepcopy(trainer.model)
    optimizer = make_optimizer(model, trainer.settings)
    rng = torch.Generator().manual_seed(0)
    data = trainer.data

    def step() -> None:
        batch = data.gather(data.sample(rng, trainer.settings.batch_size))
        logits = model(batch.x)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.y.flatten(), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), trainer.settings.grad_clip)
        optimizer.step()

    return step


def run_bench(args) -> int:
    from model.pipeline import PipelineError, new_trainer, stage_settings
    from model.protocol import Divergence

    scenario = load_source(args)
    threads = args.threads or DEFAULT_THREADS
    if args.optimizers:
        from model.cli.bench_optimizers import run_optimizer_bench

        return run_optimizer_bench(args, scenario, threads)
    settings = stage_settings(scenario, "pretrain", seed=args.seed)
    try:
        trainer = new_trainer(scenario, "pretrain", settings=settings, threads=threads)
    except PipelineError as e:
        raise CliError(str(e)) from None
    plain = plain_step_fn(trainer)
    warmup = 5
    times, plain_times, display_times = [], [], []
    training_seconds = 0.0
    first_loss = last_loss = None
    for i in range(warmup + args.steps):
        # Interleaved, so both see the same machine: a shared server's noise hits both alike.
        started = time.perf_counter()
        report = trainer.step(display=False)
        elapsed = time.perf_counter() - started
        training_seconds += elapsed
        if isinstance(report, Divergence):
            raise CliError(report.message)
        started = time.perf_counter()
        plain()
        plain_elapsed = time.perf_counter() - started
        first_loss = report.loss if first_loss is None else first_loss
        last_loss = report.loss
        if i >= warmup:
            times.append(elapsed)
            plain_times.append(plain_elapsed)
            if i % 5 == 0:
                started = time.perf_counter()
                trainer.step(display=True)
                display_times.append(time.perf_counter() - started)
    peak = matmul_peak_flops(threads)
    step_s = statistics.median(times)
    plain_s = statistics.median(plain_times)
    tokens = settings.batch_size * trainer.config.context
    achieved = flops_per_token(trainer) * tokens / step_s
    c = trainer.config
    print(f"scenario      {scenario.name}")
    print(
        f"model         {trainer.model.num_params():,} params · d {c.d_model} · "
        f"{c.n_layer} layers · {c.n_head} heads · context {c.context} · vocab {c.vocab_size}"
    )
    print(f"batch         {settings.batch_size} × {c.context} tokens · {threads} thread(s)")
    print(f"steps/s       {1 / step_s:.2f}  (median of {len(times)} steps after {warmup} warmup)")
    print(f"tokens/s      {tokens / step_s:,.0f}")
    print(
        f"vs plain step {plain_s / step_s:.3f}×  (a bare forward + backward + optimizer step of "
        f"the same model: {tokens / plain_s:,.0f} tokens/s, interleaved in this run)"
    )
    if display_times:
        print(
            f"display step  {statistics.median(display_times) / step_s:.2f}× a headless step's "
            "time (paid only for the ≤ 10 steps a second the screen shows)"
        )
    print(f"matmul peak   {peak / 1e9:.1f} GFLOP/s (fp32, measured now)")
    print(f"MFU           {100 * achieved / peak:.1f} %  ({achieved / 1e9:.2f} GFLOP/s)")
    print(f"loss          {first_loss:.3f} → {last_loss:.3f} over {warmup + args.steps} steps")
    if args.tokenizer_kb:
        _time_tokenizer(args.tokenizer_kb)
    if args.until_loss:
        _time_to_loss(trainer, args.until_loss, args.max_seconds, training_seconds)
    return 0


def _time_tokenizer(kb: int, vocab: int = 1024, runs: int = 3) -> None:
    """BPE training time on a corpus the project's own generator makes at the asked size."""
    from model.tokenizer import train_bpe
    from scenarios.world_gen import generate_world

    text = generate_world(corpus_kb=kb)["corpus.txt"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        train_bpe(text, vocab)
        times.append(time.perf_counter() - started)
    print(
        f"tokenizer     {len(text.encode()) / 1024:.0f} KB → {vocab} tokens in "
        f"{statistics.median(times):.2f} s (median of {runs})"
    )


def _time_to_loss(trainer, target: float, max_seconds: float, spent: float) -> None:
    """Wall-clock training time until the recent mean loss drops below `target`."""
    from model.protocol import Divergence

    recent = [loss for _, loss in trainer.state.losses[-20:]]
    seconds = spent
    while sum(recent) / len(recent) >= target and seconds < max_seconds:
        started = time.perf_counter()
        report = trainer.step(display=False)
        seconds += time.perf_counter() - started
        if isinstance(report, Divergence) or trainer.done:
            break
        recent = (recent + [report.loss])[-20:]
    mean = sum(recent) / len(recent)
    verdict = "reached" if mean < target else "NOT reached"
    print(
        f"loss < {target:g}   {verdict} after {seconds:.1f} s of training, "
        f"step {trainer.state.step} (mean of last 20: {mean:.3f})"
    )
