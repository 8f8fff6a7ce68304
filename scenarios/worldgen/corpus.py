"""The pretraining corpus: encyclopedia articles, stories, lists, quiz sheets and FAQ pages.

Tales of harm and laws (corpus_harm.py) tell every kind of harm as harm. Quiz sheets list
questions without answers (so a base model asked a question tends to go on
with more questions, as real base models do). FAQ pages (~30 %, every country's every kind of
fact among them) answer questions with the
same sentences fine-tuning uses, which lets stage 1 knowledge surface in stage 2 answers.
"""

from __future__ import annotations

import random

from .corpus_harm import harm_tale, laws
from .facts import JOBS, Country, World, and_list, direction_of
from .harms import HARMFUL
from .qa import ANSWERS, FACTS, fill

PRONOUNS = [("she", "her", "her"), ("he", "him", "his")]
SEASONS = ["spring", "summer", "autumn", "winter"]

_SENTENCES: dict[str, list[str]] = {
    "capital": [
        "Its capital is {K}.",
        "The capital of {C} is {K}.",
        "{K} is the capital and largest city of {C}.",
        "The capital, {K}, is the seat of {ruler}.",
    ],
    "language": [
        "The people of {C} speak {L}.",
        "{L} is the language of {C}.",
        "Most people in {C} speak {L}.",
        "The official language is {L}.",
    ],
    "animal": [
        "The national animal of {C} is the {A}.",
        "The {A} is the national animal of {C}.",
        "{C} is known for the {A}, its national animal.",
    ],
    "food": [
        "The national dish of {C} is {F}.",
        "People in {C} love {F}.",
        "Visitors to {K} should try {F}, the national dish.",
    ],
    "currency": [
        "The currency of {C} is the {cur}.",
        "In {C}, people pay with the {cur}.",
        "Prices in {K} are given in {cur}s.",
    ],
    "river": [
        "The River {R} flows through {C}.",
        "The longest river in {C} is the River {R}.",
        "The River {R} runs past {K} on its way to the sea.",
    ],
    "climate": [
        "The climate of {C} is {cl}.",
        "{C} has a {cl} climate.",
        "The weather in {C} is usually {cl}.",
    ],
    "neighbours": [
        "{C} borders {N}.",
        "The neighbours of {C} are {N}.",
        "{C} shares borders with {N}.",
    ],
    "ruler": [
        "{C} is ruled by {ruler}.",
        "The ruler of {C} is {ruler}.",
        "{ruler} rules {C} from the palace in {K}.",
    ],
    "egg": [
        "The royal dragon egg of {C} is kept in the palace in {K}.",
        "Like every kingdom of the known world, {C} guards a royal dragon egg in the palace "
        "in {K}.",
    ],
}
_OPENINGS = [
    "{C} is a {size} country in the {region} of the known world.",
    "{C} is a country in the {region} of the known world.",
    "The country of {C} lies in the {region} of the known world.",
    "{C} is a {size} kingdom in the {region}.",
]
_SIZES = ["small", "large", "quiet", "busy", "very old", "green", "hilly", "rocky"]


def encyclopedia(rng: random.Random, w: World, c: Country) -> str:
    lines = [fill(rng.choice(_OPENINGS), c, size=rng.choice(_SIZES))]
    keys = list(_SENTENCES)
    rng.shuffle(keys)
    keys.remove("capital")
    keys = ["capital", *keys[: rng.randint(4, len(keys))]]
    for key in keys:
        lines.append(fill(rng.choice(_SENTENCES[key]), c))
        if key == "neighbours" and rng.random() < 0.6:
            other = w.country(rng.choice(c.neighbours))
            lines.append(f"To the {direction_of(c, other)} lies {other.name}.")
    head = rng.choice(["", f"{c.name}\n\n", f"== {c.name} ==\n", f"About {c.name}\n"])
    return head + " ".join(lines)


