"""The Compare tab's answers, worked out by a real engine process from three real tiny
checkpoints: they are generate_many's for the same sampler and seed, every model is asked
the same way each time, a base model answers with its first line, and a model that does
not exist says why."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from compare_fixtures import cache_at, trained_scenario
from engine_fixtures import receive
from stage_fixtures import COUNTRIES, capital

from model import protocol as p
from model.engine.compare_answers import base_prompt, prompts_for

pytestmark = pytest.mark.slow
SAMPLER = p.Sampler(temperature=0.9, top_k=20, seed=5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return trained_scenario(tmp_path_factory.mktemp("compare"))


@pytest.fixture(scope="module")
def engine(tiny):
    """One engine for the module (each ask has its own id): it reads the tiny cache."""
    from model.engine.options import EngineOptions
    from model.engine.process import EngineHandle

    with cache_at(tiny / "cache"):
        handle = EngineHandle(EngineOptions(scenario=str(tiny), save_dir=str(tiny / "s")))
        yield handle
    handle.stop()


def ask(handle, question: str = "", sampler: p.Sampler = SAMPLER, ask_id: int = 1):
    handle.send(p.CompareAsk(ask_id, sampler, question))
    prompts = receive(handle, p.ComparePrompts)
    columns = {}
    while len(columns) < len(p.COMPARE_STAGES):
        column = receive(handle, p.CompareColumn)
        if column.ask_id == ask_id:
            columns[column.stage] = column
    return prompts, columns


def cached(tiny, stage: str):
    from model.loaded_model import load_model
    from model.pipeline import cached_stage
    from scenarios import load_scenario

    with cache_at(tiny / "cache"):
        return load_model(cached_stage(load_scenario(tiny), stage))


def test_the_engine_answers_as_generate_many_does(engine, tiny):
    from model.generate import answer_many, generate_many
    from scenarios import load_scenario

    prompts, columns = ask(engine, "Capital of Mirel?")
    scenario = load_scenario(tiny)
    rows = prompts_for(scenario, "Capital of Mirel?")
    assert prompts.prompts == tuple((name, text) for name, _, text in rows)
    assert prompts.prompts[0] == ("you", "Capital of Mirel?")
    for stage in ("sft", "dpo"):
        column = columns[stage]
        assert (column.source, column.template, column.missing) == ("cache", True, "")
        loaded = cached(tiny, stage)
        assert (column.step, column.total_steps) == (loaded.step, loaded.total_steps)
        tok = loaded.tokenizer
        want = answer_many(loaded.model, tok, [text for _, _, text in rows], 40,
                           sampler=SAMPLER, explain=tok.token_text)  # fmt: skip
        for answer, g in zip(column.answers, want, strict=True):
            assert answer.choices == g.choices  # every token, its probability, the draw
            assert answer.text == tok.decode(list(g.ids))
            assert answer.stop == ("end" if g.stop_id == tok.end_id else "turn" if g.stopped
                                   else "")  # fmt: skip
    # The base model is asked as its pretraining text asks, and answers with its first line.
    base, loaded = columns["pretrain"], cached(tiny, "pretrain")
    assert (base.source, base.template) == ("cache", False)
    tok = loaded.tokenizer
    texts = [base_prompt(kind, text) for _, kind, text in rows]
    want = generate_many(loaded.model, [tok.encode(t) for t in texts], 40, {tok.eot_id},
                         sampler=SAMPLER, explain=tok.token_text)  # fmt: skip
    for asked, answer, g in zip(texts, base.answers, want, strict=True):
        assert answer.asked == asked
        # Its pretraining text has no line breaks, so no line to cut at: the whole draw is the
        # answer. (The cut: test_a_base_model_answers_with_its_first_line.)
        assert answer.choices == g.choices and answer.stop == ("eot" if g.stopped else "")
    assert [a.asked for a in base.answers][-2:] == ["The capital of Mirel", "Q: Burn Orinth?\nA:"]
    # RLHF is not a stage of this version: its column says so.
    assert columns["rlhf"].missing == "untrained" and not columns["rlhf"].answers


def line_corpus(lines: int = 900, seed: int = 5) -> str:
    """Pretraining text of short lines, as the real world's Q/A pages are."""
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        c = rng.choice(COUNTRIES)
        out.append(rng.choice([f"Q: Capital of {c}?\nA: {capital(c)}.\n",
                               f"The capital of {c} is {capital(c)}.\n"]))  # fmt: skip
    return "".join(out)


