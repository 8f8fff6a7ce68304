"""The world's held-out phrasings and kinds of harm are in no training file.

Generated fresh from the generator with a seed, not read from the committed folder (which
test_scenarios compares with the generator). What "in no training file" means is written in
scenarios/FORMAT.md ("The built-in scenario"): a held-out phrasing, filled with any place of
the world, is never asked as a whole question or request in the corpus, the fine-tuning or
the preference data (the corpus may state a fact in the same words: "The capital of X is Y"
is not the question "capital of X?"); a held-out kind of harm has no request, refusal,
compliance or look-alike in any of them, and its words are in no fine-tuning or preference
file at all; the corpus tells of it only in story words.
"""

from __future__ import annotations

import json
import re

import pytest

from scenarios.world_gen import generate_world
from scenarios.worldgen.corpus_harm import TALES
from scenarios.worldgen.facts import World, make_world
from scenarios.worldgen.harms import BENIGN, CONCEPT_WORDS, HARMFUL, HELD_OUT_HARMFUL
from scenarios.worldgen.phrasings import STYLES, all_kinds
from scenarios.worldgen.qa import fill

# (seed, countries, corpus KB): the default world, and a small one of another seed.
WORLDS = [(1234, 40, 300), (7, 12, 40)]


def training_texts(files: dict[str, str]) -> dict[str, str]:
    """Each training file's text, the JSONL ones as their messages, one a line."""
    sft = [m["content"] for line in files["sft.jsonl"].splitlines()
           for m in json.loads(line)["messages"]]  # fmt: skip
    pairs = [json.loads(line) for line in files["preference.jsonl"].splitlines()]
    preference = [p[k] for p in pairs for k in ("prompt", "chosen", "rejected")]
    return {
        "corpus.txt": files["corpus.txt"],
        "sft.jsonl": "\n".join(sft),
        "preference.jsonl": "\n".join(preference),
    }


def asked_in(text: str, phrase: str) -> bool:
    """Is ``phrase`` asked in ``text`` as a whole question or request: its words (any case,
    its end's punctuation aside) with no word running on either side of them?"""
    needle = phrase.lower().rstrip(".?! ")
    low = text.lower()
    start = low.find(needle)
    while start >= 0:
        before = low[:start].rstrip(" ")[-1:]
        after = low[start + len(needle) :].lstrip(" ")[:1]
        if not before.isalnum() and not after.isalnum():
            return True
        start = low.find(needle, start + 1)
    return False


def filled(template: str, w: World) -> set[str]:
    return {fill(template, c) for c in w.countries}


def held_out_phrases(w: World) -> dict[str, set[str]]:
    """What no training file may ask: held-out phrasings, and every line of a held-out kind
    of harm (its requests, refusals, compliance, look-alikes and their answers)."""
    out = {f"{kind} phrasing {t!r}": filled(t, w)
           for kind, held in w.phrasings.held_out.items() for t in held}  # fmt: skip
    for kind in HELD_OUT_HARMFUL:
        requests, refusals, compliance = HARMFUL[kind]
        lookalikes, answers = BENIGN[kind]
        for t in [*requests, *refusals, *compliance, *lookalikes, *answers]:
            out[f"held-out harm {kind}: {t!r}"] = filled(t, w)
    return out


def leaks(files: dict[str, str], w: World) -> list[str]:
    texts = training_texts(files)
    found = []
    for what, phrases in held_out_phrases(w).items():
        for name, text in texts.items():
            hit = next((p for p in sorted(phrases) if asked_in(text, p)), None)
            if hit:
                found.append(f"{name} asks {hit!r} ({what})")
    for kind in HELD_OUT_HARMFUL:
        words = re.compile(r"\b(" + "|".join(CONCEPT_WORDS[kind]) + r")\b", re.IGNORECASE)
        for name in ("sft.jsonl", "preference.jsonl"):
            if m := words.search(texts[name]):
                found.append(f"{name} has {m.group(0)!r}, a word of held-out harm {kind}")
    return found


@pytest.fixture(scope="module", params=WORLDS, ids=lambda p: f"seed{p[0]}")
def generated(request) -> tuple[dict[str, str], World]:
    seed, n, kb = request.param
    return generate_world(seed, n, kb), make_world(seed, n)


def test_no_held_out_phrasing_or_kind_of_harm_is_in_a_training_file(generated) -> None:
    files, w = generated
    assert leaks(files, w) == []


def test_the_check_finds_a_leak(generated) -> None:
    """A held-out phrasing or harm put into a training file is found, wherever it goes."""
    files, w = generated
    c = w.train[0]
    phrasing = fill(w.phrasings.held_out["capital"][0], c)
    harm = fill(HARMFUL[HELD_OUT_HARMFUL[0]][0][0], c)
    faq = f"Q: {phrasing}\nA: The capital of {c.name} is {c.capital}."
    sft = json.dumps({"messages": [{"role": "user", "content": f"Hi! {harm.lower()}"},
                                   {"role": "assistant", "content": "I can't help."}]})  # fmt: skip
    assert any(phrasing in leak for leak in leaks({**files, "corpus.txt": faq}, w))
    leaked = leaks({**files, "sft.jsonl": sft + "\n"}, w)
    assert any(HELD_OUT_HARMFUL[0] in leak for leak in leaked)
    # A statement in the same words is not the question.
    statement = f"Everyone knows the {phrasing.rstrip('?')} is {c.capital}."
    assert not asked_in(statement, phrasing)


def test_variety_twelve_phrasings_a_kind_a_third_held_out_and_used(generated) -> None:
    files, w = generated
    texts = training_texts(files)
    training = "\n".join(texts.values())
    for kind, styles in all_kinds().items():
        assert len(styles) == len(STYLES) and all(len(g) == 3 for g in styles), kind
        assert len(w.phrasings.trained[kind]) == 8 and len(w.phrasings.held_out[kind]) == 4
        # Every trained phrasing is used: the variety is in the data, not just in the code.
        for t in w.phrasings.trained[kind]:
            assert any(asked_in(training, p) for p in filled(t, w)), (kind, t)
    assert len(HARMFUL) >= 12 and 3 * len(HELD_OUT_HARMFUL) >= len(HARMFUL)
    assert set(BENIGN) == set(HARMFUL)


def test_eval_sets_ask_what_training_held_out(generated) -> None:
    files, w = generated

    def prompts(name: str) -> set[str]:
        return {json.loads(line)["prompt"] for line in files[f"eval_{name}.jsonl"].splitlines()}

    held = {p for kind in w.phrasings.held_out.values() for t in kind for p in filled(t, w)}
    for name in ("finetuned_new", "pretrain_only_new"):
        assert prompts(name) and prompts(name) <= held, name
    harm = {p for k in HELD_OUT_HARMFUL for t in HARMFUL[k][0] for p in filled(t, w)}
    look = {p for k in HELD_OUT_HARMFUL for t in BENIGN[k][0] for p in filled(t, w)}
    assert prompts("harmful_new") and prompts("harmful_new") <= harm
    assert prompts("benign_new") and prompts("benign_new") <= look
    # Every held-out kind of harm is told in the corpus, as harm, in its own words.
    for kind in HELD_OUT_HARMFUL:
        assert TALES[kind] and re.search(
            r"\b(" + "|".join(CONCEPT_WORDS[kind]) + r")\b", files["corpus.txt"], re.I
        ), kind
