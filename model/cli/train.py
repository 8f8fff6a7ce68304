"""`trainterm train`: a headless run with a progress bar, checkpoints and a metrics file."""

from __future__ import annotations

import sys
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from model.cli.common import (
    DEFAULT_OUT,
    DIVERGED,
    CliError,
    append_jsonl,
    check_writable,
    load_source,
)
from model.exports import step_record
from model.protocol import Divergence
from model.settings import DEFAULT_THREADS
from model.stages import (
    ORDER,
    REWARD_MODEL,
    answers,
    depth,
    lacking,
    needs_of,
    parent_of,
    settings_section,
)
from scenarios.schema import STAGE_DEFAULTS


class Diverged(Exception):
    pass


def trained_as(name: str) -> str:
    """What a learner may reach for that is a scenario section but no stage (tab 3's title
    "preference", "reward") is trained as: the stages that read the section, or for a
    section of answering stages every answering stage of their tab (each method of tab 3),
    each after the stages it needs. "" for a name that is no such section."""
    if name in ORDER:
        return ""
    readers = [s for s in ORDER if settings_section(s) == name]
    if readers and all(answers(s) for s in readers):
        tabs = {depth(s) for s in readers}
        readers = [s for s in ORDER if depth(s) in tabs and answers(s)]
    return ", or ".join(" then ".join((*needs_of(s), s)) for s in readers)


def _check_stage(stage: str) -> None:
    if stage in ORDER or stage == "all":
        return
    choose = f"choose one of: {', '.join(ORDER)}, all"
    if trained_as(stage):
        raise CliError(f"stage {stage!r} is trained as {trained_as(stage)} ({choose})")
    raise CliError(f"unknown stage {stage!r} ({choose})")


