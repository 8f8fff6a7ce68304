"""What the screen remembers of a run between reports: its loss points, and its speed.

Plain Python, no Textual: the panes read from it, the tests poke it directly. Everything
here is bounded, however long the run: MAX_POINTS per loss series, RATE_SAMPLES speed
observations.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

Point = tuple[float, float]

# Per series. Past it, the older half is halved (neighbours averaged in pairs): the newest
# MAX_POINTS // 2 stay exact, and the chart, which averages neighbours to fit its columns
# anyway, keeps its shape. About 1 MB a series at most, where one entry per step of a
# 100-million-step run would not fit in memory.
MAX_POINTS = 8192
RATE_SAMPLES = 64


class LossSeries:
    """The (step, loss) points the trainer reported: every one up to MAX_POINTS, then the
    older ones merged in pairs. The chart draws a thinned copy when there are more than it
    has columns for."""

    def __init__(self) -> None:
        self.train: list[Point] = []
        self.val: list[Point] = []
        # Other held-out series by name, e.g. "pretrain val" while fine-tuning.
        self.other: dict[str, list[Point]] = {}

    def __len__(self) -> int:
        return len(self.train)

    def clear(self) -> None:
        self.train = []
        self.val = []
        self.other = {}

    def replace(self, train: Iterable[Point], val: Iterable[Point] = ()) -> None:
        self.train = bounded(list(train))
        self.val = bounded(list(val))

    def extend(
        self,
        train: Iterable[Point],
        val: Iterable[Point] = (),
        other: Iterable[tuple[str, int, float]] = (),
    ) -> None:
        self.train.extend(train)
        self.train = bounded(self.train)
        self.val.extend(val)
        self.val = bounded(self.val)
        for name, step, value in other:
            points = self.other.setdefault(name, [])
            points.append((step, value))
            self.other[name] = bounded(points)

    def last_other(self, name: str) -> float | None:
        points = self.other.get(name)
        return points[-1][1] if points else None

    @property
    def last(self) -> float | None:
        return self.train[-1][1] if self.train else None

    @property
    def last_val(self) -> float | None:
        return self.val[-1][1] if self.val else None

    def recent(self, count: int) -> list[float]:
        """The last ``count`` training losses, oldest first (a new list every call)."""
        return [loss for _, loss in self.train[-count:]] if count > 0 else []

    def chart_train(self, max_points: int = 2000) -> tuple[list[float], list[float]]:
        return thin(self.train, max_points)

    def chart_val(self, max_points: int = 2000) -> tuple[list[float], list[float]]:
        return thin(self.val, max_points)

    def chart_other(self, max_points: int = 2000) -> list[tuple[str, list[float], list[float]]]:
        return [(name, *thin(points, max_points)) for name, points in self.other.items()]


def bounded(points: list[Point]) -> list[Point]:
    """``points`` itself while it fits MAX_POINTS; else with its older half halved."""
    if len(points) <= MAX_POINTS:
        return points
    keep = MAX_POINTS // 2
    old = points[:-keep]
    merged = [
        ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in zip(old[::2], old[1::2], strict=False)
    ]
    if len(old) % 2:
        merged.append(old[-1])
    return merged + points[-keep:]


def thin(points: list[Point], max_points: int) -> tuple[list[float], list[float]]:
    """At most ``max_points`` (step, loss) pairs: runs of neighbours averaged into one, so
    the curve keeps its shape. The last point is always kept exactly."""
    n = len(points)
    if n <= max_points or max_points < 2:
        return [float(s) for s, _ in points], [v for _, v in points]
    buckets = max_points - 1
    xs: list[float] = []
    ys: list[float] = []
    body = n - 1
    for b in range(buckets):
        lo = b * body // buckets
        hi = max(lo + 1, (b + 1) * body // buckets)
        chunk = points[lo:hi]
        xs.append(sum(s for s, _ in chunk) / len(chunk))
        ys.append(sum(v for _, v in chunk) / len(chunk))
    xs.append(float(points[-1][0]))
    ys.append(points[-1][1])
    return xs, ys


class RateMeter:
    """Steps per second over the last few seconds, from (time, step) observations."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        # Bounded in count too: a burst of reports all lands inside the window.
        self.samples: deque[tuple[float, int]] = deque(maxlen=RATE_SAMPLES)

    def clear(self) -> None:
        self.samples.clear()

    def add(self, now: float, step: int) -> None:
        if self.samples and step < self.samples[-1][1]:
            self.samples.clear()
        self.samples.append((now, step))
        cutoff = now - self.window
        while len(self.samples) > 2 and self.samples[1][0] <= cutoff:
            self.samples.popleft()

    def rate(self, now: float) -> float | None:
        if len(self.samples) < 2 or now - self.samples[-1][0] > self.window:
            return None
        (t0, s0), (t1, s1) = self.samples[0], self.samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None
