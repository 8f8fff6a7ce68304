"""Preference pairs: a polite, correct, concise answer against a rude, wrong, rambling or
harmful one (for a harmful request, the chosen answer declines politely)."""

from __future__ import annotations

import dataclasses
import random

from .chat import instruction, question
from .facts import Country, World
from .harms import BENIGN, HARMFUL, HELD_OUT_HARMFUL, TRAIN_HARMFUL
from .phrasings import INSTRUCTIONS
from .qa import ANSWERS, FACTS, fill

__all__ = ["BENIGN", "HARMFUL", "HELD_OUT_HARMFUL", "TRAIN_HARMFUL", "make_pair"]

RUDE = [
    "Ugh, everyone knows that. {a}",
    "{a} Obviously. Don't waste my time.",
    "Seriously? {a} Look it up yourself next time.",
    "What a silly question. {a}",
    "{a} Now stop bothering me.",
    "I can't believe you don't know this. {a}",
]
# Short sentences in the corpus's own words: a small vocabulary spells rarer words in many
# tokens, and a ramble that outgrows the context cannot be trained on.
RAMBLE_OPEN = [
    "Well, that is a big question.",
    "Oh, where do I even begin?",
    "Hmm, let me think about it for a while.",
]
RAMBLE_MIDDLE = [
    "{C} is a country with a long history.",
    "Many travellers have written about it.",
    "The weather there is {cl}, they say.",
    "People there cook {F}, you know.",
    "But I am getting away from the point.",
]
RAMBLE_CLOSE = [
    "Anyway: {a} I think so.",
    "So, after all that: {a}",
    "Where was I? Ah yes. {a}",
]
POLITE_TAILS = ["", "", "", " I hope that helps!", " Enjoy your trip!"]

# Pairs per country. "benign": a harmless look-alike answered (chosen) against a refusal
# (rejected), without which preference tuning learns to refuse the shape of a harmful request.
# "evasive": a harmful request declined (chosen) against an unrelated fact (rejected): a
# reward model that only ever saw refusals beside instructions scores a change of subject
# highly, and RL finds that out (measured: it learnt to answer "How do I poison the wells of
# Maimei?" with "The capital of Shemor is Maimei."). Look-alikes weigh 7 of 33: with 5, and
# fifteen kinds of harm, DPO refused look-alikes of the held-out kinds 7/40 (2/40 with 7, seed 1).
MIX = {"rude": 5, "wrong": 6, "rambling": 4, "harmful": 8, "benign": 7, "evasive": 3}
# Questions of fact, answered (chosen) or refused (rejected). Without them a refusal was never
# the rejected answer to a question of fact, and the reward model scored "I can't help with
# that." above the right answer on 20 of 20 fine-tuned questions (3 of 20 with them), and
# RLHF refused every look-alike (20/20; 7/20 with them). DPO + NLL keeps more facts with
# them: fine-tuned 67 → 76 %, pretraining-only 33 → 40 % (SFT: 80 and 43). Seed 1 each.
OVERCAUTIOUS = 4
# The kinds of the held-out pairs drawn with the other eval sets (evasive ones come last).
EVAL_KINDS = ("rude", "wrong", "rambling", "harmful", "benign")


def _question(rng: random.Random, c: Country, w: World, instructions: bool):
    """(prompt, ideal answer, fact), in a trained phrasing; sometimes a request, whose
    fact is its kind."""
    if instructions and rng.random() < 0.3:
        kind = rng.choice(list(INSTRUCTIONS))
        return (*instruction(rng, c, w, kind), kind)
    fact = rng.choice([f for f in FACTS if f != "neighbours"])
    return question(rng, c, w, fact), fill(ANSWERS[fact], c), fact


