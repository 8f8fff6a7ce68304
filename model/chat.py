"""The chat template: a conversation as token ids, and which of them the fine-tuning loss sees.

Each message is its role's special token, its content, then ``<|end|>``:

    <|system|>Be brief.<|end|><|user|>Capital of Tarsk?<|end|><|assistant|>Tarport.<|end|>

Only assistant content and its closing ``<|end|>`` are trained on (nanochat's SFT masking):
the model learns to answer and to stop, not to write the user's questions. Content is encoded
as ordinary text, so a user who types "<|end|>" cannot end a turn. No torch here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from model.tokenizer import Tokenizer


@dataclass(frozen=True)
class Rendered:
    ids: tuple[int, ...]
    # Per id: does predicting this token count in the loss (assistant content and its end)?
    trained: tuple[bool, ...]


def role_id(tokenizer: Tokenizer, role: str) -> int:
    return {
        "system": tokenizer.system_id,
        "user": tokenizer.user_id,
        "assistant": tokenizer.assistant_id,
    }[role]


def render(
    tokenizer: Tokenizer,
    messages: Iterable[tuple[str, str]],
    *,
    add_generation_prompt: bool = False,
) -> Rendered:
    """(role, content) pairs as ids; with ``add_generation_prompt`` an open assistant turn."""
    ids: list[int] = []
    trained: list[bool] = []
    for role, content in messages:
        body = tokenizer.encode(content)
        answer = role == "assistant"
        ids.append(role_id(tokenizer, role))
        trained.append(False)
        ids.extend(body)
        trained.extend([answer] * len(body))
        ids.append(tokenizer.end_id)
        trained.append(answer)
    if add_generation_prompt:
        ids.append(tokenizer.assistant_id)
        trained.append(False)
    return Rendered(tuple(ids), tuple(trained))


def prompt_ids(tokenizer: Tokenizer, question: str, system: str = "") -> list[int]:
    """One user question, ready for the model to answer."""
    messages = ([("system", system)] if system else []) + [("user", question)]
    return list(render(tokenizer, messages, add_generation_prompt=True).ids)


def turn_ids(tokenizer: Tokenizer) -> frozenset[int]:
    """Tokens that open a turn: an answer containing one ran on into a new turn."""
    return frozenset(
        (tokenizer.system_id, tokenizer.user_id, tokenizer.assistant_id, tokenizer.eot_id)
    )
