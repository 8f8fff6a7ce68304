"""`trainterm serve`: the app in browsers, one app and one trainer per visitor, for a room.

Before it serves: the flags are checked (the app's too, as `trainterm` checks them), the
address is bound (a port in use is a one-line error now, not later), and the stage cache is
filled with the runs the later tabs start from (once per machine; `--no-warm` skips it).
The sessions then read that cache and never write it.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import logging
import os
import socket
import subprocess
import sys

from model.cli.common import USAGE_ERROR, CliError, OneLineParser, _positive_int
from tui.start import add_app_args, check_paths

DEFAULT_PORT = 8000
# Measured (docs/serve.md): two shared cores kept 4 visitors playing at max
# speed at ≥ 2 steps/s each, and 6 at 1.6. --max-sessions raises it for a quieter machine.
SEATS_PER_CORE = 2
PUBLIC_WARNING = (
    "trainterm serve: warning: {where} is reachable from other machines and has no "
    "password: anyone who can reach it gets an app and a trainer process of their own"
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535 (0: any free port), got {value}")
    return value


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="trainterm serve",
        description="Serve the app to browsers, for a classroom: each visitor gets their own "
        "app and trainer process (textual-serve). Loopback only unless --public; there is "
        "no authentication. The app's flags below pass through to every visitor's app.",
    )
    serve = parser.add_argument_group("serving")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (8000; 0: any)")
    serve.add_argument(
        "--public", action="store_true",
        help="allow an address other machines can reach (0.0.0.0, a LAN address)",
    )  # fmt: skip
    serve.add_argument(
        "--max-sessions", type=_positive_int, metavar="N",
        help=f"visitors at once; the next one sees a 'full' page ({SEATS_PER_CORE} per core)",
    )  # fmt: skip
    serve.add_argument(
        "--no-warm", action="store_true",
        help="do not fill the stage cache first (visitors' fast-forwards fill it instead)",
    )  # fmt: skip
    app = parser.add_argument_group("each visitor's app")
    add_app_args(app)
    app.set_defaults(save_dir="runs/serve")
    for action in parser._actions:
        if action.dest == "save_dir":
            action.help = "each visitor saves and exports into a folder of their own below it"
    return parser


def app_argv(args) -> list[str]:
    """The app's flags as given, for every session (each gets its own --save-dir below it).
    Paths become absolute: the sessions need not share the server's working folder."""
    out = []
    for flag in ("scenario", "corpus", "resume"):
        if (value := getattr(args, flag)) is not None:
            out += [f"--{flag}", os.path.abspath(value)]
    for flag in ("threads", "seed"):
        if (value := getattr(args, flag)) is not None:
            out += [f"--{flag}", str(value)]
    out += ["--no-mouse"] if args.no_mouse else []
    out += ["--fresh"] if args.fresh else []
    return out


def is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def bind(host: str, port: int, public: bool) -> socket.socket:
    """A listening socket on ``host``:``port``, or a CliError that says why not."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as e:
        reason = e.strerror if isinstance(e, socket.gaierror) else str(e)
        raise CliError(
            f"--host {host}: not an address this machine can listen on ({reason})"
        ) from None
    family, kind, proto, _, address = infos[0]
    if not is_loopback(address[0]) and not public:
        raise CliError(
            f"--host {host}: other machines could reach it, and there is no password; "
            "add --public to serve there anyway"
        )
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        reasons = {
            errno.EADDRINUSE: f"--port {port}: already in use on {host} (try another --port)",
            errno.EADDRNOTAVAIL: f"--host {host}: not an address of this machine",
            errno.EACCES: f"--port {port}: not allowed here (ports below 1024 need root)",
        }
        default = f"cannot listen on {host}:{port}: {e.strerror or e}"
        raise CliError(reasons.get(e.errno, default)) from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def warm_cache(args) -> None:
    """Fill the stage cache in a child process (torch stays out of the server)."""
    argv = [sys.executable, "-m", "model.cli.fill_cache"]
    for flag in ("scenario", "corpus", "threads"):
        if getattr(args, flag) is not None:
            argv += [f"--{flag}", str(getattr(args, flag))]
    print("trainterm serve: filling the stage cache (once per machine)", flush=True)
    if subprocess.run(argv).returncode != 0:
        raise SystemExit(1)


def main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
        check_paths(args)
        try:
            import textual_serve  # noqa: F401
        except ImportError:
            raise CliError("serving needs textual-serve: pip install textual-serve") from None
        sock = bind(args.host, args.port, args.public)
    except CliError as e:
        print(f"trainterm serve: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    where = url_of(sock)
    if not is_loopback(sock.getsockname()[0]):
        print(PUBLIC_WARNING.format(where=where), file=sys.stderr, flush=True)
    try:
        warmed = not (args.no_warm or args.fresh)
        if warmed:
            warm_cache(args)
        return serve(args, sock, where, read_only_cache=warmed or args.fresh)
    except KeyboardInterrupt:
        print("trainterm serve: interrupted", file=sys.stderr)
        return 130
    except SystemExit as e:
        return int(e.code or 0)
    finally:
        sock.close()


def serve(args, sock: socket.socket, where: str, *, read_only_cache: bool) -> int:
    from model.settings import DEFAULT_THREADS
    from tui.serve.server import ClassroomServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    limit = args.max_sessions or SEATS_PER_CORE * (os.cpu_count() or 1)
    env = {"TRAINTERM_CACHE_READONLY": "1"} if read_only_cache else {}
    server = ClassroomServer(
        app_argv(args), limit=limit, session_env=env, save_root=os.path.abspath(args.save_dir)
    )
    threads = args.threads or DEFAULT_THREADS
    source = args.scenario or args.corpus or "world (the default scenario)"

    def ready() -> None:
        print(
            f"trainterm serve: {source} · {limit} seats · {threads} torch thread(s) each\n"
            f"trainterm serve: open {where} (ctrl+c stops the server and every session)",
            flush=True,
        )

    asyncio.run(server.run(sock, ready))
    return 0
