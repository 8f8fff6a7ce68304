"""`trainterm bench-ui`: measure the app, honestly, on this machine, now.

1. launch → first screen: `trainterm` and a bare Textual app, launched alternately in a
   120×40 pseudo-terminal, each until 3 lines are drawn (tui.bench.first_screen);
2. in a pseudo-terminal at 120×40 with 256 colours, playing at max speed: bytes/s written
   to the terminal, and steps/s read off the screen's step counter;
3. the app headless in this process, playing at max speed: event-loop lag (p50/p99 of how
   late a 5 ms sleep wakes up) and steps/s;
4. the headless trainer (`trainterm bench`, same scenario) for the steps/s to compare with.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time

from model.cli.common import OneLineParser, add_source_args
from tui.bench.launch import PtyApp, source_args


def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="trainterm bench-ui", description=__doc__.splitlines()[0])
    add_source_args(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="playing time per run")
    parser.add_argument(
        "--launches", type=int, default=7, help="launches to time, of the app and of the bare one"
    )
    parser.add_argument(
        "--first-screen", action="store_true", help="measure the first screen only, then stop"
    )
    parser.add_argument(
        "--soak", type=float, metavar="MINUTES",
        help="instead: play this long and report both processes' memory",
    )  # fmt: skip
    return parser.parse_args(argv)


def terminal_run(argv: list[str], seconds: float) -> dict:
    app = PtyApp(argv, size=(120, 40))
    try:
        app.wait_for(b"paused", 120)
        app.press(b" ")
        app.read(2.0)  # warm up: the first steps and the first chart
        start_time, start_bytes, start_step = time.perf_counter(), len(app.output), app.last_step()
        app.read(seconds)
        end_time, end_bytes, end_step = time.perf_counter(), len(app.output), app.last_step()
    finally:
        app.close()
    elapsed = end_time - start_time
    return {
        "bytes_per_s": (end_bytes - start_bytes) / elapsed,
        "steps_per_s": (end_step - start_step) / elapsed if start_step and end_step else 0.0,
    }


async def headless_run(args, seconds: float) -> dict:
    from model.engine.process import EngineHandle
    from tui.app import TrainTermApp
    from tui.start import engine_options

    options = engine_options(
        argparse.Namespace(**vars(args), save_dir="runs/bench", resume=None, fresh=False)
    )
    handle = EngineHandle(options)
    lags: list[float] = []
    try:
        app = TrainTermApp(handle)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.state != "paused":
                await asyncio.sleep(0.05)
            await pilot.press("space")
            await asyncio.sleep(2.0)
            first = (time.perf_counter(), app.latest.step if app.latest else 0)
            end = time.perf_counter() + seconds
            while (now := time.perf_counter()) < end:
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - now - 0.005)
            last = (time.perf_counter(), app.latest.step if app.latest else 0)
            await pilot.press("space")
    finally:
        handle.stop()
    lags.sort()
    return {
        "steps_per_s": (last[1] - first[1]) / (last[0] - first[0]),
        "lag_p50_ms": 1000 * lags[len(lags) // 2],
        "lag_p99_ms": 1000 * lags[int(len(lags) * 0.99)],
        "lag_max_ms": 1000 * lags[-1],
        "samples": len(lags),
    }


def headless_bench(argv: list[str]) -> float:
    result = subprocess.run(
        [sys.executable, "-m", "model", "bench", *argv, "--steps", "40"],
        capture_output=True,
        text=True,
    )
    found = re.search(r"steps/s\s+([\d.]+)", result.stdout)
    if not found:
        raise RuntimeError(f"trainterm bench failed: {result.stderr.strip() or result.stdout}")
    return float(found.group(1))


def _end_by_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse(argv)
    # Stopped by TERM or a hang-up, the bench still closes the apps it launched (each
    # PtyApp's finally): they run in sessions of their own, so nothing tells them their
    # terminal is gone, and four orphans were found spinning at a third of a core each.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _end_by_signal)
    try:
        return measure(args)
    except RuntimeError as e:  # the app or the trainer did not do what was measured
        print(f"trainterm bench-ui: error: {e}", file=sys.stderr)
        return 1


def measure(args) -> int:
    if args.soak:
        from tui.bench.soak import soak

        return soak(args, args.soak)
    source = source_args(args)
    print(f"trainterm bench-ui · {' '.join(source) or 'default scenario'} · {os.cpu_count()} cores")
    from tui.bench.first_screen import report, side_by_side

    print(report(*side_by_side(source, args.launches)))
    if args.first_screen:
        return 0
    bench = headless_bench(source)
    print(f"headless trainer       {bench:.2f} steps/s  (trainterm bench, median step)")
    term = terminal_run(source, args.seconds)
    print(
        f"app in a terminal      {term['steps_per_s']:.2f} steps/s at max speed  "
        f"= {term['steps_per_s'] / bench:.2f}× headless (target ≥ 0.95)"
    )
    print(
        f"terminal output        {term['bytes_per_s'] / 1024:.1f} KB/s while playing, 120×40, "
        f"256 colours (target ≤ 40, an SSH link on a phone hotspot)"
    )
    head = asyncio.run(headless_run(args, args.seconds))
    print(
        f"app headless           {head['steps_per_s']:.2f} steps/s = "
        f"{head['steps_per_s'] / bench:.2f}× headless"
    )
    print(
        f"event-loop lag         p50 {head['lag_p50_ms']:.1f} ms · p99 {head['lag_p99_ms']:.1f} ms"
        f" · max {head['lag_max_ms']:.1f} ms over {head['samples']} wake-ups (target p99 ≤ 10)"
    )
    return 0
