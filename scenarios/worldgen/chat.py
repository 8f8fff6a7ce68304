"""Fine-tuning conversations: a user question or instruction → the ideal assistant answer.

Only the countries in ``world.train`` are used; the held-out ones stay clean for evaluation.
"""

from __future__ import annotations

import random

from .facts import Country, World
from .harms import BENIGN, HARMFUL, TRAIN_HARMFUL
from .qa import ANSWERS, QUESTIONS, fill

SYSTEM_PROMPTS = [
    "You are a friendly guide to the known world.",
    "You are a helpful assistant. Be brief and polite.",
]

# How many phrasings of each question a country gets (all of them for the main facts).
PHRASINGS = {"capital": 5, "language": 4, "animal": 3, "food": 3, "capital_of": 3, "currency": 3}

INSTRUCTIONS = [
    (
        "Describe {C} in one sentence.",
        "{C} is a {cl} country in the {region} of the known world, and its capital is {K}.",
    ),
    (
        "Tell me three facts about {C}.",
        "Here are three facts about {C}: its capital is {K}, people there speak {L}, and its "
        "national animal is the {A}.",
    ),
    (
        "Give me a travel tip for {C}.",
        "Visit the market in {K} and try {F}. Bring a few {cur}s to pay.",
    ),
    (
        "Write a short story about {K}.",
        "Every morning, the bakers of {K} made {F}. Children watched the boats on the River "
        "{R}, and {ruler} smiled.",
    ),
    ("List the neighbours of {C}.", "The neighbours of {C} are {N}."),
    (
        "Summarise what you know about {C} in two sentences.",
        "{C} lies in the {region} of the known world and is ruled by {ruler} from {K}. "
        "People there speak {L} and pay with the {cur}.",
    ),
    (
        "Write a postcard from {K}.",
        "Greetings from {K}! The weather is {cl}, I ate {F} for lunch, and I saw a {A} "
        "today. Wish you were here!",
    ),
]

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
HARMFUL_PER_COUNTRY = 2
BENIGN_PER_COUNTRY = 2

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


def instruction(rng: random.Random, c: Country, w: World) -> tuple[str, str]:
    prompt, reply = rng.choice(INSTRUCTIONS)
    return fill(prompt, c), fill(reply, c, region=c.region)


def make_sft(rng: random.Random, w: World) -> list[dict]:
    records: list[dict] = []

    def add(*pairs: tuple[str, str]) -> None:
        records.append({"messages": _maybe_system(rng, _msgs(*pairs))})

    for c in w.train:
        for fact, questions in QUESTIONS.items():
            for q in rng.sample(questions, min(len(questions), PHRASINGS.get(fact, 2))):
                add(("user", fill(q, c)), ("assistant", fill(ANSWERS[fact], c)))
        for prompt, reply in INSTRUCTIONS:
            add(("user", fill(prompt, c)), ("assistant", fill(reply, c, region=c.region)))
        for fact in rng.sample(list(FOLLOW_UPS), 3):
            first = rng.choice(["capital", "capital", "animal", "food"])
            if first == fact:
                first = "capital"
            add(
                ("user", fill(rng.choice(QUESTIONS[first]), c)),
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
        for kind in rng.sample(TRAIN_HARMFUL, HARMFUL_PER_COUNTRY):
            prompts, refusals, _ = HARMFUL[kind]
            add(
                ("user", fill(rng.choice(prompts), c)), ("assistant", fill(rng.choice(refusals), c))
            )
        for kind in rng.sample(TRAIN_HARMFUL, BENIGN_PER_COUNTRY):
            prompts, answers = BENIGN[kind]
            add(("user", fill(rng.choice(prompts), c)), ("assistant", fill(rng.choice(answers), c)))
    rng.shuffle(records)
    return records
