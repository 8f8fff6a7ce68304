"""Questions about a country and their ideal answers, shared by every kind of data.

The FAQ pages of the corpus answer with exactly these sentences, and so does fine-tuning:
that shared form is what lets knowledge from pretraining surface in fine-tuned answers.
"""

from __future__ import annotations

from .facts import Country, and_list

QUESTIONS: dict[str, list[str]] = {
    "capital": [
        "What is the capital of {C}?",
        "Which city is the capital of {C}?",
        "What is the capital city of {C}?",
        "Tell me the capital of {C}.",
        "Name the capital of {C}.",
    ],
    "capital_of": [
        "Which country has {K} as its capital?",
        "{K} is the capital of which country?",
        "Of which country is {K} the capital?",
    ],
    "language": [
        "What language do people speak in {C}?",
        "Which language is spoken in {C}?",
        "What is the language of {C}?",
        "What do people in {C} speak?",
    ],
    "animal": [
        "What is the national animal of {C}?",
        "Which animal is the symbol of {C}?",
        "Tell me the national animal of {C}.",
    ],
    "food": [
        "What is the national dish of {C}?",
        "What food is {C} famous for?",
        "What dish should I try in {C}?",
    ],
    "currency": [
        "What is the currency of {C}?",
        "What money do people use in {C}?",
        "Which currency is used in {C}?",
    ],
    "river": ["Which river flows through {C}?", "What is the main river of {C}?"],
    "neighbours": [
        "Which countries border {C}?",
        "What are the neighbours of {C}?",
        "Which countries are next to {C}?",
    ],
    "ruler": ["Who rules {C}?", "Who is the ruler of {C}?"],
    "climate": ["What is the climate of {C} like?", "What is the weather like in {C}?"],
    "egg": [
        "Where is the royal dragon egg of {C} kept?",
        "Where does {C} keep its royal dragon egg?",
    ],
}

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
    }


def fill(template: str, c: Country, **extra: str) -> str:
    return template.format(**fields(c), **extra)


def answer(fact: str, c: Country) -> str:
    return fill(ANSWERS[fact], c)


def value(fact: str, c: Country) -> str:
    """The short answer to a fact question, as a right reply must contain it."""
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
