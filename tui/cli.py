"""`trainterm`: the app; `trainterm train|bench` go to the headless CLI without loading textual,
`trainterm serve` serves the app to browsers (tui.serve), `trainterm bench-ui|bench-serve`
measure them (tui.bench). What they share to start the app is in tui.start, below them all.
"""

from __future__ import annotations

import sys

from model.cli.common import USAGE_ERROR, CliError
from tui.start import build_parser, check_paths, run_app

HEADLESS = ("train", "eval", "report", "ask", "bench", "scaling", "harm-curve")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in HEADLESS:
        from model.cli.main import main as headless_main

        return headless_main(argv)
    try:
        if argv and argv[0] == "bench-ui":
            from tui.bench.ui import main as bench_main

            return bench_main(argv[1:])
        if argv and argv[0] in ("serve", "bench-serve"):
            # Imported only here: the plain app never loads the web server.
            if argv[0] == "serve":
                from tui.serve.command import main as serve_main
            else:
                from tui.bench.serve import main as serve_main

            return serve_main(argv[1:])
        args = build_parser().parse_args(argv)
        check_paths(args)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise CliError(
                "the app needs a terminal on stdin and stdout; for a run without a screen "
                "use `trainterm train` (see `trainterm train --help`)"
            )
    except CliError as e:
        print(f"trainterm: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    try:
        return run_app(args)
    except KeyboardInterrupt:
        print("trainterm: interrupted", file=sys.stderr)
        return 130
