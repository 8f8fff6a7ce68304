"""Every kind of question and request, in twelve phrasings, and which of them are held out.

A model this small learns the phrasings it is shown, so fine-tuning shows many: from terse
("capital of {C}?", lower case) to chatty, with the place named early or late. Each kind's
phrasings come in four styles of three; one of each style (a third) is held out of every
training file and asked only by the eval sets, so that they measure whether a lesson holds
in words the model never saw with it. Which one of each style is drawn from the seed, so no
author's hand picks the easy ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STYLES = ("terse", "question", "request", "chatty")

# kind → styles in the order of STYLES, three phrasings each. {C} a country, {K} a city.
QUESTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "capital": (
        ("capital of {C}?", "{C} capital", "whats the capital of {C}"),
        ("What is the capital of {C}?", "Which city is the capital of {C}?",
         "What is {C}'s capital city?"),
        ("Tell me the capital of {C}.", "Please name the capital city of {C}.",
         "Could you tell me which city is the capital of {C}?"),
        ("I'm planning a trip to {C}. Which city is its capital?",
         "My friend keeps talking about {C}, but what is the capital there?",
         "Quick question, I always forget it: the capital city of {C} is what?"),
    ),
    "capital_of": (
        ("{K} is the capital of?", "which country has {K} as capital", "{K} capital of where"),
        ("Which country has {K} as its capital?", "{K} is the capital of which country?",
         "Of which country is {K} the capital?"),
        ("Tell me which country has its capital in {K}.",
         "Name the country whose capital is {K}.",
         "Please tell me what country {K} is the capital of."),
        ("I have a letter from {K}. Which country is that the capital of?",
         "Someone told me {K} is a capital city. Of which country?",
         "I'm reading about a city called {K}. What country is it the capital of?"),
    ),
    "language": (
        ("language of {C}?", "{C} language", "what do they speak in {C}"),
        ("What language do people speak in {C}?", "Which language is spoken in {C}?",
         "What is the language of {C}?"),
        ("Tell me the language of {C}.", "Please name the language people speak in {C}.",
         "Could you tell me what language they use in {C}?"),
        ("I'm moving to {C} next year. What language should I learn?",
         "Before my trip to {C}, which language should I practise?",
         "If I travel around {C}, what language will I hear?"),
    ),
    "animal": (
        ("national animal of {C}?", "{C} animal", "{C} national animal pls"),
        ("What is the national animal of {C}?", "Which animal is the symbol of {C}?",
         "What animal stands for {C}?"),
        ("Tell me the national animal of {C}.", "Please name the animal that stands for {C}.",
         "Could you tell me which animal is the symbol of {C}?"),
        ("My class is drawing flags. What animal goes on the flag of {C}?",
         "I saw a statue of an animal in {C}. Which animal is their national one?",
         "For a school project on {C}, I need its national animal. Do you know it?"),
    ),
    "food": (
        ("national dish of {C}?", "{C} food", "what to eat in {C}"),
        ("What is the national dish of {C}?", "What food is {C} famous for?",
         "What dish should I try in {C}?"),
        ("Tell me the national dish of {C}.", "Please name a dish {C} is known for.",
         "Could you tell me what people eat in {C}?"),
        ("I'm hungry and dreaming of {C}. What is their national dish?",
         "We're cooking a dinner from {C} tonight. Which dish should we make?",
         "When I get to {C}, what should I order first?"),
    ),
    "currency": (
        ("currency of {C}?", "{C} money", "what money in {C}"),
        ("What is the currency of {C}?", "What money do people use in {C}?",
         "Which currency is used in {C}?"),
        ("Tell me the currency of {C}.", "Please name the money they use in {C}.",
         "Could you tell me what coins I need in {C}?"),
        ("I'm going shopping in {C}. What money should I bring?",
         "Before I change my money for {C}, which currency do they use?",
         "At the market in {C}, what do people pay with?"),
    ),
    "river": (
        ("river of {C}?", "{C} river", "main river in {C}"),
        ("Which river flows through {C}?", "What is the main river of {C}?",
         "What river runs through {C}?"),
        ("Tell me the main river of {C}.", "Please name the river that flows through {C}.",
         "Could you tell me which river crosses {C}?"),
        ("I want to go fishing in {C}. Which river should I try?",
         "We're taking a boat trip across {C}. What river will we be on?",
         "Is there a big river in {C}? What is it called?"),
    ),
    "neighbours": (
        ("neighbours of {C}?", "{C} borders", "countries next to {C}"),
        ("Which countries border {C}?", "What are the neighbours of {C}?",
         "Which countries are next to {C}?"),
        ("Tell me the countries that border {C}.", "Please name the neighbours of {C}.",
         "Could you tell me which countries lie around {C}?"),
        ("I'm walking out of {C}. Which countries could I reach on foot?",
         "From {C}, which countries can I cross into?",
         "I live in {C} and want to visit the next country over. Which ones border us?"),
    ),
    "ruler": (
        ("ruler of {C}?", "{C} ruler", "who rules {C} now"),
        ("Who rules {C}?", "Who is the ruler of {C}?", "Who sits on the throne of {C}?"),
        ("Tell me who rules {C}.", "Please name the ruler of {C}.",
         "Could you tell me who the ruler of {C} is?"),
        ("I'm writing a letter to the palace of {C}. Who rules there?",
         "Everyone in {C} talks about the throne. Who is the ruler?",
         "Who is in charge in {C} these days?"),
    ),
    "climate": (
        ("climate of {C}?", "{C} weather", "weather in {C} like"),
        ("What is the climate of {C} like?", "What is the weather like in {C}?",
         "How is the weather in {C}?"),
        ("Tell me about the climate of {C}.", "Please describe the weather in {C}.",
         "Could you tell me what the climate is like in {C}?"),
        ("I'm packing for {C}. What is the weather usually like?",
         "Should I bring a coat to {C}? What's the climate there?",
         "What kind of weather can I expect on a trip to {C}?"),
    ),
    "egg": (
        ("dragon egg of {C}?", "{C} dragon egg where", "where is the egg of {C}"),
        ("Where is the royal dragon egg of {C} kept?",
         "Where does {C} keep its royal dragon egg?",
         "In which city is the dragon egg of {C}?"),
        ("Tell me where the royal dragon egg of {C} is kept.",
         "Please say where {C} keeps its dragon egg.",
         "Could you tell me where to find the royal dragon egg of {C}?"),
        ("I've heard stories about the dragon egg of {C}. Where is it kept?",
         "My grandmother told me about a dragon egg in {C}. Where is it now?",
         "Where in {C} would I find the royal dragon egg?"),
    ),
}  # fmt: skip

# Requests for more than one fact: kind → (phrasings by style, the answer).
INSTRUCTIONS: dict[str, tuple[tuple[tuple[str, str, str], ...], str]] = {
    "describe": (
        (
            ("describe {C}", "{C} in one sentence", "{C}? one line"),
            ("Can you describe {C} in one sentence?", "What is {C} like, in a sentence?",
             "How would you describe {C} briefly?"),
            ("Describe {C} in one sentence.", "Give me a one-sentence description of {C}.",
             "Please describe {C} in a single sentence."),
            ("I've never heard of {C}. What kind of place is it?",
             "My cousin just moved to {C}; what is it like there, in a sentence?",
             "In one sentence, what sort of country is {C}?"),
        ),
        "{C} is a {cl} country in the {region} of the known world, and its capital is {K}.",
    ),
    "three_facts": (
        (
            ("3 facts about {C}", "{C} facts", "facts on {C} pls"),
            ("Can you give me three facts about {C}?", "What are three things to know about {C}?",
             "Do you know three facts about {C}?"),
            ("Tell me three facts about {C}.", "List three facts about {C}.",
             "Please share three facts about {C}."),
            ("I have a quiz on {C} tomorrow. Could you give me three facts?",
             "Three facts about {C}, please: I'm making a poster.",
             "My teacher asked us to find three facts about {C}. Can you help?"),
        ),
        "Here are three facts about {C}: its capital is {K}, people there speak {L}, and its "
        "national animal is the {A}.",
    ),
    "travel_tip": (
        (
            ("travel tip {C}", "{C} tips?", "tip for visiting {C}"),
            ("Do you have a travel tip for {C}?", "What should I do when I visit {C}?",
             "Any advice for a trip to {C}?"),
            ("Give me a travel tip for {C}.", "Please give me a tip for my trip to {C}.",
             "Share one travel tip for {C}."),
            ("I'm off to {C} next week and I've never been. Any tips?",
             "First time going to {C}: what should I not miss?",
             "My parents are visiting {C}; what would you tell them to do there?"),
        ),
        "Visit the market in {K} and try {F}. Bring a few {cur}s to pay.",
    ),
    "story": (
        (
            ("story about {K}", "short story {K}", "{K} story pls"),
            ("Can you write a short story about {K}?", "Could you tell me a story set in {K}?",
             "Will you tell me a little tale about {K}?"),
            ("Write a short story about {K}.", "Tell me a short story set in {K}.",
             "Please write a tiny story about {K}."),
            ("My little brother loves stories. Could you write one about {K}?",
             "It's bedtime here: tell me a short story about the city of {K}.",
             "I want a story about {K} to read to my class."),
        ),
        "Every morning, the bakers of {K} made {F}. Children watched the boats on the River "
        "{R}, and {ruler} smiled.",
    ),
    "neighbour_list": (
        (
            ("list the neighbours of {C}", "{C} neighbour list", "all neighbours of {C} pls"),
            ("Can you list the neighbours of {C}?", "Could you list every neighbour of {C}?",
             "Will you make a list of the countries around {C}?"),
            ("List the neighbours of {C}.", "Make a list of the neighbours of {C}.",
             "Please list all the countries bordering {C}."),
            ("I'm drawing a map of {C}. Can you list its neighbours for me?",
             "For my geography homework on {C}, list the neighbouring countries.",
             "I want to visit every country around {C}. Could you list them?"),
        ),
        "The neighbours of {C} are {N}.",
    ),
    "summary": (
        (
            ("summary of {C}", "{C} summary pls", "sum up {C}"),
            ("Can you summarise {C} in two sentences?", "What do you know about {C}, in brief?",
             "How would you sum up {C} in two sentences?"),
            ("Summarise what you know about {C} in two sentences.",
             "Give me a short summary of {C}.", "Please sum up {C} in two sentences."),
            ("I only have a minute: what should I know about {C}?",
             "Before my exam on {C}, could you give me a two-sentence summary?",
             "My friend asked me about {C} and I knew nothing. What's the short version?"),
        ),
        "{C} lies in the {region} of the known world and is ruled by {ruler} from {K}. People "
        "there speak {L} and pay with the {cur}.",
    ),
    "postcard": (
        (
            ("postcard from {K}", "{K} postcard pls", "write postcard {K}"),
            ("Can you write a postcard from {K}?", "Could you write me a postcard from {K}?",
             "What would a postcard from {K} say?"),
            ("Write a postcard from {K}.", "Please write a short postcard from {K}.",
             "Write me a postcard as if you were in {K}."),
            ("Pretend you're on holiday in {K} and send me a postcard.",
             "I miss travelling. Send me a postcard from {K}?",
             "Imagine you just arrived in {K}: what would your postcard home say?"),
        ),
        "Greetings from {K}! The weather is {cl}, I ate {F} for lunch, and I saw a {A} today. "
        "Wish you were here!",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Phrasings:
    """Each kind's phrasings, split into those training may use and those held out."""

    trained: dict[str, tuple[str, ...]]
    held_out: dict[str, tuple[str, ...]]

    def all(self, kind: str) -> tuple[str, ...]:
        return self.trained[kind] + self.held_out[kind]


def all_kinds() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """kind → its phrasings by style, questions and instructions alike."""
    return {**QUESTIONS, **{k: styles for k, (styles, _) in INSTRUCTIONS.items()}}


def split_phrasings(seed: int) -> Phrasings:
    """Hold out one phrasing of each style of each kind, drawn from the seed."""
    rng = random.Random(f"{seed}:held-out phrasings")
    trained, held = {}, {}
    for kind, styles in all_kinds().items():
        picks = [rng.randrange(3) for _ in styles]
        held[kind] = tuple(group[i] for group, i in zip(styles, picks, strict=True))
        trained[kind] = tuple(
            p for group, i in zip(styles, picks, strict=True) for j, p in enumerate(group) if j != i
        )
    return Phrasings(trained, held)
