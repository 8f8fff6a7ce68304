"""Engine messages recorded once, kept as JSON in tests/recordings/, and read back for the
screen snapshots: a new torch or CPU kernel changes what training computes, and must not
re-render every screenshot. ``python tests/record.py`` trains again and rewrites the files.

The codec is generic over the frozen dataclasses of the protocol (model/protocol/: training.py,
later_stages.py, compare.py) and the settings they carry (scenarios/schema.py). A message is
its type's name and its fields:

    {"type": "Alternative", "token_id": 7, "text": " the", "prob": 0.25}

A tuple is a JSON array; what JSON has no word for is a one-key object: a list
{"list": [...]}, bytes {"bytes": "<hex>"}, a float that is not finite {"float": "nan"}.
Floats are written by ``repr``, so they read back to the same bits.

Reading is strict: a type the protocol no longer has, a field it lacks, or a field of the
protocol the file lacks (even one with a default) fails, naming the file, where in it, and
the command that records it again. A recording cannot silently drift from the protocol.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).resolve().parent / "recordings"
RECORD_COMMAND = "python tests/record.py"
# The key naming a message's type: a dataclass with a field of that name would be
# ambiguous, so the registry refuses one.
_TYPE = "type"
# The one-key objects for what JSON has no word for (never mistaken for a message: no type).
_SPECIAL = ("list", "bytes", "float")
_LITERALS = {None: "null", True: "true", False: "false"}


class StaleRecording(Exception):
    """A recording that does not fit the protocol of today's code."""


@functools.cache
def message_types() -> dict[str, type]:
    """Every dataclass a recorded message may hold, by its name."""
    from model.protocol import compare, later_stages, training
    from scenarios import schema

    found: dict[str, type] = {}
    for module in (training, later_stages, compare, schema):
        for name, obj in vars(module).items():
            if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
                continue
            if obj.__module__ != module.__name__:
                continue  # imported, not defined there
            if found.setdefault(name, obj) is not obj:
                raise TypeError(f"two message types are named {name}: the codec needs one")
            if _TYPE in {f.name for f in dataclasses.fields(obj)}:
                raise TypeError(f"{name} has a field named {_TYPE!r}, the codec's own key")
    return found


def encode(value: Any) -> Any:
    """``value`` as plain JSON data (see the module's docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"float": repr(float(value))}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    if isinstance(value, list):
        return {"list": [encode(v) for v in value]}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if message_types().get(name) is not type(value):
            raise TypeError(f"{type(value).__qualname__} is not a protocol message")
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TYPE: name, **fields}
    raise TypeError(f"cannot record a {type(value).__name__}: {value!r:.80}")


def decode(data: Any, where: str = "the recording") -> Any:
    """What :func:`encode` gave ``data`` from; ``where`` names it in errors."""
    if isinstance(data, list):
        return tuple(decode(v, f"{where}[{i}]") for i, v in enumerate(data))
    if not isinstance(data, dict):
        return data
    if _TYPE in data:
        return _message(data, where)
    if len(data) != 1 or next(iter(data)) not in _SPECIAL:
        raise ValueError(f"{where}: neither a message nor one of {_SPECIAL}: {data!r:.80}")
    ((kind, value),) = data.items()
    if kind == "list":
        return [decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind == "bytes":
        return bytes.fromhex(value)
    return float(value)


def _message(data: dict, where: str) -> Any:
    name = data[_TYPE]
    cls = message_types().get(name)
    if cls is None:
        _stale(where, f"the protocol has no message {name} any more")
    wanted = [f.name for f in dataclasses.fields(cls) if f.init]
    got = [k for k in data if k != _TYPE]
    missing = [k for k in wanted if k not in data]
    unknown = [k for k in got if k not in wanted]
    if missing:
        _stale(where, f"{name} has field(s) {', '.join(missing)} that the recording lacks")
    if unknown:
        _stale(where, f"{name} has no field(s) {', '.join(unknown)} any more")
    return cls(**{k: decode(data[k], f"{where}.{k}") for k in wanted})


def _stale(where: str, what: str) -> None:
    raise StaleRecording(
        f"{where}: {what}. The protocol changed since the recording was made: "
        f"record it again with `{RECORD_COMMAND}` (then look at the snapshots it changes)."
    )


def dumps(messages: dict[str, Any], **about: str) -> str:
    """A recording file's text: what made it (``about``), then its messages by name, each
    a message or a tuple of them."""
    body = {"recorded_by": RECORD_COMMAND, **about}
    body["messages"] = {name: encode(value) for name, value in messages.items()}
    return _laid(body, 0)[1] + "\n"


def _laid(data: Any, depth: int, width: int = 100) -> tuple[str, str]:
    """``data`` as JSON on one line, and laid out to start at ``depth``: what fits a line
    (an Alternative, a LayerStat) on one, the rest one item a line, so that a diff of two
    recordings reads message by message. Built bottom-up: each level joins its children's
    text instead of writing its whole subtree again."""
    if not isinstance(data, dict | list) or not data:
        if type(data) is int or type(data) is float and math.isfinite(data):
            flat = repr(data)  # as json.dumps writes numbers, without its cost per call
        elif isinstance(data, bool) or data is None:
            flat = _LITERALS[data]
        else:
            flat = json.dumps(data, ensure_ascii=False, allow_nan=False)
        return flat, flat
    if isinstance(data, list):
        heads = [""] * len(data)
        kids = [_laid(v, depth + 1, width) for v in data]
        flat = "[" + ", ".join(k[0] for k in kids) + "]"
    else:
        heads = [json.dumps(k, ensure_ascii=False) + ": " for k in data]
        kids = [_laid(v, depth + 1, width) for v in data.values()]
        flat = "{" + ", ".join(h + k[0] for h, k in zip(heads, kids, strict=True)) + "}"
    if len(flat) + depth <= width:
        return flat, flat
    pad = " " * (depth + 1)
    items = ",\n".join(pad + h + k[1] for h, k in zip(heads, kids, strict=True))
    close = "]" if isinstance(data, list) else "}"
    return flat, flat[0] + "\n" + items + "\n" + " " * depth + close


def loads(text: str, where: str = "the recording") -> dict[str, Any]:
    """The messages of a recording file's text, by the names the recorder gave them."""
    body = json.loads(text)
    return {k: decode(v, f"{where}: {k}") for k, v in body["messages"].items()}


def load(name: str) -> dict[str, Any]:
    """The messages of tests/recordings/``name``.json."""
    path = RECORDINGS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: record it with `{RECORD_COMMAND}`")
    return loads(path.read_text(encoding="utf-8"), f"tests/recordings/{name}.json")
