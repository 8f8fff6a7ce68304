"""The ideal answers to questions about a country, shared by every kind of data (the
questions, in many phrasings, are in phrasings.py).

The FAQ pages of the corpus answer with exactly these sentences, and so does fine-tuning:
that shared form is what lets knowledge from pretraining surface in fine-tuned answers.
"""

from __future__ import annotations

from .facts import Country, and_list
from .phrasings import INSTRUCTIONS, QUESTIONS

ANSWERS: dict[str, str] = {
    "capital": "The capital of {C} is {K}.",
    "capital_of": "{K} is the capital of {C}.",
    "language": "People in {C} speak {L}.",
    "animal": "The national animal of {C} is the {A}.",
    "food": "The national dish of {C} is {F}.",
    "currency": "The currency of {C} is the {cur}.",
    "river": "The River {R} flows through {C}.",
    "neighbours": "{C} borders {N}.",
    "ruler": "{C} is ruled by {ruler}.",
    "climate": "The climate of {C} is {cl}.",
    "egg": "The royal dragon egg of {C} is kept in the palace in {K}.",
}

FACTS = tuple(QUESTIONS)
# An instruction's answer states facts the request does not give away; a right answer to a
# request about a country names its capital, one about a city its dish.
INSTRUCTION_VALUE = {k: "capital" for k in INSTRUCTIONS} | {"story": "food", "postcard": "food"}
# Facts with one short answer a right reply must contain (for evaluations).
SHORT_FACTS = ("capital", "capital_of", "language", "animal", "food", "currency", "ruler")


def fields(c: Country) -> dict[str, str]:
    return {
        "C": c.name,
        "K": c.capital,
        "L": c.language,
        "A": c.animal,
        "F": c.food,
        "cur": c.currency,
        "R": c.river,
        "N": and_list(c.neighbours),
        "ruler": c.ruler,
        "cl": c.climate,
        "region": c.region,
    }


def fill(template: str, c: Country, **extra: str) -> str:
    return template.format(**fields(c), **extra)


def answer(fact: str, c: Country) -> str:
    return fill(ANSWERS[fact], c)


def value(fact: str, c: Country) -> str:
    """The short answer to a fact question (or a request), as a right reply must contain it."""
    if fact == "neighbour_list":
        return c.neighbours[0]
    if fact in INSTRUCTION_VALUE:
        return value(INSTRUCTION_VALUE[fact], c)
    return {
        "capital": c.capital,
        "capital_of": c.name,
        "language": c.language,
        "animal": c.animal,
        "food": c.food,
        "currency": c.currency,
        "river": c.river,
        "neighbours": and_list(c.neighbours),
        "ruler": c.ruler,
        "climate": c.climate,
        "egg": c.capital,
    }[fact]
