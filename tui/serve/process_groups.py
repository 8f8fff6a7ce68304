"""Processes as /proc shows them (Linux): a session's process group, its members' memory.

`trainterm serve` starts each visitor's app in a process group of its own; the app's trainer
and multiprocessing's resource tracker join it. The group is how the server knows that a
session has left nothing behind, and what the benchmark measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    state: str
    name: str


def read(pid: int) -> Proc | None:
    """The process, or None if it is gone (or only a zombie waiting to be reaped)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The name is in parentheses and may hold spaces or parentheses itself.
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
    if state in ("Z", "X"):
        return None
    return Proc(pid, ppid, pgid, state, name)


def everyone() -> list[Proc]:
    out = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (proc := read(int(entry.name))) is not None:
            out.append(proc)
    return out


def group(pgid: int) -> list[Proc]:
    """The live members of process group ``pgid``."""
    return [p for p in everyone() if p.pgid == pgid]


def children(pid: int) -> list[Proc]:
    return [p for p in everyone() if p.ppid == pid]


def descendants(pid: int) -> list[Proc]:
    procs = everyone()
    found, frontier = [], {pid}
    while frontier:
        step = [p for p in procs if p.ppid in frontier]
        found += step
        frontier = {p.pid for p in step}
    return found


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) in KiB: resident, and resident with shared pages split among their users
    (what a session adds when thirty share the same libraries). None if it is gone."""
    rss = pss = None
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError):
        return None
    if rss is None or pss is None:
        return None
    return rss, pss


def cmdline(pid: int) -> bytes:
    """The command line, its arguments separated by NUL; empty if the process is gone."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""