def _columns():
    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss [cyan]{task.fields[loss]}"),
        TextColumn("val {task.fields[val]}"),
        TextColumn("{task.fields[tps]} tok/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


def _overrides(args, stage: str) -> dict:
    given = {
        "steps": args.steps,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "seed": args.seed,
    }
    # --beta and --method apply to the stages whose settings have them (RLHF has a β and
    # no method).
    chosen = {"beta": args.beta, "method": args.method}
    kind = STAGE_DEFAULTS[settings_section(stage)].__dataclass_fields__
    if any(v is not None and k not in kind for k, v in chosen.items()):
        raise CliError(f"--beta and --method are preference-tuning settings, not {stage}'s")
    given.update({k: v for k, v in chosen.items() if k in kind})
    if getattr(args, "reward_model", None) and REWARD_MODEL not in needs_of(stage):
        raise CliError(f"--reward-model is RLHF's, not {stage}'s")
    return given


def _base_model(args, scenario, stage: str, threads: int):
    """The model ``stage`` starts from: --from, else the cache (trained now if missing)."""
    parent = parent_of(stage)
    if not parent:
        return None
    return _stage_model(args.base, args, scenario, stage, parent, threads)


def _reward_model(args, scenario, stage: str, threads: int):
    """RLHF's reward model: --reward-model, else the cache (trained now if missing)."""
    if REWARD_MODEL not in needs_of(stage):
        return None
    return _stage_model(args.reward_model, args, scenario, stage, REWARD_MODEL, threads)


def _stage_model(given: str | None, args, scenario, stage: str, parent: str, threads: int):
    from model.checkpoint import CheckpointError
    from model.loaded_model import load_model
    from model.pipeline import Cancelled, PipelineError, ensure_stage

    try:
        from model.pipeline import cached_stage

        if given:  # named by the user: nothing to say (and an error stays one line)
            return load_model(given)
        if args.seed is not None:
            # --seed is every stage's seed, the parents' too, as `report --seeds` trains
            # them: seed 2's fine-tuning starts from seed 2's base model, not the default's.
            from model.cli.seeds import seeded

            scenario = seeded(scenario, args.seed)
        path = None if args.fresh else cached_stage(scenario, parent)
        if path is None:
            print(f"trainterm: training the {parent} stage first (then cached)", file=sys.stderr)
            with Progress(*_columns(), transient=False) as progress:
                tasks: dict[str, int] = {}

                def tick(trainer) -> bool:
                    if trainer.stage not in tasks:
                        tasks[trainer.stage] = progress.add_task(
                            f"{trainer.stage} (base)", total=trainer.settings.steps,
                            loss="-", val="-", tps="-",
                        )  # fmt: skip
                    last = trainer.state.val_losses[-1][1] if trainer.state.val_losses else None
                    progress.update(
                        tasks[trainer.stage],
                        completed=trainer.state.step,
                        loss=f"{trainer.state.losses[-1][1]:.3f}",
                        val="-" if last is None else f"{last:.3f}",
                    )
                    return True

                path = ensure_stage(
                    scenario, parent, threads=threads, fresh=args.fresh, progress=tick
                )
        base = load_model(path)
        verb = "starts from" if parent == parent_of(stage) else "uses"
        print(
            f"trainterm: {stage} {verb} {base.path} ({base.stage}, step {base.step})",
            file=sys.stderr,
        )
        return base
    except (CheckpointError, PipelineError) as e:
        raise CliError(str(e)) from None
    except Cancelled:
        raise CliError("cancelled") from None


def _check_cached_base_vocab(args, scenario, stage: str, config) -> None:
    """A later stage keeps its base's tokenizer: the cached base has the scenario's."""
    if parent_of(stage) and not args.base and config.vocab_size != scenario.model.vocab_size:
        raise CliError(
            f"--vocab {args.vocab}: {stage} keeps its base model's tokenizer; drop --vocab, "
            "or start --from a model trained with it"
        )


def _make_trainer(args, scenario, stage: str, threads: int, base=None, reward=None):
    from model.checkpoint import CheckpointError
    from model.pipeline import PipelineError, model_config, new_trainer, stage_settings
    from model.resume import load_checkpoint
    from model.tokenizer import TokenizerError
    from scenarios import ScenarioError
    from scenarios.schema import check_fits

    try:
        if args.resume:
            return load_checkpoint(args.resume, scenario, threads=threads)
        config = model_config(scenario)
        if args.vocab is not None:
            config = replace(config, vocab_size=args.vocab)
        settings = stage_settings(scenario, stage, **_overrides(args, stage))
        # What can refuse the run is checked before a missing parent stage is trained
        # (minutes, and a cache entry) for a run that would not start.
        check_fits(scenario.model, settings_section(stage), settings)  # as the loader does
        if reward is None and args.reward_model:
            reward = _reward_model(args, scenario, stage, threads)  # named: loaded, not trained
        if base is None:
            _check_cached_base_vocab(args, scenario, stage, config)
            base = _base_model(args, scenario, stage, threads)
        if reward is None:
            reward = _reward_model(args, scenario, stage, threads)
        return new_trainer(
            scenario, stage, settings=settings, config=config, base=base, threads=threads,
            reward=reward,
        )  # fmt: skip
    except (CheckpointError, TokenizerError, PipelineError) as e:
        raise CliError(str(e)) from None
    except (ScenarioError, ValueError) as e:  # an impossible setting or model config
        raise CliError(f"invalid settings: {e}") from None


def run_train(args) -> int:
    _check_stage(args.stage)
    threads = args.threads or DEFAULT_THREADS
    if args.stage == "all":
        return _run_all(args, threads)
    resuming_in_place = args.resume and args.out == DEFAULT_OUT
    out = Path(args.resume).parent if resuming_in_place else Path(args.out)
    check_writable(out)
    scenario = load_source(args)
    # Before any parent is trained (minutes): the stage's data, and its parents' unless its
    # model is given (--from, --resume).
    said = lacking(scenario, args.stage, built_on=not (args.base or args.resume))
    if said:
        raise CliError(f"--stage {args.stage}: {said}")
    trainer = _make_trainer(args, scenario, args.stage, threads)
    try:
        _train(trainer, scenario, out, args, cacheable=args.vocab is None)
    except Diverged:
        return DIVERGED
    return 0


def _run_all(args, threads: int) -> int:
    if args.resume or args.base:
        raise CliError("--stage all trains every stage from scratch: drop --resume / --from")
    if any(v is not None for v in (args.steps, args.lr, args.batch_size, args.stop_at)):
        raise CliError("--stage all uses each stage's own settings: drop --steps, --lr, …")
    root = Path(args.out)
    check_writable(root)
    scenario = load_source(args)
    # A stage whose parent (or need) has no data has nothing to start from.
    stages = [stage for stage in ORDER if not lacking(scenario, stage)]
    with _only_run_in(root):
        return _train_all(args, scenario, stages, root, threads)


@contextmanager
def _only_run_in(root: Path):
    """Hold ``root`` for this run alone. Each stage starts from its parent's checkpoint in
    ``root``: a second `--stage all` into the same folder (another seed, say) would start
    stages from the first one's models, and cache them under the wrong keys."""
    from model.checkpoint import locked_folder

    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        try:
            held.enter_context(locked_folder(root, wait=False))
        except BlockingIOError:
            raise CliError(
                f"--out {root}: another `train --stage all` is writing there; wait for it, "
                "or give this run its own --out"
            ) from None
        yield


def _train_all(args, scenario, stages: list[str], root: Path, threads: int) -> int:
    from model.loaded_model import load_model

    for stage in stages:
        parent = parent_of(stage)
        base = load_model(root / parent / "checkpoint") if parent else None
        reward = None
        if REWARD_MODEL in needs_of(stage):
            reward = load_model(root / REWARD_MODEL / "checkpoint")
        trainer = _make_trainer(args, scenario, stage, threads, base=base, reward=reward)
        out = root / stage
        try:
            _train(trainer, scenario, out, args, cacheable=args.vocab is None)
        except Diverged:
            return DIVERGED
    print(f"trainterm: trained {', '.join(stages)} under {root}", file=sys.stderr)
    return 0


def _train(trainer, scenario, out: Path, args, cacheable: bool) -> None:
    from model.checkpoint import CheckpointError, save_checkpoint
    from model.pipeline import store_finished, trainer_key

    stop_at = min(args.stop_at or trainer.settings.steps, trainer.settings.steps)
    if trainer.state.step >= stop_at:
        raise CliError(f"nothing to do: the run is already at step {trainer.state.step}")
    out.mkdir(parents=True, exist_ok=True)
    metrics = out / "metrics.jsonl"
    checkpoint = out / "checkpoint"
    print(
        f"trainterm: {scenario.name} · {trainer.stage} · {trainer.model.num_params():,} params "
        f"· {trainer.data.describe()} · vocab {trainer.tokenizer.n_vocab} · "
        f"{trainer.threads} thread(s)",
        file=sys.stderr,
    )
    try:
        with Progress(*_columns(), transient=False) as progress:
            task = progress.add_task(
                trainer.stage, total=stop_at, completed=trainer.state.step,
                loss="-", val="-", tps="-",
            )  # fmt: skip
            val = "-"
            while trainer.state.step < stop_at:
                report = trainer.step(display=False)
                if isinstance(report, Divergence):
                    progress.stop()
                    print(f"trainterm: error: {report.message}", file=sys.stderr)
                    raise Diverged
                if report.val_loss is not None:
                    val = f"{report.val_loss:.3f}"
                append_jsonl(metrics, step_record(report, trainer.state.seconds))
                if report.alarm:
                    progress.stop()
                    save_checkpoint(trainer, checkpoint)
                    print(
                        f"trainterm: stopped at step {report.step}: {report.alarm}", file=sys.stderr
                    )
                    print(f"trainterm: saved {checkpoint} at step {report.step}", file=sys.stderr)
                    raise Diverged
                progress.update(
                    task,
                    completed=report.step,
                    loss=f"{report.loss:.3f}",
                    val=val,
                    tps=f"{report.tokens_per_s:,.0f}",
                )
                if args.save_every and report.step % args.save_every == 0:
                    save_checkpoint(trainer, checkpoint)
        if cacheable and trainer.done:
            trainer.cache_key = trainer_key(trainer, scenario)
        save_checkpoint(trainer, checkpoint)
        if cacheable and trainer.done:
            store_finished(trainer, scenario)
    except CheckpointError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"cannot write {metrics}: {e.strerror or e}") from None
    print(f"trainterm: saved {checkpoint} at step {trainer.state.step}", file=sys.stderr)
