"""`trainterm train`: a headless run with a progress bar, checkpoints and a metrics file."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from model.cli import DEFAULT_OUT, DIVERGED, CliError, append_jsonl, check_writable, load_source
from model.protocol import STAGES, Divergence

AVAILABLE_STAGES = ("pretrain",)


def _check_stage(stage: str) -> None:
    if stage in AVAILABLE_STAGES:
        return
    if stage in STAGES:
        raise CliError(f"stage {stage!r} cannot be trained headless yet: only pretrain can")
    raise CliError(f"unknown stage {stage!r} (choose one of: {', '.join(STAGES)})")


def _make_trainer(args, scenario):
    from model.build import build_trainer, model_config, stage_settings
    from model.checkpoint import CheckpointError, load_checkpoint
    from model.tokenizer import TokenizerError
    from model.trainer import CorpusTooSmall

    try:
        if args.resume:
            return load_checkpoint(args.resume, scenario.corpus, threads=args.threads)
        config = model_config(scenario)
        if args.vocab is not None:
            config = replace(config, vocab_size=args.vocab)
        settings = stage_settings(
            scenario,
            "pretrain",
            steps=args.steps,
            lr=args.lr,
            batch_size=args.batch_size,
            seed=args.seed,
            threads=args.threads or 1,
        )
        return build_trainer(scenario.corpus, config, settings, scenario.name)
    except (CheckpointError, TokenizerError, CorpusTooSmall) as e:
        raise CliError(str(e)) from None
    except ValueError as e:  # an impossible model config
        raise CliError(f"invalid model settings: {e}") from None


def run_train(args) -> int:
    _check_stage(args.stage)
    resuming_in_place = args.resume and args.out == DEFAULT_OUT
    out = Path(args.resume).parent if resuming_in_place else Path(args.out)
    check_writable(out)
    scenario = load_source(args)
    trainer = _make_trainer(args, scenario)
    from model.checkpoint import CheckpointError, save_checkpoint

    stop_at = min(args.stop_at or trainer.settings.steps, trainer.settings.steps)
    if trainer.state.step >= stop_at:
        raise CliError(f"nothing to do: the run is already at step {trainer.state.step}")
    out.mkdir(parents=True, exist_ok=True)
    metrics = out / "metrics.jsonl"
    checkpoint = out / "checkpoint"
    print(
        f"trainterm: {scenario.name} · {trainer.model.num_params():,} params · "
        f"{trainer.corpus_tokens:,} corpus tokens · vocab {trainer.tokenizer.n_vocab} · "
        f"{trainer.settings.threads} thread(s)",
        file=sys.stderr,
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss [cyan]{task.fields[loss]}"),
        TextColumn("val {task.fields[val]}"),
        TextColumn("{task.fields[tps]} tok/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task(
                trainer.stage,
                total=stop_at,
                completed=trainer.state.step,
                loss="-",
                val="-",
                tps="-",
            )
            val = "-"
            while trainer.state.step < stop_at:
                report = trainer.step()
                if isinstance(report, Divergence):
                    progress.stop()
                    print(f"trainterm: error: {report.message}", file=sys.stderr)
                    return DIVERGED
                record = {
                    "step": report.step,
                    "loss": report.loss,
                    "lr": report.lr,
                    "grad_norm": report.grad_norm,
                    "tokens_per_s": report.tokens_per_s,
                }
                if report.val_loss is not None:
                    record["val_loss"] = report.val_loss
                    val = f"{report.val_loss:.3f}"
                append_jsonl(metrics, record)
                progress.update(
                    task,
                    completed=report.step,
                    loss=f"{report.loss:.3f}",
                    val=val,
                    tps=f"{report.tokens_per_s:,.0f}",
                )
                if args.save_every and report.step % args.save_every == 0:
                    save_checkpoint(trainer, checkpoint)
        save_checkpoint(trainer, checkpoint)
    except CheckpointError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"cannot write {metrics}: {e.strerror or e}") from None
    print(f"trainterm: saved {checkpoint} at step {trainer.state.step}", file=sys.stderr)
    return 0
