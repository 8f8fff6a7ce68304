"""Is an answer well-formed: fluent, whatever it says? Three rules, each a fault a small
model falls into when a later stage pulls it off its training distribution:

  words    every word is a word of the training files (corpus, fine-tuning, preference)
           or of the prompt: no "seee", "protecaa", "stillininin"
  repeat   no word or phrase of up to three words comes three times running ("stew for
           stew for stew for")
  end      the turn ends: the model closed it, rather than running out of tokens

Whether the answer is right is the other evals' business. No torch here.
"""

from __future__ import annotations

import re
import weakref

from model.protocol import EvalAnswer, EvalRow

# Runs of letters and digits: "can't" is "can" and "t", "Lilan's" is "lilan" and "s", so a
# possessive or a contraction of known words is known.
WORD = re.compile(r"[^\W_]+")
TRAILING_WORD = re.compile(r"[^\W_]+\Z")
# A phrase this long or shorter, three times running, is a loop, not style.
LONGEST_REPEAT = 3
TIMES = 3
# The rules, in the order a failed answer names them; the row's note says how many broke each.
RULES = {
    "words": "a word no training file has",
    "repeat": "a word or phrase three times running",
    "end": "no end to the turn",
}
# The set of eval answers the failed ones are kept under (EvalTable.answers), the rules
# each broke in its ``expected``, comma-separated.
SET = "well_formed"

_vocabularies: dict[int, tuple[weakref.ref, frozenset[str]]] = {}


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def training_words(scenario) -> frozenset[str]:
    """Every word of the scenario's training files, built once per scenario object: the
    evals of every stage and every set ask for it."""
    key = id(scenario)
    held = _vocabularies.get(key)
    if held is not None and held[0]() is scenario:
        return held[1]
    texts = [scenario.corpus]
    texts += [m.content for c in scenario.sft_examples for m in c.messages]
    for pair in scenario.preference_pairs:
        texts += [m.content for m in pair.prompt] + [pair.chosen, pair.rejected]
    vocabulary = frozenset(w for text in texts for w in words(text))
    # Forgotten with the scenario, so an id reused by a later object never finds it.
    _vocabularies[key] = (weakref.ref(scenario, lambda _, k=key: _vocabularies.pop(k, None)),
                          vocabulary)  # fmt: skip
    return vocabulary


def repeats(said: list[str]) -> bool:
    """Does a run of 1 to LONGEST_REPEAT words come TIMES times in a row?"""
    for n in range(1, LONGEST_REPEAT + 1):
        for i in range(len(said) - TIMES * n + 1):
            phrase = said[i : i + n]
            if all(said[i + k * n : i + (k + 1) * n] == phrase for k in range(1, TIMES)):
                return True
    return False


def faults(answer: str, prompt: str, ended: bool, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """The rules ``answer`` breaks (keys of RULES, in order); () when it is well-formed.
    ``ended``: the model closed its turn, with something said."""
    said = words(answer)
    broken = []
    # An answer the eval's budget cut short ends in a word cut short ("the River Send fl"):
    # the "end" rule already counts that answer, and the word was never the model's.
    whole = answer if ended else TRAILING_WORD.sub("", answer)
    if unknown_words(whole, prompt, vocabulary):
        broken.append("words")
    if repeats(said):
        broken.append("repeat")
    if not ended or not answer.strip():
        broken.append("end")
    return tuple(broken)


def unknown_words(answer: str, prompt: str, vocabulary: frozenset[str]) -> list[str]:
    """The words of ``answer`` that neither the training files nor the prompt have."""
    asked = set(words(prompt))
    return [w for w in dict.fromkeys(words(answer)) if w not in vocabulary and w not in asked]


def well_formed(
    answers: list[tuple[str, str, bool]], vocabulary: frozenset[str]
) -> tuple[list[EvalRow], list[EvalAnswer]]:
    """The "well_formed" row of ``answers`` [(prompt, answer, ended)], every answer of every
    eval set a stage was asked, and the failed answers, each with the rules it broke."""
    if not answers:
        return [], []
    failed = []
    counts = dict.fromkeys(RULES, 0)
    for prompt, answer, ended in answers:
        broken = faults(answer, prompt, ended, vocabulary)
        for rule in broken:
            counts[rule] += 1
        if broken:
            failed.append(EvalAnswer(SET, prompt, ",".join(broken), answer, False))
    row = EvalRow(SET, "well-formed", len(answers) - len(failed), len(answers), note(counts))
    return [row], failed


def note(counts: dict[str, int]) -> str:
    """The row's words: the rules, then how many answers broke each, the most broken first."""
    rule = "every word from the training files or the prompt, no phrase three times running, "
    rule += "the turn ended"
    broken = sorted(((n, k) for k, n in counts.items() if n), key=lambda nk: -nk[0])
    if not broken:
        return rule
    return rule + "; broken: " + ", ".join(f"{RULES[k]} {n}" for n, k in broken)


def broken_counts(answers) -> dict[str, int]:
    """How many failed answers of an eval table broke each rule (`eval --json`'s figures)."""
    counts = dict.fromkeys(RULES, 0)
    for a in answers:
        if a.set == SET:
            for rule in a.expected.split(","):
                counts[rule] += 1
    return counts
