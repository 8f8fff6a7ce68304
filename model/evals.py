"""The evals that fit a model's stage, scored on the scenario's own eval sets.

A fine-tuned model is asked through the chat template; a base model cannot be (it never saw
the template), so its facts are asked the way its pretraining text asks them, as
"Q: …\\nA:", and its format score shows that it does not answer in turns.
"""

from __future__ import annotations

import re

from model.generate import Generated, answer_many, continue_many
from model.protocol import EvalAnswer, EvalRow, EvalTable

FACT_SETS = (
    ("finetuned", "facts: fine-tuned"),
    ("pretrain_only", "facts: pretrain-only"),
)
MAX_ANSWER_TOKENS = 40


def mentions(answer: str, expected: str) -> bool:
    """Does the answer name the expected value (whole words, any case)?"""
    if not expected:
        return False
    pattern = r"(?<!\w)" + re.escape(expected.lower()) + r"(?!\w)"
    return re.search(pattern, answer.lower()) is not None


def in_format(g: Generated, tokenizer) -> bool:
    """The answer ended with <|end|>, not with a new turn, and is not empty."""
    return g.stopped and g.stop_id == tokenizer.end_id and bool(g.ids)


def _take(items, limit: int | None):
    if limit is None or len(items) <= limit:
        return list(items)
    step = len(items) / limit  # spread over the set: every kind of fact, every country
    return [items[int(i * step)] for i in range(limit)]


def run_evals(model, tokenizer, scenario, stage: str, step: int, limit: int | None = None):
    """Score ``model`` on the scenario's eval sets; ``limit`` caps each set (live tabs)."""
    sets = {name: _take(scenario.evals.get(name, ()), limit) for name, _ in FACT_SETS}
    unknown = _take(scenario.evals.get("unknown", ()), None if limit is None else limit // 3)
    asked = [(name, item) for name, _ in FACT_SETS for item in sets[name]]
    asked += [("unknown", item) for item in unknown]
    if not asked:
        return EvalTable(stage, step, ())
    prompts = [item.prompt for _, item in asked]
    chat = stage != "pretrain"
    chat_out = answer_many(model, tokenizer, prompts, MAX_ANSWER_TOKENS)
    if chat:
        texts = [tokenizer.decode(g.ids) for g in chat_out]
    else:
        raw = continue_many(model, tokenizer, [f"Q: {p}\nA:" for p in prompts], MAX_ANSWER_TOKENS)
        texts = [tokenizer.decode(g.ids).split("\n")[0].strip() for g in raw]
    formatted = [in_format(g, tokenizer) for g in chat_out]
    rows = []
    n_format = sum(formatted)
    rows.append(
        EvalRow(
            "format",
            "format",
            n_format,
            len(asked),
            "answers end with <|end|> and stop there"
            if chat
            else "a base model was never shown a chat turn: it does not answer in one",
        )
    )
    answers = []
    for name, label in FACT_SETS:
        picked = [(i, item) for i, (s, item) in enumerate(asked) if s == name]
        if not picked:
            continue
        ok = [mentions(texts[i], item.expected) for i, item in picked]
        rows.append(EvalRow(name, label, sum(ok), len(ok), _fact_note(name, chat)))
        answers += [
            EvalAnswer(name, item.prompt, item.expected, texts[i], good)
            for (i, item), good in zip(picked, ok, strict=True)
        ]
    picked = [(i, item) for i, (s, item) in enumerate(asked) if s == "unknown"]
    if picked:
        fluent = [formatted[i] if chat else bool(texts[i]) for i, _ in picked]
        rows.append(
            EvalRow(
                "unknown",
                "unknown: answered",
                sum(fluent),
                len(fluent),
                "these places exist nowhere in the data, yet the model answers fluently, "
                "in the form it learnt: it has no way to know that it does not know",
            )
        )
        answers += [EvalAnswer("unknown", item.prompt, "", texts[i], False) for i, item in picked]
    return EvalTable(stage, step, tuple(rows), tuple(answers))


def _fact_note(name: str, chat: bool) -> str:
    if name == "finetuned":
        return "countries whose facts the fine-tuning answers also state"
    if chat:
        return "countries fine-tuning never mentions: the knowledge came from pretraining"
    return "asked as the pretraining text asks (Q: … A:), the base model knows its facts"


def probe_answers(model, tokenizer, probes, chat: bool) -> list[str]:
    """Each probe answered greedily: through the template if ``chat``, else continued raw."""
    prompts = [probe.prompt for probe in probes]
    out = (answer_many if chat else continue_many)(model, tokenizer, prompts, MAX_ANSWER_TOKENS)
    return [tokenizer.decode(g.ids) for g in out]
