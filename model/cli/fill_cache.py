"""Fill the stage cache with the runs the app's later tabs start from, before visitors come.

`trainterm serve` runs this once, in a child process (`python -m model.cli.fill_cache
[--scenario DIR | --corpus FILE]`): tab 2 starts from the cached pretraining run and tab 3
from the cached fine-tuned one, so thirty visitors read one finished run instead of each
training their own. A run that is cached already costs nothing; one that is not is trained
here, headless, and cached.
"""

from __future__ import annotations

import sys
import time

from model.cli.common import USAGE_ERROR, CliError, OneLineParser, add_source_args, load_source

PROGRESS_EVERY = 10.0  # seconds between progress lines


def stages_for(scenario) -> list[str]:
    """The stages whose finished runs a later tab starts from or uses, for the stages the
    scenario has the data of, and pretraining always (Compare's base column): on the
    world, pretraining, fine-tuning and RLHF's reward model."""
    from model.stages import ORDER, lacking, needs_of, parent_of

    ready = [s for s in ORDER if not lacking(scenario, s)]
    used = {s for stage in ready for s in (parent_of(stage), *needs_of(stage))}
    return [s for s in ORDER if s in used or not parent_of(s)]


def fill_cache(scenario, threads: int, say=print) -> list[tuple[str, str]]:
    """Each stage of ``stages_for``: ("cached" | "trained", path)."""
    from model.pipeline import cached_stage, ensure_stage

    done = []
    for stage in stages_for(scenario):
        path = cached_stage(scenario, stage)
        if path is not None:
            say(f"  {stage}: cached")
            done.append(("cached", str(path)))
            continue
        started = last = time.monotonic()

        def progress(trainer, stage=stage) -> bool:
            nonlocal last
            if time.monotonic() - last >= PROGRESS_EVERY:
                last = time.monotonic()
                step, total = trainer.state.step, trainer.settings.steps
                say(f"  {stage} ({trainer.stage}): step {step}/{total}")
            return True

        say(f"  {stage}: training once, headless, then cached for every visitor")
        path = ensure_stage(scenario, stage, threads=threads, progress=progress)
        say(f"  {stage}: trained and cached in {time.monotonic() - started:.0f} s")
        done.append(("trained", str(path)))
    return done


def main(argv: list[str] | None = None) -> int:
    from model.pipeline import PipelineError
    from model.settings import DEFAULT_THREADS

    parser = OneLineParser(
        prog="python -m model.cli.fill_cache", description=__doc__.splitlines()[0]
    )
    add_source_args(parser)
    try:
        args = parser.parse_args(argv)
        scenario = load_source(args)
        fill_cache(scenario, args.threads or DEFAULT_THREADS, lambda line: print(line, flush=True))
    except CliError as e:
        print(f"trainterm: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except PipelineError as e:
        print(f"trainterm: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
