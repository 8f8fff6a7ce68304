"""Compare says which fine-tuning prompt a learner's question is nearest, and whether its
phrasing was in the fine-tuning data: on the real world's data, and on prompts made up."""

from __future__ import annotations

from model.nearest_prompt import PromptIndex, sft_prompts
from scenarios.loader import default_scenario
from tui.tabs.compare import nearest_words

TRAINED = [
    "What is the capital of Lilan?", "What is the capital of Mirel?",
    "What is the capital of Shemor?", "Tell me the capital of Roufla.",
    "What language do people speak in Lilan?", "What language do people speak in Mirel?",
    "Describe Shemor in one sentence.", "Describe Lilan in one sentence.",
]  # fmt: skip


def test_a_trained_question_is_found_word_for_word():
    found = PromptIndex(TRAINED).nearest("What is the capital of Mirel?")
    assert found.prompt == "What is the capital of Mirel?" and found.phrasing == "exact"
    assert found.shared == found.words == 6


def test_the_same_phrasing_about_another_place_is_the_same_phrasing():
    found = PromptIndex(TRAINED).nearest("what is the capital of Treikeisia")
    assert found.phrasing == "same" and "capital" in found.prompt
    assert "asked of other things" in nearest_words(found)


def test_a_phrasing_no_prompt_has_is_told_so_with_the_nearest():
    found = PromptIndex(TRAINED).nearest("Which city rules Lilan, as a traveller would ask?")
    assert found.phrasing == "none" and "Lilan" in found.prompt
    said = nearest_words(found)
    assert "No fine-tuning prompt is phrased like yours" in said and found.prompt in said


def test_a_shorter_phrasing_in_order_is_like_one():
    found = PromptIndex(TRAINED).nearest("capital of lilan")
    assert found.phrasing == "like" and found.prompt == "What is the capital of Lilan?"


def test_on_the_world_a_template_and_a_new_phrasing_differ():
    index = PromptIndex(sft_prompts(default_scenario()))
    trained = index.prompts[0]
    assert index.nearest(trained).phrasing == "exact"
    assert index.nearest("zzq vorpal snicker-snack, how does the capital dance?").phrasing == (
        "none"
    )


def test_nothing_to_go_on_is_none():
    assert PromptIndex(TRAINED).nearest("?!") is None
    assert PromptIndex([]).nearest("What is the capital of Lilan?") is None
