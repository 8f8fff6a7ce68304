"""Which fine-tuning prompt a learner's own question is nearest, and whether its phrasing
was in the fine-tuning data: "fine-tuning teaches the format it was shown", made checkable.

Plain Python (no torch), on words. A prompt's *phrasing* is its words with the names left
as blanks: "What is the capital of Lilan?" and "What is the capital of Mirel?" have the
same phrasing, "what is the capital of ·". A name is a word the prompts write capitalised
in mid-sentence, or one they never use (a place only the pretraining corpus has). Nothing
here knows the scenario's names, so any scenario works."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from model.protocol import NearestPrompt

BLANK = "·"
WORD = re.compile(r"[A-Za-z0-9']+")


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


class PromptIndex:
    """The fine-tuning prompts, ready to be searched."""

    def __init__(self, prompts: Iterable[str]) -> None:
        self.prompts = list(dict.fromkeys(p.strip() for p in prompts if p.strip()))
        self.words = [words(p) for p in self.prompts]
        self.vocab = {w for ws in self.words for w in ws}
        capitalised, inside = Counter(), Counter()
        for prompt in self.prompts:
            for w in WORD.findall(prompt)[1:]:  # the first word is capitalised anyway
                inside[w.lower()] += 1
                capitalised[w.lower()] += w[0].isupper()
        self.names = {w for w, n in inside.items() if capitalised[w] * 2 > n and len(w) > 1}
        self.phrasings = {self.phrasing(p) for p in self.prompts}

    def phrasing(self, text: str) -> tuple[str, ...]:
        """The words of ``text`` with each run of names one blank."""
        out: list[str] = []
        for i, w in enumerate(WORD.findall(text)):
            low = w.lower()
            name = low in self.names or low not in self.vocab or (i > 0 and w[0].isupper())
            token = BLANK if name else low
            if not (token == BLANK and out and out[-1] == BLANK):
                out.append(token)
        return tuple(out)

    def nearest(self, question: str) -> NearestPrompt | None:
        asked = words(question)
        if not asked or not self.prompts:
            return None
        mine = set(asked)

        def closeness(i: int) -> tuple[float, int]:
            theirs = set(self.words[i])
            return len(mine & theirs) / len(mine | theirs), -len(self.words[i])

        best = max(range(len(self.prompts)), key=closeness)
        shape = self.phrasing(question)
        if asked == self.words[best]:
            phrasing = "exact"
        elif shape in self.phrasings:
            phrasing = "same"
        else:
            kept = [w for w in shape if w != BLANK]
            theirs = [w for w in self.phrasing(self.prompts[best]) if w != BLANK]
            like = kept and _in_order(kept, theirs) >= LIKE * len(kept)
            phrasing = "like" if like else "none"
        return NearestPrompt(
            self.prompts[best], len(mine & set(self.words[best])), len(mine), phrasing
        )


# "like": the nearest prompt has this share of the question's phrasing words, in order.
LIKE = 0.75


def _in_order(a: list[str], b: list[str]) -> int:
    """How many of ``a``'s words ``b`` has in the same order (longest common subsequence)."""
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], diagonal + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def sft_prompts(scenario) -> list[str]:
    """Every user turn of the scenario's fine-tuning conversations."""
    return [m.content for c in scenario.sft_examples for m in c.messages if m.role == "user"]