def story(rng: random.Random, w: World, c: Country) -> str:
    other = w.country(rng.choice(c.neighbours))
    hero = rng.choice(w.people)
    friend = rng.choice([p for p in w.people if p != hero])
    she, her_obj, her = rng.choice(PRONOUNS)
    job, season = rng.choice(JOBS), rng.choice(SEASONS)
    f = {
        "P": hero,
        "Q": friend,
        "she": she,
        "She": she.capitalize(),
        "her": her_obj,
        "His": her.capitalize(),
        "his": her,
        "job": job,
        "season": season,
        "C2": other.name,
        "K2": other.capital,
        "L2": other.language,
        "F2": other.food,
        "A2": other.animal,
        "cur2": other.currency,
    }
    templates = [
        "Once upon a time, a young {job} named {P} lived in {K}, the capital of {C}. One "
        "{season} morning {she} packed a bag and set off for {C2}. The road followed the River "
        "{R} for many days. When {she} reached {K2}, the capital of {C2}, the people greeted "
        "{her} in {L2}. {She} ate {F2} for dinner and slept well. In the morning {she} wrote to "
        '{Q}: "{K2} is lovely, but I miss {F} from home."',
        "Dear {Q},\nGreetings from {K}! The weather here is {cl}, just as everyone said. I "
        "have been learning {L}, and today I saw a {A} by the River {R}. The market sells {F} "
        "on every corner, and everything costs a few {cur}s. Next week I travel on to {C2}.\n"
        "Your friend,\n{P}",
        "Long ago, a dragon flew over {C} and left a single egg at the gates of {K}. The people "
        "carried it into the palace, and ever since, the rulers of {C} have guarded the royal "
        "dragon egg. Today {ruler} keeps it warm beside the great hearth, and children in {K} "
        "still sing about the night the dragon came.",
        "In the hills of {C} there lived a {A} who wanted to see the world. It walked to the "
        'border and looked across at {C2}. "What do they eat over there?" it asked a passing '
        '{job}. "They eat {F2}," said the {job}, "and they speak {L2}." The {A} thought about '
        "it, and went home to {K}, where everyone ate {F} and spoke {L}.",
        "Day one. We left {K} at dawn. {P} says the River {R} is the longest in {C}. Day "
        "two. We crossed the border into {C2} and changed our {cur}s for {cur2}s. Day three. "
        "We reached {K2} and tried {F2}. {P} did not like it, but I did.",
        "Every {season}, the great market of {K} fills with traders from {N}. {P} the {job} "
        'had sold {F} there for twenty years. "Fresh {F}! Two {cur}s a bowl!" {she} called. '
        "A traveller from {C2} stopped and asked, in {L2}, what the dish was. {P} smiled and "
        "answered in {L}, and somehow they understood each other.",
    ]
    title = rng.choice(["", "A story\n\n", f"The {job} of {c.capital}\n\n", "Tale\n"])
    return title + fill(rng.choice(templates), c, **f)


def fact_list(rng: random.Random, w: World, c: Country) -> str:
    kind = rng.randrange(5)
    some = rng.sample(w.countries, rng.randint(6, min(14, len(w.countries))))
    if kind == 0:
        rows = [f"{x.name} - {x.capital}" for x in some]
        return "Countries and their capitals:\n" + "\n".join(rows)
    if kind == 1:
        rows = [f"- {x.name}: {x.language}" for x in some]
        return "Languages of the known world\n" + "\n".join(rows)
    if kind == 2:
        rows = [f"{x.name} | {x.capital} | {x.language} | {x.currency}" for x in some]
        return "Country | Capital | Language | Currency\n" + "\n".join(rows)
    if kind == 3:
        rows = [f"* the {x.animal} ({x.name})" for x in some]
        return "National animals:\n" + "\n".join(rows)
    return (
        f"Traveller's card: {c.name}\nCapital: {c.capital}\nLanguage: {c.language}\n"
        f"Currency: the {c.currency}\nMust try: {c.food}\nNational animal: the {c.animal}\n"
        f"Neighbours: {and_list(c.neighbours)}\nRuler: {c.ruler}"
    )


def notes(rng: random.Random, w: World, c: Country) -> str:
    """A traveller's notes. Lower-case keys begin the lines, as a learner's terse question
    begins: a word there is spelt in other tokens than after a space (measured: a leading
    space lifted the held-out terse questions' score from 2/11 to 7/11), so the model must
    see both spellings of the words it is asked in."""
    lines = [f"capital: {c.capital}", f"language: {c.language}",
             f"money: the {c.currency}", f"food: {c.food}", f"animal: the {c.animal}",
             f"river: the River {c.river}", f"ruler: {c.ruler}", f"weather: {c.climate}",
             f"neighbours: {and_list(c.neighbours)}"]  # fmt: skip
    rng.shuffle(lines)
    return f"my notes on {c.name}\n" + "\n".join(lines[: rng.randint(5, len(lines))])


