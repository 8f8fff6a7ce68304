"""`trainterm bench`: training speed and model FLOPs utilisation, against a peak measured now."""

from __future__ import annotations

import statistics
import time

from model.cli import CliError, load_source


def matmul_peak_flops(threads: int, size: int = 384, repeats: int = 7) -> float:
    """Median FLOP/s of a square fp32 matmul, measured in this run: the machine's own ceiling."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(10):
            a @ b
        rates.append(10 * 2 * size**3 / (time.perf_counter() - started))
    return statistics.median(rates)


def flops_per_token(trainer) -> float:
    """Forward + backward FLOPs per token, as in the PaLM paper's estimate (nanoGPT's MFU)."""
    c = trainer.config
    n = trainer.model.num_params()
    return 6 * n + 12 * c.n_layer * c.d_model * c.context


def run_bench(args) -> int:
    from model.build import build_trainer, model_config, stage_settings
    from model.protocol import Divergence
    from model.tokenizer import TokenizerError
    from model.trainer import CorpusTooSmall

    scenario = load_source(args)
    threads = args.threads or 1
    settings = stage_settings(scenario, "pretrain", seed=args.seed, threads=threads)
    try:
        trainer = build_trainer(scenario.corpus, model_config(scenario), settings, scenario.name)
    except (TokenizerError, CorpusTooSmall) as e:
        raise CliError(str(e)) from None
    warmup = 5
    times = []
    training_seconds = 0.0
    first_loss = last_loss = None
    for i in range(warmup + args.steps):
        started = time.perf_counter()
        report = trainer.step()
        elapsed = time.perf_counter() - started
        training_seconds += elapsed
        if isinstance(report, Divergence):
            raise CliError(report.message)
        first_loss = report.loss if first_loss is None else first_loss
        last_loss = report.loss
        if i >= warmup:
            times.append(elapsed)
    peak = matmul_peak_flops(threads)
    step_s = statistics.median(times)
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
        f"tokenizer     {len(text.encode()) / 1000:.0f} KB → {vocab} tokens in "
        f"{statistics.median(times):.2f} s (median of {runs})"
    )


def _time_to_loss(trainer, target: float, max_seconds: float, spent: float) -> None:
    """Wall-clock training time until the recent mean loss drops below `target`."""
    from model.protocol import Divergence

    recent = [loss for _, loss in trainer.state.losses[-20:]]
    seconds = spent
    while sum(recent) / len(recent) >= target and seconds < max_seconds:
        started = time.perf_counter()
        report = trainer.step()
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
