"""The recorded engine messages (tests/recordings/, tests/recorded.py): they read back as
they were made, to the bit, and they cannot drift from the protocol unseen."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
from dataclasses import dataclass

import pytest
import record
import recorded
from hypothesis import given, settings
from hypothesis import strategies as st
from recorded import RECORD_COMMAND, RECORDINGS, StaleRecording, decode, dumps, encode, loads

from model import protocol as p
from scenarios.schema import RLHFSettings

NAMES = sorted(path.stem for path in RECORDINGS.glob("*.json"))


def identical(a, b) -> bool:
    """Equal, and of the same types all the way down: 1 is not 1.0, a tuple is not a list,
    -0.0 is not 0.0, and nan is nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(map(identical, a, b))
    if dataclasses.is_dataclass(a):
        return all(identical(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


def through_text(value):
    """``value`` written as a recording file is, and read back."""
    return loads(dumps({"value": value}))["value"]


def test_every_recorder_has_its_file_and_every_file_its_recorder():
    assert NAMES == sorted(record.RECORDERS), f"re-run `{RECORD_COMMAND}`"


@pytest.mark.parametrize("name", NAMES)
def test_a_recording_reads_back_to_the_messages_it_was_written_from(name):
    """Read, written again, read again: the same messages, and the same text to the byte
    (so the file is exactly what the recorder writes, nothing edited by hand)."""
    path = RECORDINGS / f"{name}.json"
    text = path.read_text(encoding="utf-8")
    messages = loads(text, name)
    about = {k: v for k, v in json.loads(text).items() if k not in ("recorded_by", "messages")}
    again = dumps(messages, **about)
    assert again == text, f"{path} is not as the recorder writes it: re-run `{RECORD_COMMAND}`"
    back = loads(again, name)
    assert back.keys() == messages.keys()
    for key, value in messages.items():
        assert identical(back[key], value), key


@functools.cache
def hints(cls) -> dict[str, typing.Any]:
    """The field types of a message, the names its module imports only for type checkers
    (the settings, the later stages' messages) resolved."""
    from model import settings

    return typing.get_type_hints(cls, localns={**vars(settings), **recorded.message_types()})


def fits(value, hint) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(fits, value, args))
    if hint is float:  # as the type checkers read it: an int is a float too
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise TypeError(f"no rule for {hint!r}")


def mistyped(value, where: str):
    """Every field, anywhere in ``value``, that does not hold what its type says."""
    if isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from mistyped(item, f"{where}[{i}]")
    elif dataclasses.is_dataclass(value):
        types_ = hints(type(value))
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if not fits(item, types_[f.name]):
                yield f"{where}.{f.name} = {item!r:.60} is no {types_[f.name]}"
            yield from mistyped(item, f"{where}.{f.name}")


@pytest.mark.parametrize("name", NAMES)
def test_a_recording_fits_todays_protocol(name):
    """Every message decodes into today's dataclass with every field present (load fails
    otherwise, saying to record again), and every field holds what its type says."""
    messages = recorded.load(name)
    wrong = [w for key, value in messages.items() for w in mistyped(value, f"{name}: {key}")]
    assert not wrong, (
        f"the protocol's types changed since tests/recordings/{name}.json was recorded: "
        f"record it again with `{RECORD_COMMAND}`\n" + "\n".join(wrong[:10])
    )


def test_a_field_added_to_the_protocol_fails_loudly_and_says_what_to_run(monkeypatch):
    @dataclass(frozen=True)
    class Candidate(p.Candidate):
        novelty: float = 0.0  # a default does not excuse it: the recording never had it

    today = recorded.message_types()
    monkeypatch.setattr(recorded, "message_types", lambda: {**today, "Candidate": Candidate})
    with pytest.raises(StaleRecording) as failed:
        recorded.load("why")
    said = str(failed.value)
    assert "Candidate has field(s) novelty that the recording lacks" in said
    assert "tests/recordings/why.json: sample.choices[0].candidates[0]" in said
    assert RECORD_COMMAND in said and "tests/record.py" in RECORD_COMMAND


def test_a_field_or_message_gone_from_the_protocol_fails_loudly():
    data = encode(p.Alternative(3, "a", 0.5))
    with pytest.raises(StaleRecording, match=r"Alternative has no field\(s\) rank any more"):
        decode({**data, "rank": 1})
    with pytest.raises(StaleRecording, match="no message Guess any more.*tests/record.py"):
        decode({**data, "type": "Guess"})


def test_nested_tuples_none_and_odd_floats_come_back_exact():
    figures = p.LoopFigures(
        step=1,
        phase="forward",
        batch_shape=(2, 3),
        embeddings=((0.1, -0.0), ()),
        head_attention=(b"\x00\xff", b""),
        head_shares=((p.HeadShares(0.5, 1 / 3, 0.0),), ()),
        grad_norm=None,
    )
    report = p.StepReport(
        "pretrain", 1, 2, float("nan"), 1e-300, float("-inf"), float("inf"), 3, 5e-324,
        (p.LayerStat("Embed", 0.1, 1 / 3, 2.0),), (), val_loss=None,
        losses=((1, 0.1), (2, 1 / 3)), series=(("gold", 1, -2.5),), figures=figures,
        rl=p.RLView("q", (p.RLSample("a\n\x00é", 0.5, 0.1, 0.4, -0.0, True, gold=None),)),
    )  # fmt: skip
    assert identical(through_text(report), report)
    ready = p.EngineReady("s", "rlhf", 1, 2, 3, 4, 5, 6, 7, "AdamW", 8, 1,
                          settings=RLHFSettings(beta=0.0), stage_data=(("sft", "y"),))  # fmt: skip
    back = through_text(ready)
    assert identical(back, ready) and type(back.settings) is RLHFSettings
    # What JSON has no word for keeps its type: a list stays a list, bytes stay bytes.
    odd = [(1, None), b"\x01", 10**400, True]
    assert identical(through_text(odd), odd)


def test_what_is_no_protocol_message_is_refused():
    @dataclass(frozen=True)
    class Alternative:  # the name of a message, but not the protocol's class
        token_id: int

    for value in (Alternative(1), {"a": 1}, {1, 2}, object()):
        with pytest.raises(TypeError):
            encode(value)


leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary()


def _nested(children):
    return (
        st.lists(children, max_size=4).map(tuple)
        | st.lists(children, max_size=4)
        | st.builds(p.Alternative, children, children, children)
        | st.builds(p.PairView, children, children, children)
        | st.builds(p.LossHistory, children, children)
    )


@settings(deadline=None)  # a shared, loaded machine: time is not what this tests
@given(st.recursive(leaves, _nested, max_leaves=40))
def test_any_nesting_of_values_and_messages_comes_back_exact(value):
    assert identical(through_text(value), value)
