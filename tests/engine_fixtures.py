"""A small seeded corpus and a tiny model config, so real training fits in a test."""

from __future__ import annotations

import random

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
