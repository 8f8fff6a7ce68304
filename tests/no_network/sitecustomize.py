"""No network in the tests: every connection that would leave this machine is refused.

conftest.py installs this in the test process and puts this folder first on PYTHONPATH, so
Python loads it at start-up in every process the tests start too (the trainer, the CLI, the
app in tmux). Loopback and Unix sockets work as usual: the pipes, asyncio's self-pipe, a
server a test starts on 127.0.0.1. Names other than "localhost" are not looked up either: a
DNS query leaves the machine.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

# Every refused attempt in this process, "host:port".
attempts: list[str] = []
# The file every process of a test run appends its refused attempts to (conftest.py names it
# in the environment, which the processes a test starts inherit): the test process fails the
# test during which one was made, even if a child process swallowed the error and exited 0.
LOG_VARIABLE = "TRAINTERM_NETWORK_ATTEMPTS"


class NetworkBlocked(ConnectionRefusedError):
    pass


def is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or host in ("", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def needs_dns(host) -> bool:
    """A name other than "localhost": looking it up asks a server elsewhere. An address
    written out is not looked up (connecting to it is checked instead)."""
    if is_local(host):
        return False
    try:
        ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return True
    return False


def record(target: str) -> None:
    attempts.append(target)
    log = os.environ.get(LOG_VARIABLE)
    if log:
        # One short write in append mode: lines from processes writing at once stay whole.
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{target} (pid {os.getpid()})\n")


def _refuse(what: str, host, port=None) -> None:
    target = f"{host}:{port}" if port is not None else str(host)
    record(target)
    print(f"trainterm tests: network blocked: {what} {target}", file=sys.stderr)
    raise NetworkBlocked(f"network blocked in the tests: {what} {target}")


def install() -> None:
    if getattr(socket, "_trainterm_no_network", False):
        return
    inet = (socket.AF_INET, socket.AF_INET6)
    connect, connect_ex, sendto = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.socket.sendto,
    )
    getaddrinfo, gethostbyname, gethostbyname_ex = (
        socket.getaddrinfo,
        socket.gethostbyname,
        socket.gethostbyname_ex,
    )

    def check(sock, address, what):
        if sock.family in inet and isinstance(address, tuple) and not is_local(address[0]):
            _refuse(what, address[0], address[1])

    def guarded_connect(self, address):
        check(self, address, "connect to")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        check(self, address, "connect to")
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        check(self, args[-1], "send to")
        return sendto(self, data, *args)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if needs_dns(host):
            _refuse("look up", host)
        return getaddrinfo(host, *args, **kwargs)

    def guarded_gethostbyname(host):
        if needs_dns(host):
            _refuse("look up", host)
        return gethostbyname(host)

    def guarded_gethostbyname_ex(host):
        if needs_dns(host):
            _refuse("look up", host)
        return gethostbyname_ex(host)

    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
    socket.socket.sendto = guarded_sendto
    socket.getaddrinfo = guarded_getaddrinfo
    socket.gethostbyname = guarded_gethostbyname
    socket.gethostbyname_ex = guarded_gethostbyname_ex
    socket._trainterm_no_network = True


install()


def _chain() -> None:
    """Run the sitecustomize this one shadows, if the environment has one (coverage, a
    distribution's): the tests add a guard, they do not take anything away."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


if __name__ == "sitecustomize":
    _chain()