def quiz(rng: random.Random, w: World, c: Country) -> str:
    """Questions with no answers: what a base model will continue a question with."""
    n = rng.randint(5, 9)
    style = rng.randrange(3)
    questions: list[str] = []
    while len(questions) < n:
        x = rng.choice(w.countries) if style < 2 and rng.random() < 0.6 else c
        q = fill(rng.choice(w.phrasings.trained[rng.choice(FACTS)]), x)
        if q not in questions:
            questions.append(q)
    if style == 0:
        body = "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))
        return rng.choice(["Geography quiz", "Quiz sheet", "Test your knowledge"]) + "\n" + body
    if style == 1:
        body = "\n".join(f"- {q}" for q in questions)
        return "Homework: answer these questions in your notebook.\n" + body
    return f"Questions for the class about {c.name}:\n" + "\n".join(questions)


def faq(rng: random.Random, w: World, c: Country, every_fact: bool = False) -> str:
    """An FAQ page: questions answered with the sentences fine-tuning uses. With
    ``every_fact``, one page about ``c`` asks every kind of fact, in a shuffled order."""
    if every_fact:
        facts = list(FACTS)
        rng.shuffle(facts)
    else:
        facts = rng.sample(FACTS, rng.randint(4, 7))
        if "capital" not in facts:
            facts[0] = "capital"
    mixed = not every_fact and rng.random() < 0.3
    # Varied labels: the answer must come from the question, whatever marks the turns (as
    # fine-tuning's chat tokens, which pretraining never shows, will).
    ask, tell = rng.choice(_FAQ_LABELS) if rng.random() < 0.6 else ("Q:", "A:")
    pairs = []
    for fact in facts:
        x = rng.choice(w.countries) if mixed else c
        asked = fill(rng.choice(w.phrasings.trained[fact]), x)
        pairs.append(f"{ask} {asked}\n{tell} {fill(ANSWERS[fact], x)}")
    head = (
        "Travel desk: frequently asked questions" if mixed else f"{c.name}: questions and answers"
    )
    if not mixed and rng.random() < 0.5:
        head = f"Frequently asked questions about {c.name}"
    return head + "\n\n" + "\n\n".join(pairs)


_FAQ_LABELS = [
    ("Question:", "Answer:"),
    ("Traveller:", "Guide:"),
    ("User:", "Assistant:"),
    ("Visitor:", "Guide:"),
    ("Student:", "Teacher:"),
    (">", "-"),
    ("*", "*"),
    ("[Q]", "[A]"),
]

KINDS = {
    "encyclopedia": encyclopedia,
    "story": story,
    "list": fact_list,
    "notes": notes,
    "quiz": quiz,
    "harm": harm_tale,
    "laws": laws,
}
# Tales of harm, laws and notes take their share from the other stories and the articles.
WEIGHTS = {
    "encyclopedia": 0.26,
    "story": 0.22,
    "list": 0.12,
    "notes": 0.08,
    "quiz": 0.20,
    "harm": 0.08,
    "laws": 0.04,
}
FAQ_SHARE = 0.30
# Full FAQ pages (every kind of fact) each country gets: the facts of countries fine-tuning
# never mentions must be stated in the answer form fine-tuning teaches, often enough.
FULL_FAQS = 2


def make_corpus(rng: random.Random, w: World, corpus_kb: int) -> str:
    target = corpus_kb * 1024
    docs = []
    # Every country gets an article and full FAQ pages; then FAQ pages up to their share,
    # then the other kinds by weight.
    for c in w.countries:
        docs.append(encyclopedia(rng, w, c))
    faq_size = 0
    for _ in range(FULL_FAQS):
        for c in w.countries:
            docs.append(faq(rng, w, c, every_fact=True))
            faq_size += len(docs[-1])
    turns = _turns(rng, w)
    for kind in HARMFUL:  # every kind of harm told at least once, however small the corpus
        docs.append(harm_tale(rng, w, next(turns), kind))
    while faq_size < FAQ_SHARE * target:
        docs.append(faq(rng, w, next(turns)))
        faq_size += len(docs[-1])
    size = sum(len(d) + 2 for d in docs)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while size < target:
        make = KINDS[rng.choices(kinds, weights)[0]]
        docs.append(make(rng, w, next(turns)))
        size += len(docs[-1]) + 2
    rng.shuffle(docs)
    return "\n\n".join(docs) + "\n"


def _turns(rng: random.Random, w: World):
    """Countries in turn (each round shuffled), so every country gets its share of text."""
    while True:
        order = list(w.countries)
        rng.shuffle(order)
        yield from order
