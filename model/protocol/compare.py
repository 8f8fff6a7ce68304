"""The Compare tab's messages: the same prompts put to every model there is, side by side.

Besides the protocol's own types, the one import is the stage registry (plain data, no
torch): it says which stages' models answer, one column each.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.protocol.training import Sampler, TokenChoice
from model.stages import ORDER, answers

# The stages whose models answer, in the order they are made (the reward model ranks
# answers, it writes none): one column each.
COMPARE_STAGES = tuple(s for s in ORDER if answers(s))
COMPARE_TOKENS = 40  # new tokens per answer, as the evals allow


# --- UI → engine -------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareAsk:
    """Put the scenario's probes, and ``question`` if there is one, to every model there
    is, each with ``sampler`` (the same seed for every model and every prompt). A newer ask
    replaces one still being answered; replies carry ``ask_id``."""

    ask_id: int
    sampler: Sampler
    question: str = ""
    max_new_tokens: int = COMPARE_TOKENS


# --- engine → UI -------------------------------------------------------------------------


@dataclass(frozen=True)
class NearestPrompt:
    """The fine-tuning prompt nearest a question of the user's, by the words they share:
    what the fine-tuned models were shown that looks most like what they are asked now."""

    prompt: str
    shared: int  # the question's words the prompt has too
    words: int  # the question's words
    # "exact": the question is a fine-tuning prompt, word for word; "same": its phrasing
    # is (about other names or things); "like": a phrasing like it is (its phrasing words,
    # in order); "none": no fine-tuning prompt is phrased like it.
    phrasing: str


@dataclass(frozen=True)
class ComparePrompts:
    """The rows of an ask, sent before any answer: (name, prompt) each, the user's own
    question (named "you") first, with the fine-tuning prompt nearest it if there is one."""

    ask_id: int
    prompts: tuple[tuple[str, str], ...]
    nearest: NearestPrompt | None = None


@dataclass(frozen=True)
class CompareAnswer:
    """One model's answer to one prompt, token by token: each token with the probability
    the model gave it and its favourite alternatives there (the stop token last, if one
    ended the answer)."""

    text: str
    choices: tuple[TokenChoice, ...]
    # The prompt as this model was given it (a base model's in its "Q: …\nA:" form).
    asked: str = ""
    # How it ended: "end" (the model closed its turn), "turn" (it ran into a new
    # turn), "line" (a base model's line of text ended), "eot" (end of text), or "" (it ran
    # out of tokens).
    stop: str = ""


@dataclass(frozen=True)
class CompareColumn:
    """One model's answers to every prompt of an ask, or why there is no such model."""

    ask_id: int
    stage: str
    # "tab": this session's run of the stage, as it is now; "cache": the finished run
    # cached on this machine; "": no model (``missing`` says why).
    source: str = ""
    step: int = 0
    total_steps: int = 0
    # True: asked through the chat template. False: a base model, asked as its pretraining
    # text asks ("Q: …\nA:"), a story continued as it stands.
    template: bool = True
    answers: tuple[CompareAnswer, ...] = ()
    # "untrained": the stage can be trained here and has not been; "no-data": the scenario
    # lacks what it trains on (``detail`` says what); "error": it could not be loaded or
    # asked (``detail`` says why).
    missing: str = ""
    detail: str = ""
    seconds: float = 0.0
