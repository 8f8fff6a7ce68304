"""A small seeded corpus and a tiny model config, so real training fits in a test."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

from model import protocol as p
from model.gpt import GPTConfig
from model.settings import TrainSettings

TINY_CONFIG = GPTConfig(vocab_size=320, context=32, n_layer=2, n_head=2, d_model=32)
TINY_SETTINGS = TrainSettings(steps=40, batch_size=8, lr=3e-3, warmup_steps=5, eval_every=10)

_COUNTRIES = ["Velmora", "Tarsk", "Orinth", "Quellan", "Zandor", "Mirel", "Keshet", "Ablon"]
_FOODS = ["bread", "fish", "plums", "rice", "cheese", "figs"]


def tiny_corpus(sentences: int = 600, seed: int = 7) -> str:
    rng = random.Random(seed)
    capitals = {c: c[:3] + "port" for c in _COUNTRIES}
    lines = []
    for _ in range(sentences):
        country = rng.choice(_COUNTRIES)
        lines.append(
            rng.choice(
                [
                    f"The capital of {country} is {capitals[country]}.",
                    f"{capitals[country]} is the largest city of {country}.",
                    f"People in {country} like {rng.choice(_FOODS)}.",
                ]
            )
        )
    return " ".join(lines)


def make_trainer(corpus: str, tmp_path, **settings):
    """A real tiny trainer on `corpus`, its tokenizer cached under `tmp_path`."""
    from model.pipeline import build_trainer

    return build_trainer(
        corpus, TINY_CONFIG, replace(TINY_SETTINGS, **settings), cache_dir=tmp_path / "cache"
    )


def shown_step_after_training(tmp_path, steps: int = 3):
    """A tiny trainer trained ``steps`` headless steps, and the report of one more step
    shown on screen (so with its display figures: attention, head shares)."""
    trainer = make_trainer(tiny_corpus(), tmp_path)
    for _ in range(steps):
        trainer.step(display=False)
    return trainer, trainer.step()


def receive(handle, kind, timeout=60.0):
    """The next message of `kind`, skipping others; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.conn.poll(0.1):
            message = handle.conn.recv()
            if isinstance(message, kind):
                return message
            assert not isinstance(message, p.EngineError), message
    raise AssertionError(f"no {kind.__name__} within {timeout}s")


@contextmanager
def engine_in_process(options):
    """A real Engine in this process, its pipe drained by a thread as the screen would."""
    from model.engine.engine import Engine

    conn, peer = multiprocessing.Pipe()
    received: list = []

    def drain() -> None:
        try:
            while True:
                received.append(peer.recv())
        except (EOFError, OSError):
            return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield Engine(conn, options), received
    finally:
        conn.close()
        reader.join(timeout=30)
        peer.close()