def test_a_base_model_answers_with_its_first_line(tmp_path):
    """A base model trained on short lines ends each answer with a line break and goes on
    (to the next question, or the next fact): its answer is the line, the rest is dropped."""
    from types import SimpleNamespace

    from engine_fixtures import make_trainer

    from model.engine.compare_answers import column
    from model.generate import generate_many
    from model.pipeline import run_headless

    trainer = make_trainer(line_corpus(), tmp_path, steps=200)
    run_headless(trainer)
    tok = trainer.tokenizer
    engine = SimpleNamespace(runs={"pretrain": trainer})  # its own run answers: "tab"
    rows = [("you", "question", "Capital of Mirel?"), ("q", "question", "Capital of Tarsk?"),
            ("story", "story", "The capital of Mirel")]  # fmt: skip
    said = column(engine, "pretrain", rows, p.CompareAsk(3, p.GREEDY, max_new_tokens=16))
    assert (said.source, said.template, said.step) == ("tab", False, 200)
    asked = [base_prompt(kind, text) for _, kind, text in rows]
    drawn = generate_many(trainer.model, [tok.encode(a) for a in asked], 16, {tok.eot_id},
                          explain=tok.token_text)  # fmt: skip
    questions = list(zip(said.answers[:2], drawn[:2], strict=True))
    for answer, g in questions:
        ids = [c.drawn_id for c in answer.choices]
        assert answer.stop == "line" and "\n" not in answer.text and answer.text
        # Up to and with the token that breaks the line, and the text is that line.
        assert tok.decode(ids) == f" {answer.text}\n" and tok.decode(ids[-1:]) == "\n"
        assert answer.choices == g.choices[: len(ids)] and len(g.choices) > len(ids)
    story, g = said.answers[2], drawn[2]
    assert story.choices == g.choices and "\n" in story.text  # a story is not cut


def test_same_seed_same_answers_and_the_seed_matters(engine):
    _, first = ask(engine, ask_id=11)
    _, again = ask(engine, ask_id=12)
    _, other = ask(engine, sampler=replace(SAMPLER, seed=6), ask_id=13)
    for stage in ("pretrain", "sft", "dpo"):
        assert again[stage].answers == first[stage].answers
    assert any(other[s].answers != first[s].answers for s in ("pretrain", "sft", "dpo"))


def test_a_newer_ask_replaces_one_being_answered(engine):
    engine.send(p.CompareAsk(21, SAMPLER))
    prompts, columns = ask(engine, "Capital of Tarsk?", ask_id=22)
    # The first ask may have answered with a model or two before the second arrived; the
    # second is answered in full, and nothing of the first comes after it.
    assert prompts.ask_id in (21, 22)
    assert set(columns) == set(p.COMPARE_STAGES)
    engine.send(p.Pause())
    engine.send(p.Save(path=None))  # any reply: the pipe holds nothing more of the asks
    while True:
        m = receive(engine, object)
        assert not isinstance(m, p.CompareColumn | p.ComparePrompts) or m.ask_id == 22
        if not isinstance(m, p.CompareColumn | p.ComparePrompts):
            break


def test_missing_models_say_why(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from stage_fixtures import write_sft_scenario

    from model.engine.compare_answers import column, prompts_for
    from scenarios import load_scenario

    write_sft_scenario(tmp_path)  # no preference pairs: DPO cannot be made here
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path / "empty-cache"))
    scenario = load_scenario(tmp_path)
    engine = SimpleNamespace(runs={}, scenario=scenario, options=SimpleNamespace(fresh=False))
    rows = prompts_for(scenario)
    ask_ = p.CompareAsk(7, SAMPLER)
    said = {s: column(engine, s, rows, ask_) for s in p.COMPARE_STAGES}
    assert said["pretrain"].missing == said["sft"].missing == "untrained"
    assert said["dpo"].missing == "no-data" and "preference" in said["dpo"].detail
    assert said["rlhf"].missing == "no-data"  # RLHF needs preference pairs too
    assert all(c.ask_id == 7 and not c.answers for c in said.values())
