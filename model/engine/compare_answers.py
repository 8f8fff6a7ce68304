"""The Compare tab's answers, worked out in the engine process: the scenario's probes (and
the user's own question) put to every model there is, one model per turn of the engine's
loop, so a key pressed meanwhile (pause, another ask) waits for one model at most.

Which model answers for a stage: this session's run of it if it has trained a step (the
model of its tab, as it is now), else the finished run in the stage cache (the one a later
stage's tab would start from), else none, and the column says so. Every model draws with
the same sampler and seed, row by row alike (model.sampling.generators), so the columns
differ only by their weights. A base model never saw the chat template: it is asked as its
pretraining text asks, "Q: …\\nA:", and its answer is its first line (as
model.evals.stage_evals does); a story opening it simply continues.
"""

from __future__ import annotations

import time
from dataclasses import replace

from model import protocol as p
from model.nearest_prompt import PromptIndex, sft_prompts
from model.protocol.compare import COMPARE_STAGES
from model.stages import is_chat, lacking

# Loaded cache checkpoints by folder and age, so a second ask does not read them again.
_LOADED: dict[tuple[str, float], object] = {}
_KEEP = len(COMPARE_STAGES)


class CompareJob:
    """One ask being answered: its rows are sent at once, then one column per ``turn``."""

    def __init__(self, engine, ask: p.CompareAsk) -> None:
        self.ask = ask
        self.prompts = prompts_for(engine.scenario, ask.question)
        self.todo = list(COMPARE_STAGES)
        rows = tuple((name, text) for name, _, text in self.prompts)
        nearest = prompt_index(engine.scenario).nearest(ask.question) if ask.question else None
        engine.conn.send(p.ComparePrompts(ask.ask_id, rows, nearest))

    @classmethod
    def start(cls, engine, ask: p.CompareAsk) -> CompareJob | None:
        problem = ask.sampler.problem()
        if problem:
            engine.conn.send(p.EngineError(f"cannot compare: {problem}"))
            return None
        return cls(engine, ask)

    def turn(self, engine) -> CompareJob | None:
        """Answer with the next model; the job while more are to come, else None."""
        stage = self.todo.pop(0)
        engine.conn.send(column(engine, stage, self.prompts, self.ask))
        return self if self.todo else None


_index: tuple[object, PromptIndex] | None = None


def prompt_index(scenario) -> PromptIndex:
    """The scenario's fine-tuning prompts, indexed once (a few hundredths of a second)."""
    global _index
    if _index is None or _index[0] is not scenario:
        _index = (scenario, PromptIndex(sft_prompts(scenario)))
    return _index[1]


def prompts_for(scenario, question: str = "") -> list[tuple[str, str, str]]:
    """(name, kind, prompt) of every row: the user's question first, then the probes."""
    rows = [("you", "question", question.strip())] if question.strip() else []
    return rows + [(pr.name, pr.kind, pr.prompt) for pr in scenario.probes]


def base_prompt(kind: str, prompt: str) -> str:
    """A prompt as a base model is asked it: its pretraining text's Q/A, or a story as is."""
    return prompt if kind == "story" else f"Q: {prompt}\nA:"


def column(engine, stage: str, prompts, ask: p.CompareAsk) -> p.CompareColumn:
    from model.checkpoint import CheckpointError

    started = time.perf_counter()
    try:
        found = find_model(engine, stage)
        if isinstance(found, p.CompareColumn):
            return replace(found, ask_id=ask.ask_id)
        model, tokenizer, source, step, total = found
        template = is_chat(stage)
        answers = answer_all(model, tokenizer, prompts, ask.sampler, ask.max_new_tokens, template)
    except (CheckpointError, ValueError, RuntimeError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        return p.CompareColumn(ask.ask_id, stage, missing="error", detail=reason)
    return p.CompareColumn(
        ask.ask_id, stage, source, step, total, template, answers,
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def find_model(engine, stage: str):
    """(model, tokenizer, source, step, total steps) of the model that answers for
    ``stage``; a CompareColumn saying why not when there is none (its ask_id is 0)."""
    run = engine.runs.get(stage)
    if run is not None and run.state.step > 0:
        return run.model, run.tokenizer, "tab", run.state.step, run.settings.steps
    said = lacking(engine.scenario, stage)
    if said:
        return p.CompareColumn(0, stage, missing="no-data", detail=said)
    loaded = None if engine.options.fresh else _cached(engine.scenario, stage)
    if loaded is None:
        return p.CompareColumn(0, stage, missing="untrained")
    return loaded.model, loaded.tokenizer, "cache", loaded.step, loaded.total_steps


def _cached(scenario, stage: str):
    from model.loaded_model import load_model
    from model.pipeline import cached_stage

    path = cached_stage(scenario, stage)
    if path is None:
        return None
    key = (str(path), (path / "meta.json").stat().st_mtime)
    if key not in _LOADED:
        while len(_LOADED) >= _KEEP:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = load_model(path)
    return _LOADED[key]


def answer_all(model, tokenizer, prompts, sampler: p.Sampler, max_new_tokens: int,
               template: bool) -> tuple[p.CompareAnswer, ...]:  # fmt: skip
    """Every prompt answered by ``model`` in one batch, each token with why it was drawn."""
    from model.chat import prompt_ids, turn_ids
    from model.generate import generate_many

    if template:
        ids = [prompt_ids(tokenizer, text) for _, _, text in prompts]
        stops = turn_ids(tokenizer) | {tokenizer.end_id}
    else:
        ids = [tokenizer.encode(base_prompt(kind, text)) for _, kind, text in prompts]
        stops = frozenset({tokenizer.eot_id})
    out = generate_many(
        model, ids, max_new_tokens, stops, sampler=sampler, explain=tokenizer.token_text
    )
    answers = []
    for (_, kind, text), g in zip(prompts, out, strict=True):
        asked = text if template else base_prompt(kind, text)
        if not template and kind != "story":
            answers.append(_first_line(tokenizer, g, asked))
            continue
        stop = ""
        if g.stopped:
            stop = "end" if g.stop_id == tokenizer.end_id else "turn" if template else "eot"
        answers.append(p.CompareAnswer(tokenizer.decode(list(g.ids)), g.choices, asked, stop))
    return tuple(answers)


def _first_line(tokenizer, g, asked: str) -> p.CompareAnswer:
    """A base model's answer to a Q/A prompt: up to the token that ends its line."""
    ids = list(g.ids)
    for i, token in enumerate(ids):
        if "\n" in tokenizer.decode([token]):
            text = tokenizer.decode(ids[: i + 1]).split("\n")[0]
            return p.CompareAnswer(text.strip(), g.choices[: i + 1], asked, "line")
    stop = "eot" if g.stopped else ""
    return p.CompareAnswer(tokenizer.decode(ids).strip(), g.choices, asked, stop)
