"""The one error type the scenario loader raises, and small helpers for its messages."""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Iterable
from os import PathLike


def _one_line(text: str) -> str:
    """Escape line breaks and other control characters so a message stays on one line."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


class ScenarioError(ValueError):
    """Something is wrong with a scenario: the message is one line naming file, line and field.

    ``str(error)`` looks like ``sft.jsonl line 7: messages[1].role: unknown role "bot" …``.
    The parts are kept as attributes too: ``file``, ``line``, ``field`` and ``reason``.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where} line {self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.field, self.reason) if p]
        return _one_line(": ".join(parts))

    def located(
        self,
        *,
        file: str | PathLike[str] | None = None,
        line: int | None = None,
        section: str | None = None,
    ) -> ScenarioError:
        """A copy with the location filled in where it was missing (``section`` prefixes the
        field as ``[section] field``)."""
        field = self.field
        if section and field and not field.startswith("["):
            field = f"[{section}] {field}"
        return ScenarioError(
            self.reason,
            file=self.file if self.file is not None else file,
            line=self.line if self.line is not None else line,
            field=field,
        )


def show(value: object, limit: int = 60) -> str:
    """A short, quoted, one-line rendering of a value for an error message."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "…"
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table" if not value else "a table/object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` for the closest option, or an empty string."""
    options = list(options)
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f' (did you mean "{lowered[word.lower()]}"?)'
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def join_or(words: Iterable[str]) -> str:
    """``a, b or c``."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]
