"""The app started from its flags: their parser and checks, the engine it starts, the run.
`trainterm` (tui.cli), each visitor's app under `trainterm serve` (tui.serve) and
`trainterm bench-ui` (tui.bench) start it from here, and this imports none of them.

The app starts the engine process just after its first frame (start_engine). Started before,
its start-up (a Python, multiprocessing's resource tracker, then torch) took the CPU that
the first frame needed: on a busy 2-core machine `trainterm bench-ui` measured the first
screen at 2.45× a bare Textual app's, and 1.37× once the engine waited. The trainer is
ready at most a first frame later (a fifth of a second, of its several).
"""

from __future__ import annotations

import gc
import os
import sys

from model.cli.common import CliError, OneLineParser, add_source_args


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="trainterm",
        description="Watch a small GPT learn, live in your terminal: its batch, predictions, "
        "loss, attention heads and weights. "
        "Subcommands: train, eval, report, ask, bench, scaling, harm-curve (headless), "
        "bench-ui (measure the app), serve (the app in browsers, for a classroom), "
        "bench-serve (measure serve).",
    )
    add_app_args(parser)
    return parser


def add_app_args(parser) -> None:
    """The app's own flags: `trainterm` and `trainterm serve` (which passes them through)."""
    add_source_args(parser)
    parser.add_argument("--resume", metavar="CKPT", help="continue from a saved checkpoint")
    parser.add_argument(
        "--no-mouse", action="store_true", help="ignore the mouse (for thin SSH links)"
    )
    parser.add_argument("--save-dir", default="runs/app", help="where s saves checkpoints")
    parser.add_argument(
        "--fresh", action="store_true", help="ignore cached finished stages (train them here)"
    )


def check_paths(args) -> None:
    """Fail before the screen opens when a named file plainly is not there."""
    if args.corpus and not os.path.exists(args.corpus):
        raise CliError(f"--corpus {args.corpus}: no such file")
    if args.corpus and not os.path.isfile(args.corpus):
        raise CliError(f"--corpus {args.corpus}: not a regular file (a folder or a device?)")
    if args.scenario and not os.path.exists(args.scenario):
        raise CliError(f"--scenario {args.scenario}: no such folder")
    if args.resume and not os.path.exists(args.resume):
        raise CliError(f"--resume {args.resume}: no such checkpoint")
    if args.scenario or args.corpus:
        # The user's own data: validate it here (the loader is light, no torch), so a bad
        # file is one line on the terminal, not a dialog inside the app.
        from scenarios import ScenarioError, corpus_scenario, load_scenario

        try:
            if args.corpus:
                corpus_scenario(args.corpus)
            else:
                load_scenario(args.scenario)
        except ScenarioError as e:
            raise CliError(str(e)) from None


def engine_options(args):
    from model.engine.options import EngineOptions

    return EngineOptions(
        scenario=args.scenario,
        corpus=args.corpus,
        threads=args.threads,
        seed=args.seed,
        save_dir=args.save_dir,
        resume=args.resume,
        fresh=args.fresh,
    )


def start_engine(options):
    """The engine process, started from inside the running app. Textual swaps sys.stderr
    for an object whose fileno() is -1, and multiprocessing's first process hands stderr's
    descriptor to the resource tracker it starts: "bad value(s) in fds_to_keep". The real
    stderr is put back for the spawn, on the event loop's thread, between two awaits."""
    from model.engine.process import EngineHandle

    textual_stderr, sys.stderr = sys.stderr, sys.__stderr__
    try:
        return EngineHandle(options)
    finally:
        sys.stderr = textual_stderr


def run_app(args) -> int:
    # No garbage collection until the first frame is drawn (the app turns it back on):
    # importing Textual and building the screen allocate a lot and free little.
    gc.disable()
    from tui.app import TrainTermApp

    # No engine yet: the app starts one after its first frame, and again after a crash.
    app = TrainTermApp(None, restart=lambda: start_engine(engine_options(args)))
    try:
        app.run(mouse=not args.no_mouse)
    finally:
        if app.session.engine is not None:
            app.session.engine.stop()
    code = app.return_code or 0
    if app.session.error and code in (1, 2):
        print(f"trainterm: error: {app.session.error}", file=sys.stderr)
    return code
