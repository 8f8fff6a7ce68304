"""Reading the data files: UTF-8 text, and JSONL records for each stage (see FORMAT.md)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from .errors import ScenarioError, join_or, show, suggest
from .schema import ROLES, Conversation, EvalItem, Message, PreferencePair, Probe

_ROLE_LIST = join_or(ROLES)


def read_text(path: Path, label: str) -> str:
    """A file's text: UTF-8 (a BOM is dropped), line ends normalised to ``\\n``."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ScenarioError("is a folder, expected a file", file=label) from None
    except FileNotFoundError:
        raise ScenarioError("file not found", file=label) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ScenarioError(f"cannot read: {reason}", file=label) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ScenarioError(
            "looks like a binary file (it contains NUL bytes); expected UTF-8 text",
            file=label,
            line=line,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            "(save the file as UTF-8)",
            file=label,
            line=line,
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def check_encodable(value: str, label: str | None, line: int | None, field: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ScenarioError(
            "contains an unpaired surrogate (\\ud800–\\udfff), which is not text",
            file=label,
            line=line,
            field=field,
        ) from None
    return value


def _rows(path: Path, label: str) -> list[tuple[int, dict[str, Any]]]:
    text = read_text(path, label)
    rows = []
    for n, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except RecursionError:
            raise ScenarioError("malformed JSON: nested too deeply", file=label, line=n) from None
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                reason = f"{exc.msg} (column {exc.colno})"
            else:
                reason = str(exc)
            raise ScenarioError(f"malformed JSON: {reason}", file=label, line=n) from None
        if not isinstance(obj, dict):
            raise ScenarioError(
                f"expected a JSON object {{…}} on each line, got {show(obj)}", file=label, line=n
            )
        rows.append((n, obj))
    if not rows:
        raise ScenarioError("no records: the file is empty", file=label)
    return rows


class _Row:
    """One JSONL record, with helpers that raise errors naming the file, line and field."""

    def __init__(self, label: str, line: int, obj: dict[str, Any]) -> None:
        self.label, self.line, self.obj = label, line, obj

    def error(self, reason: str, field: str | None = None) -> ScenarioError:
        return ScenarioError(reason, file=self.label, line=self.line, field=field)

    def missing(self, key: str) -> ScenarioError:
        close = difflib.get_close_matches(key, [str(k) for k in self.obj], n=1, cutoff=0.6)
        hint = f' (found "{close[0]}": a typo?)' if close else ""
        present = ", ".join(show(str(k), 20) for k in list(self.obj)[:6])
        return self.error(f'missing "{key}"{hint}; the record has {present or "no keys"}')

    def require(self, key: str) -> Any:
        if key not in self.obj:
            raise self.missing(key)
        return self.obj[key]

    def text(self, value: Any, field: str, *, empty_ok: bool = False) -> str:
        if not isinstance(value, str):
            raise self.error(f"must be a string, got {show(value)}", field)
        check_encodable(value, self.label, self.line, field)
        if not empty_ok and not value.strip():
            raise self.error("must not be empty", field)
        return value

    def optional_text(self, key: str, default: str) -> str:
        if key not in self.obj:
            return default
        return self.text(self.obj[key], key, empty_ok=True)

    def messages(self, value: Any, field: str) -> tuple[Message, ...]:
        if not isinstance(value, list) or not value:
            raise self.error(f"must be a non-empty list of messages, got {show(value)}", field)
        out = []
        for i, msg in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(msg, dict):
                raise self.error(f'must be {{"role": …, "content": …}}, got {show(msg)}', where)
            role = msg.get("role")
            if role not in ROLES:
                if "role" not in msg:
                    raise self.error('missing "role"', where)
                hint = suggest(role, ROLES) if isinstance(role, str) else ""
                raise self.error(
                    f"unknown role {show(role)} (expected {_ROLE_LIST}){hint}", f"{where}.role"
                )
            if "content" not in msg:
                raise self.error('missing "content"', where)
            content = self.text(msg["content"], f"{where}.content", empty_ok=True)
            if not content.strip():
                what = "empty assistant answer" if role == "assistant" else f"empty {role} message"
                raise self.error(what, f"{where}.content")
            if role == "system" and i:
                raise self.error("a system message may only come first", f"{where}.role")
            out.append(Message(role, content))
        return tuple(out)


def _conversation(row: _Row) -> Conversation:
    obj = row.obj
    if "messages" in obj:
        if "prompt" in obj or "completion" in obj:
            raise row.error('has both "messages" and "prompt"/"completion"; use one form')
        msgs = row.messages(obj["messages"], "messages")
        field = "messages"
    elif "prompt" in obj or "completion" in obj:
        prompt, completion = row.require("prompt"), row.require("completion")
        if isinstance(prompt, str):
            head: tuple[Message, ...] = (Message("user", row.text(prompt, "prompt")),)
        else:
            head = row.messages(prompt, "prompt")
        if isinstance(completion, str):
            text = row.text(completion, "completion", empty_ok=True)
            if not text.strip():
                raise row.error("empty assistant answer", "completion")
            tail: tuple[Message, ...] = (Message("assistant", text),)
        else:
            tail = row.messages(completion, "completion")
            if any(m.role != "assistant" for m in tail):
                raise row.error("must hold assistant messages only", "completion")
        msgs = head + tail
        field = "prompt"
    else:
        keys = [str(k) for k in obj]
        hint = "".join(suggest(k, ("messages", "prompt", "completion")) for k in keys[:1])
        raise row.error(
            'expected "messages" (a list of {"role", "content"}) or "prompt" and "completion"'
            + hint
        )
    if not any(m.role == "user" for m in msgs):
        raise row.error("a conversation needs a user message", field)
    if msgs[-1].role != "assistant":
        raise row.error(
            f"must end with the assistant's answer, not a {msgs[-1].role} message", field
        )
    return Conversation(msgs)


def read_sft(path: Path, label: str) -> list[Conversation]:
    return [_conversation(_Row(label, n, obj)) for n, obj in _rows(path, label)]


def _answer(row: _Row, key: str, prompt_given: bool) -> tuple[tuple[Message, ...], str]:
    value = row.require(key)
    if isinstance(value, str):
        text = row.text(value, key, empty_ok=True)
        if not text.strip():
            raise row.error("empty answer", key)
        return (), text
    msgs = row.messages(value, key)
    if msgs[-1].role != "assistant":
        raise row.error(f"must end with an assistant message, not {msgs[-1].role}", key)
    if prompt_given and len(msgs) > 1:
        raise row.error("with a separate prompt, must be one assistant message", key)
    return msgs[:-1], msgs[-1].content


def _pair(row: _Row) -> PreferencePair:
    obj = row.obj
    prompt_given = "prompt" in obj
    before_c, chosen = _answer(row, "chosen", prompt_given)
    before_r, rejected = _answer(row, "rejected", prompt_given)
    if prompt_given:
        value = obj["prompt"]
        prompt = (
            (Message("user", row.text(value, "prompt")),)
            if isinstance(value, str)
            else row.messages(value, "prompt")
        )
    elif before_c and before_c == before_r:
        prompt = before_c  # the "implicit prompt" form: shared turns, then two answers
    else:
        raise row.missing("prompt")
    if not any(m.role == "user" for m in prompt) or prompt[-1].role != "user":
        raise row.error("the prompt must end with a user message", "prompt")
    if chosen.strip() == rejected.strip():
        raise row.error("same as chosen; a pair needs two different answers", "rejected")
    return PreferencePair(prompt, chosen, rejected, row.optional_text("kind", ""))


def read_preference(path: Path, label: str) -> list[PreferencePair]:
    return [_pair(_Row(label, n, obj)) for n, obj in _rows(path, label)]


def read_probes(path: Path, label: str) -> list[Probe]:
    probes, names = [], set()
    for i, (n, obj) in enumerate(_rows(path, label), 1):
        row = _Row(label, n, obj)
        prompt = row.text(row.require("prompt"), "prompt")
        name = row.optional_text("name", "").strip() or f"probe {i}"
        if name in names:
            raise row.error(f"another probe is already named {show(name)}", "name")
        names.add(name)
        probes.append(Probe(name, prompt, row.optional_text("kind", "question")))
    return probes


def read_evals(path: Path, label: str) -> tuple[EvalItem, ...]:
    items = []
    for n, obj in _rows(path, label):
        row = _Row(label, n, obj)
        prompt = row.text(row.require("prompt"), "prompt")
        expected = row.text(row.require("expected"), "expected", empty_ok=True)
        kind = row.optional_text("kind", "")
        items.append(EvalItem(prompt, expected, kind, row.optional_text("rejected", "")))
    return tuple(items)