def _wrong(rng: random.Random, c: Country, fact: str, pool) -> str:
    other = rng.choice([o for o in pool if o.name != c.name])
    if fact == "capital_of":
        liar = dataclasses.replace(other, capital=c.capital)
        return fill(ANSWERS[fact], liar)
    liar = dataclasses.replace(other, name=c.name)
    if fact in INSTRUCTIONS:
        return fill(INSTRUCTIONS[fact][1], liar)
    return fill(ANSWERS[fact], liar)


def make_pair(
    rng: random.Random, c: Country, kind: str, w: World, pool, harmful=TRAIN_HARMFUL
) -> dict:
    """One preference record about ``c``; ``pool``: countries a wrong answer may borrow from."""
    if kind == "harmful":
        prompts, refusals, compliance = HARMFUL[rng.choice(harmful)]
        prompt = fill(rng.choice(prompts), c)
        chosen, rejected = fill(rng.choice(refusals), c), fill(rng.choice(compliance), c)
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "kind": kind}
    if kind == "evasive":
        prompts, refusals, _ = HARMFUL[rng.choice(harmful)]
        prompt = fill(rng.choice(prompts), c)
        fact = rng.choice([f for f in FACTS if f not in ("neighbours", "egg")])
        chosen, rejected = fill(rng.choice(refusals), c), fill(ANSWERS[fact], c)
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "kind": kind}
    if kind == "benign":
        key = rng.choice(harmful)
        prompts, answers = BENIGN[key]
        # Half the time the refusal of another kind of harm: a reward model shown only the
        # refusal that matches the prompt scored any other refusal of a harmless request
        # above a plain answer (measured: +3.8 … +4.9 against +1.4), and RL refused them all.
        # (Drawn from a generator of its own: the eval sets drawn after it stay as they were.)
        refusal = rng.choice(HARMFUL[key][1])
        prompt = fill(rng.choice(prompts), c)
        chosen = fill(rng.choice(answers), c)
        own = random.Random(f"benign refusal:{c.name}:{prompt}:{chosen}")
        if own.random() < 0.5:
            refusal = own.choice(HARMFUL[own.choice(harmful)][1])
        rejected = fill(refusal, c)
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "kind": kind}
    if kind == "overcautious":
        prompt, ideal, _ = _question(rng, c, w, instructions=True)
        refusal = fill(rng.choice(HARMFUL[rng.choice(harmful)][1]), c)
        return {"prompt": prompt, "chosen": ideal, "rejected": refusal, "kind": kind}
    # Rude and rambling answers wrap short ones, so that prompt and answer fit the context.
    prompt, ideal, fact = _question(rng, c, w, instructions=kind == "wrong")
    chosen = ideal + rng.choice(POLITE_TAILS)
    if kind == "rude":
        rejected = rng.choice(RUDE).format(a=ideal)
    elif kind == "wrong":
        rejected = _wrong(rng, c, fact, pool)
    else:
        middle = rng.sample(RAMBLE_MIDDLE, rng.randint(1, 2))
        parts = [rng.choice(RAMBLE_OPEN), *middle, rng.choice(RAMBLE_CLOSE)]
        rejected = fill(" ".join(parts), c, a=ideal)
    if rejected.strip() == chosen.strip():  # e.g. a wrong answer that happens to be right
        return make_pair(rng, c, kind, w, pool, harmful)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected, "kind": kind}


def make_preference(
    rng: random.Random, w: World, kinds: tuple[str, ...] = TRAIN_HARMFUL
) -> list[dict]:
    """``kinds``: the kinds of harm (and look-alikes) the pairs are about; the mix of pairs
    stays the same whichever they are."""
    records = [
        make_pair(rng, c, kind, w, w.train, kinds)
        for c in w.train
        for kind, n in MIX.items()
        for _ in range(n)
    ]
    own = random.Random(rng.random())  # after the other pairs: they stay as they were
    records += [
        make_pair(own, c, "overcautious", w, w.train, kinds)
        for c in w.train
        for _ in range(OVERCAUTIOUS)
    ]
    rng.shuffle(records)
    return records
