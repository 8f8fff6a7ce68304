"""One visitor's app under `trainterm serve`: `python -m tui.serve.session [app flags]`.

textual-serve runs this with pipes for stdin and stdout (its framed stream, Textual's web
driver on our side); the server checked the flags once before it started. The trainer is
started as in a terminal (by the app, after its first frame: tui.start), and ends with the app.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

from model.cli.common import USAGE_ERROR, CliError

PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """SIGTERM us when the server dies, however it dies: the app then ends like q does,
    and its trainer with it. Linux only; elsewhere the closed pipes end the app later."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    server = os.environ.get("TRAINTERM_SERVE_PID")
    if server and server != str(os.getppid()):
        sys.exit(0)  # the server died before we could ask to hear of it


def main(argv: list[str] | None = None) -> int:
    from tui.start import build_parser, run_app

    end_with_parent()
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    except CliError as e:
        print(f"trainterm serve: session: {e}", file=sys.stderr)
        return USAGE_ERROR
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
