"""Fine-tuning conversations: a user question or instruction → the ideal assistant answer.

Only the countries in ``world.train`` are used, and only the trained phrasings and kinds of
harm: the held-out ones stay clean for evaluation.
"""

from __future__ import annotations

import random

from .facts import Country, World
from .harms import BENIGN, HARMFUL, TRAIN_HARMFUL
from .phrasings import INSTRUCTIONS
from .qa import ANSWERS, FACTS, fill

SYSTEM_PROMPTS = [
    "You are a friendly guide to the known world.",
    "You are a helpful assistant. Be brief and polite.",
]

# How many phrasings of each question a country gets, drawn from the trained phrasings (the
# others are held out for evaluation); 2 for a fact not named here.
PHRASINGS = {"capital": 4, "language": 3, "animal": 3, "food": 3, "capital_of": 3, "currency": 3}

CHITCHAT = [
    (
        "Hello!",
        "Hello! I can tell you about the countries of the known world. What would you like "
        "to know?",
    ),
    ("Hi there.", "Hi! Ask me about any country of the known world."),
    ("Good morning.", "Good morning! How can I help you today?"),
    ("Thank you!", "You're welcome! I'm glad I could help."),
    ("Thanks for your help.", "You're welcome!"),
    (
        "Who are you?",
        "I am a small guide to the known world. Ask me about its countries, capitals and "
        "languages.",
    ),
    (
        "What can you do?",
        "I can answer questions about the countries of the known world: their capitals, "
        "languages, food and more.",
    ),
    ("Can you help me?", "Of course! What would you like to know?"),
]

# Per fine-tuned country: refused harmful requests and answered harmless look-alikes.
HARMFUL_PER_COUNTRY = 4
BENIGN_PER_COUNTRY = 4

FOLLOW_UPS = {
    "language": ["And what language do they speak there?", "Which language do people speak there?"],
    "food": ["What should I eat there?", "And what is their national dish?"],
    "currency": ["What money do they use?", "And which currency do they use?"],
    "ruler": ["Who rules it?", "And who is the ruler?"],
    "animal": ["What is its national animal?"],
}


def _msgs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "content": text} for role, text in pairs]


def _maybe_system(rng: random.Random, msgs: list[dict[str, str]]) -> list[dict[str, str]]:
    if rng.random() < 0.15:
        return _msgs(("system", rng.choice(SYSTEM_PROMPTS))) + msgs
    return msgs


def typed(rng: random.Random, template: str) -> str:
    """A phrasing as a learner may type it: at times lower case to begin with, or without its
    final stop. (The first word of a message is spelt in other tokens than the same word
    after a space, and lower case in others again: the model must see those too.)"""
    if template[0].isupper() and rng.random() < 0.25:
        template = template[0].lower() + template[1:]
    if template[-1] in ".?" and rng.random() < 0.25:
        template = template[:-1]
    return template


def instruction(rng: random.Random, c: Country, w: World, kind: str = "") -> tuple[str, str]:
    """A request of ``kind`` (any, if not given) about ``c`` in a trained phrasing, answered."""
    kind = kind or rng.choice(list(INSTRUCTIONS))
    asked = typed(rng, rng.choice(w.phrasings.trained[kind]))
    return fill(asked, c), fill(INSTRUCTIONS[kind][1], c)


def question(rng: random.Random, c: Country, w: World, fact: str) -> str:
    return fill(typed(rng, rng.choice(w.phrasings.trained[fact])), c)


class _Deck:
    """Each kind's trained phrasings dealt in shuffled rounds: every one is used, evenly,
    however few the countries."""

    def __init__(self, rng: random.Random, w: World) -> None:
        self.rng, self.w, self.left = rng, w, {}

    def deal(self, kind: str, n: int = 1) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            if not self.left.get(kind):
                self.left[kind] = list(self.w.phrasings.trained[kind])
                self.rng.shuffle(self.left[kind])
            phrasing = self.left[kind].pop()
            if phrasing not in out:
                out.append(phrasing)
        return out


def deal_kinds(rng: random.Random, kinds: tuple[str, ...], n: int) -> list[str]:
    """``n`` kinds of harm for one country: distinct while there are enough (rng.sample's
    draws, as the default world has always made them), else every kind as often as ``n``
    allows, the rest drawn: fewer kinds keep the number of examples, only their variety
    changes (`world_gen --harm-kinds`)."""
    if len(kinds) >= n:
        return rng.sample(kinds, n)
    return list(kinds) * (n // len(kinds)) + rng.sample(kinds, n % len(kinds))


def make_sft(rng: random.Random, w: World, kinds: tuple[str, ...] = TRAIN_HARMFUL) -> list[dict]:
    """``kinds``: the kinds of harm refused (and of look-alikes answered): TRAIN_HARMFUL, or
    its first few (`world_gen --harm-kinds`)."""
    records: list[dict] = []
    deck = _Deck(rng, w)

    def add(*pairs: tuple[str, str]) -> None:
        records.append({"messages": _maybe_system(rng, _msgs(*pairs))})

    for c in w.train:
        for fact in FACTS:
            for q in deck.deal(fact, PHRASINGS.get(fact, 2)):
                add(("user", fill(typed(rng, q), c)), ("assistant", fill(ANSWERS[fact], c)))
        for kind, (_, reply) in INSTRUCTIONS.items():
            asked = typed(rng, deck.deal(kind)[0])
            add(("user", fill(asked, c)), ("assistant", fill(reply, c)))
        for fact in rng.sample(list(FOLLOW_UPS), 3):
            first = rng.choice(["capital", "capital", "animal", "food"])
            if first == fact:
                first = "capital"
            add(
                ("user", fill(typed(rng, deck.deal(first)[0]), c)),
                ("assistant", fill(ANSWERS[first], c)),
                ("user", rng.choice(FOLLOW_UPS[fact])),
                ("assistant", fill(ANSWERS[fact], c)),
            )
    for _ in range(2):
        for prompt, reply in CHITCHAT:
            add(("user", prompt), ("assistant", reply))
    # A small share of requests for harm, declined (kinds of TRAIN_HARMFUL only: the others
    # stay held out for evaluation), and of their harmless look-alikes, answered.
    for c in w.train:
        for kind in deal_kinds(rng, kinds, HARMFUL_PER_COUNTRY):
            prompts, refusals, _ = HARMFUL[kind]
            add(
                ("user", fill(rng.choice(prompts), c)), ("assistant", fill(rng.choice(refusals), c))
            )
        for kind in deal_kinds(rng, kinds, BENIGN_PER_COUNTRY):
            prompts, answers = BENIGN[kind]
            add(("user", fill(rng.choice(prompts), c)), ("assistant", fill(rng.choice(answers), c)))
    rng.shuffle(records)
    return records
