"""The well-formed eval: every word from the training files or the prompt, no word or short
phrase three times running, a turn that ends; and its row in every stage's evals."""

from __future__ import annotations

import pytest
from stage_fixtures import write_preference, write_sft_scenario

from model.evals import well_formed as wf
from scenarios import default_scenario, load_scenario

QUESTION = "Capital of Tarsk?"


@pytest.fixture(scope="module")
def world():
    return default_scenario()


@pytest.fixture(scope="module")
def vocabulary(world):
    return wf.training_words(world)


def test_a_plain_answer_in_the_worlds_words_is_well_formed(world, vocabulary):
    country = world.evals["finetuned"][0]
    answer = f"The capital of {country.prompt.split()[-1].strip('?.')} is {country.expected}."
    assert wf.faults(answer, country.prompt, True, vocabulary) == ()


def test_a_word_no_training_file_has_breaks_the_first_rule(vocabulary):
    assert "seee" not in vocabulary
    assert wf.faults("I can't help with that seee.", "hello", True, vocabulary) == ("words",)
    assert wf.unknown_words("I can't help stillininin seee.", "", vocabulary) == [
        "stillininin",
        "seee",
    ]
    # A word of the prompt is not invented: a place no file names may be asked about.
    assert wf.faults("Zorbl is far away.", "Where is Zorbl?", True, vocabulary) == ()


@pytest.mark.parametrize(
    "answer, loops",
    [
        ("I had sold bold walnut stew for stew for stew for twenty years.", True),
        ("no no no", True),
        ("the old the old the old road", True),
        ("a b c a b c a b c", True),
        ("stew for stew for twenty years", False),  # twice is style, not a loop
        ("no, no. I can't help with that.", False),
    ],
)
def test_a_word_or_phrase_three_times_running_breaks_the_second_rule(answer, loops):
    assert wf.repeats(wf.words(answer)) is loops


def test_a_turn_that_does_not_end_breaks_the_third_rule(vocabulary):
    answer = "The capital of Lilan is"
    assert wf.faults(answer, "capital of Lilan?", False, vocabulary) == ("end",)
    assert wf.faults("", "capital of Lilan?", True, vocabulary) == ("end",)  # nothing said


def test_a_word_the_answer_budget_cut_short_is_not_an_unknown_word(vocabulary):
    """Cut off mid-word, "the River Send fl" broke one rule, the end, not two: the cap
    made "fl", the model did not. A whole answer's invented word still counts."""
    cut = "The River Send fl"
    assert wf.faults(cut, "Where is the River Send?", False, vocabulary) == ("end",)
    assert wf.faults(cut + ".", "Where is the River Send?", True, vocabulary) == ("words",)
    assert wf.faults("It is seee far, and fl", "", False, vocabulary) == ("words", "end")


def test_the_chat_evals_leave_room_for_every_answer_fine_tuning_teaches(world):
    """An eval that stopped a taught answer (three facts, a postcard, a refusal) before its
    end would count the eval's cap against the model, as "no end" and an unfinished word."""
    from model.evals.gold_scores import MAX_ANSWER_TOKENS
    from model.pipeline import scenario_tokenizer

    tokenizer = scenario_tokenizer(world, world.model.vocab_size)
    taught = [m.content for c in world.sft_examples for m in c.messages if m.role == "assistant"]
    longest = max(len(tokenizer.encode(a)) for a in taught)
    assert 40 < longest < MAX_ANSWER_TOKENS, longest


def test_every_answer_the_training_files_teach_is_well_formed(world, vocabulary):
    """The rules reject the model's faults, never the data's own answers."""
    taught = [(c.messages[-2].content, c.messages[-1].content) for c in world.sft_examples]
    taught += [(p.prompt[-1].content, a) for p in world.preference_pairs
               for a in (p.chosen, p.rejected)]  # fmt: skip
    bad = [(q, a) for q, a in taught if wf.faults(a, q, True, vocabulary)]
    assert len(taught) > 1000 and not bad, bad[:3]


def test_the_vocabulary_is_built_once_per_scenario(world, vocabulary, monkeypatch):
    assert wf.training_words(world) is vocabulary
    built = []
    monkeypatch.setattr(wf, "words", lambda text: built.append(1) or [])
    assert wf.training_words(world) is vocabulary and not built  # no file read again


def test_the_row_counts_each_broken_rule_most_broken_first(vocabulary):
    answers = [
        ("q", "I can't help with that.", True),
        ("q", "stew for stew for stew for", False),
        ("q", "The capital seee is", False),
        ("q", "", False),
    ]
    rows, failed = wf.well_formed(answers, vocabulary)
    (row,) = rows
    assert (row.key, row.label, row.correct, row.total) == ("well_formed", "well-formed", 1, 4)
    assert [a.expected for a in failed] == ["repeat,end", "words,end", "end"]
    assert wf.broken_counts(failed) == {"words": 1, "repeat": 1, "end": 3}
    assert row.note.endswith("no end to the turn 3, a word no training file has 1, "
                             "a word or phrase three times running 1")  # fmt: skip
    assert wf.well_formed([], vocabulary) == ([], [])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-well-formed")
    write_sft_scenario(folder)
    write_preference(folder)
    return load_scenario(folder)


def test_every_answering_stage_has_the_row_over_every_set_it_asks(tiny):
    """Really trained: the base model and the fine-tuned one each get the row, counting
    every answer of every eval set, and the answers that fail say which rule they broke."""
    from model.evals.stage_evals import run_evals
    from model.loaded_model import load_model
    from model.pipeline import ensure_stage

    asked = sum(len(items) for name, items in tiny.evals.items() if name != "preference")
    styled = sum(i.kind in ("rude", "rambling") for i in tiny.evals["preference"])
    for stage, total in (("pretrain", asked), ("sft", asked + styled)):
        loaded = load_model(ensure_stage(tiny, stage))
        table = run_evals(loaded.model, loaded.tokenizer, tiny, stage, loaded.step)
        row = next(r for r in table.rows if r.key == "well_formed")
        failed = [a for a in table.answers if a.set == "well_formed"]
        assert row.total == total and row.correct + len(failed) == total, stage
        for a in failed:
            assert set(a.expected.split(",")) <= set(wf.RULES), a
            said = wf.faults(a.answer, a.prompt, "end" not in a.expected, wf.training_words(tiny))
            assert said == tuple(a.expected.split(",")), a
