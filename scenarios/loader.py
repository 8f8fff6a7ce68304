"""Read a scenario folder (``scenario.toml`` + data files) into a :class:`Scenario`.

Everything that can go wrong raises :class:`ScenarioError` with a one-line message naming
the file, the line (when there is one) and the field. See FORMAT.md for the format.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

from . import records
from .errors import ScenarioError, join_or, show, suggest
from .schema import (
    DEFAULT_SEED,
    STAGE_DEFAULTS,
    STAGES,
    ModelSettings,
    PreferenceSettings,
    RLHFSettings,
    Scenario,
    StageSettings,
    check_fits,
    field_names,
    warmup_for,
)

MANIFEST = "scenario.toml"
TOP_KEYS = ("name", "description", "seed", "model", *STAGES, "data")
DATA_KEYS = ("pretrain", "sft", "preference", "probes", "evals")
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "model": field_names(ModelSettings),
    "pretrain": field_names(StageSettings),
    "sft": field_names(StageSettings),
    "preference": field_names(PreferenceSettings),
    "reward": field_names(StageSettings),
    "rlhf": field_names(RLHFSettings),
    "data": DATA_KEYS,
}
DEFAULT_FILES = {"sft": "sft.jsonl", "preference": "preference.jsonl", "probes": "probes.jsonl"}
_GLOB_CHARS = re.compile(r"[*?\[]")
# Names other tools use for our keys, for "did you mean" hints difflib would miss.
ALIASES = {
    "learning_rate": "lr",
    "max_steps": "steps",
    "num_steps": "steps",
    "iters": "steps",
    "max_iters": "steps",
    "batch": "batch_size",
    "warmup": "warmup_steps",
    "wd": "weight_decay",
    "optim": "optimizer",
    "clip": "grad_clip",
    "max_grad_norm": "grad_clip",
    "n_embd": "d_model",
    "hidden_size": "d_model",
    "n_layers": "n_layer",
    "layers": "n_layer",
    "n_heads": "n_head",
    "heads": "n_head",
    "block_size": "context",
    "context_length": "context",
    "seq_len": "context",
    "vocab": "vocab_size",
}


# --- public entry points ------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario folder (or the ``scenario.toml`` inside one)."""
    root = Path(path)
    try:
        if root.is_file() and root.name == MANIFEST:
            root = root.parent
        elif root.is_file():
            hint = " (for a plain text file use --corpus)" if root.suffix == ".txt" else ""
            raise ScenarioError(f"expected a scenario folder, got a file{hint}", file=path)
        elif not root.is_dir():
            raise ScenarioError("no such scenario folder", file=path)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"cannot open: {_os_reason(exc)}", file=path) from None
    manifest = root / MANIFEST
    if not _is_file(manifest):
        raise ScenarioError(
            "missing manifest: a scenario folder needs a scenario.toml (see FORMAT.md)",
            file=manifest,
        )
    text = records.read_text(manifest, str(manifest))
    table = _parse_toml(text, str(manifest))
    return _build(table, root=root, label=str(manifest), text=text)


def default_scenario() -> Scenario:
    """The built-in "world" scenario, committed under ``scenarios/world/``."""
    return load_scenario(Path(__file__).parent / "world")


def corpus_scenario(file: str | Path, **overrides: Any) -> Scenario:
    """A pretraining-only scenario from one text file.

    ``overrides`` are what a manifest would hold: ``name``, ``description``, ``seed``,
    ``model`` and ``pretrain``/``sft``/``preference``/``reward`` (a dict of settings or a settings
    object), e.g. ``corpus_scenario("book.txt", pretrain={"steps": 500})``.
    """
    path = Path(file)
    label = str(file)
    if not _is_file(path):
        try:
            if path.is_dir():
                reason = "is a folder, expected a text file"
            elif path.exists():  # /dev/null, a pipe, a socket: there, but not a file of text
                reason = "not a regular file (a device or a pipe?), expected a text file"
            else:
                reason = "file not found"
        except (OSError, ValueError):
            reason = "file not found"
        raise ScenarioError(reason, file=label)
    corpus = records.read_text(path, label)
    if not corpus.strip():
        raise ScenarioError("the file is empty; pretraining needs text", file=label)
    if "data" in overrides:
        raise ScenarioError('a corpus scenario takes no "data" setting', field="data")
    table: dict[str, Any] = {"name": path.stem or "corpus", "description": f"Text of {path.name}"}
    for key, value in overrides.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        table[key] = value
    name, description, seed, model, stages = _settings(table, None, None)
    _check_corpus_size(corpus, model, label)
    return Scenario(
        name=name,
        description=description,
        root=None,
        seed=seed,
        model=model,
        pretrain=stages["pretrain"],
        sft=stages["sft"],
        preference=stages["preference"],  # type: ignore[arg-type]
        reward=stages["reward"],
        rlhf=stages["rlhf"],  # type: ignore[arg-type]
        corpus=corpus,
        corpus_files=(label,),
        sft_examples=(),
        preference_pairs=(),
        probes=(),
        evals={},
    )


# --- the manifest -------------------------------------------------------------------------


def _parse_toml(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        line = None
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        if m:
            line = int(m.group(1))
            msg = f"{msg[: m.start()]} (column {m.group(2)})"
        if re.search(r"\s*\(at end of document\)$", msg):
            msg = re.sub(r"\s*\(at end of document\)$", "", msg)
            line = len(text.rstrip("\n").split("\n"))
        if msg.startswith("Cannot overwrite a value"):
            msg += " (is a key or table given twice?)"
        raise ScenarioError(f"malformed TOML: {msg}", file=label, line=line) from None
    except RecursionError:
        raise ScenarioError("malformed TOML: nested too deeply", file=label) from None


def _find_line(text: str | None, section: str | None, key: str | None) -> int | None:
    """Best effort: the line of ``key = …`` inside ``[section]`` (top level when None)."""
    if text is None or not key:
        return None
    current: str | None = None
    key_re = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
    header_re = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    header_line: dict[str, int] = {}
    for n, line in enumerate(text.split("\n"), 1):
        header = header_re.match(line)
        if header:
            current = header.group(1).strip("\"'")
            header_line.setdefault(current, n)
            if section == current and key_re.match(line[header.end() :]):
                return n
            continue
        if current == section and key_re.match(line):
            return n
        if section and current is None and re.match(rf"^\s*{re.escape(section)}\.{key}\s*=", line):
            return n
    return header_line.get(section) if section else None


def _fail(reason: str, label: str | None, text: str | None, section: str | None, key: str | None):
    field = (f"[{section}] {key}" if section else key) if key else None
    line = _find_line(text, section, key)
    return ScenarioError(reason, file=label, line=line, field=field)


def _check_keys(table: dict, allowed: tuple[str, ...], section: str | None, label, text) -> None:
    for key in table:
        if key in allowed:
            continue
        where = f" in [{section}]" if section else ""
        hint = suggest(str(key), allowed)
        if ALIASES.get(str(key)) in allowed:
            hint = f' (did you mean "{ALIASES[str(key)]}"?)'
        if not hint:
            homes = [s for s, keys in SECTION_KEYS.items() if key in keys and s != section]
            if homes:
                hint = f" (it belongs in {join_or(f'[{s}]' for s in homes)})"
        line = _find_line(text, section, str(key))
        raise ScenarioError(f"unknown key {show(str(key))}{where}{hint}", file=label, line=line)


def _section(table: dict, name: str, label, text) -> dict[str, Any]:
    value = table.get(name, {})
    if not isinstance(value, dict):
        raise _fail(f"must be a table ([{name}]), got {show(value)}", label, text, None, name)
    _check_keys(value, SECTION_KEYS[name], name, label, text)
    return value


def _settings(table: dict, label: str | None, text: str | None):
    _check_keys(table, TOP_KEYS, None, label, text)
    name = table.get("name", "scenario")
    if not isinstance(name, str) or not name.strip() or len(name) > 80 or "\n" in name:
        raise _fail(f"must be a short one-line text, got {show(name)}", label, text, None, "name")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise _fail(f"must be text, got {show(description)}", label, text, None, "description")
    seed = table.get("seed", DEFAULT_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise _fail(f"must be a whole number ≥ 0, got {show(seed)}", label, text, None, "seed")
    for key, value in (("name", name), ("description", description)):
        records.check_encodable(value, label, None, key)

    model_table = _section(table, "model", label, text)
    try:
        model = ModelSettings(**model_table)
    except ScenarioError as exc:
        raise _fail(exc.reason, label, text, "model", exc.field) from None

    stages: dict[str, StageSettings] = {}
    for stage in STAGES:
        values = dict(_section(table, stage, label, text))
        base = STAGE_DEFAULTS[stage]
        values.setdefault("seed", seed)
        steps = values.get("steps")
        if "warmup_steps" not in values and isinstance(steps, int) and not isinstance(steps, bool):
            values["warmup_steps"] = warmup_for(steps, base.warmup_steps)
        try:
            stages[stage] = dataclasses.replace(base, **values)
        except ScenarioError as exc:
            raise _fail(exc.reason, label, text, stage, exc.field) from None
        try:
            check_fits(model, stage, stages[stage])
        except ScenarioError as exc:
            raise _fail(exc.reason, label, text, stage, "batch_size") from None
    return name.strip(), description.strip(), seed, model, stages


# --- the data files -----------------------------------------------------------------------


def _build(table: dict, *, root: Path, label: str, text: str) -> Scenario:
    table = dict(table)
    table.setdefault("name", root.resolve().name or "scenario")
    name, description, seed, model, stages = _settings(table, label, text)
    data = _section(table, "data", label, text)

    def files(key: str) -> list[tuple[str, Path]]:
        return _resolve(root, data.get(key), key, label, text)

    corpus_files = files("pretrain")
    parts = []
    for _, path in corpus_files:
        part = records.read_text(path, str(path))
        if not part.strip():
            raise ScenarioError("the file is empty; pretraining needs text", file=path)
        parts.append(part.rstrip("\n") + "\n")
    corpus = "\n".join(parts)
    if corpus:
        _check_corpus_size(corpus, model, str(corpus_files[0][1]))

    sft = tuple(c for _, p in files("sft") for c in records.read_sft(p, str(p)))
    pairs = tuple(c for _, p in files("preference") for c in records.read_preference(p, str(p)))
    probes = tuple(c for _, p in files("probes") for c in records.read_probes(p, str(p)))
    evals = {
        key: records.read_evals(path, str(path))
        for key, path in _eval_files(root, data.get("evals"), label, text)
    }
    if not (corpus or sft or pairs):
        raise ScenarioError(
            "no training data: add .txt files (pretraining), sft.jsonl (fine-tuning) or "
            "preference.jsonl (preference tuning) to the folder, or name them under [data]",
            file=label,
        )
    return Scenario(
        name=name,
        description=description,
        root=root,
        seed=seed,
        model=model,
        pretrain=stages["pretrain"],
        sft=stages["sft"],
        preference=stages["preference"],  # type: ignore[arg-type]
        reward=stages["reward"],
        rlhf=stages["rlhf"],  # type: ignore[arg-type]
        corpus=corpus,
        corpus_files=tuple(rel for rel, _ in corpus_files),
        sft_examples=sft,
        preference_pairs=pairs,
        probes=probes,
        evals=evals,
    )


def _check_corpus_size(corpus: str, model: ModelSettings, label: str) -> None:
    need = 2 * (model.context + 1)
    if len(corpus) < need:
        raise ScenarioError(
            f"the corpus has {len(corpus)} characters; one training batch needs at least "
            f"{need} (2 × (context {model.context} + 1)): add text or lower [model] context",
            file=label,
        )


def _resolve(root: Path, spec: object, key: str, label: str, text: str):
    """``[data] key`` as a list of (name as written, path); defaults when not given."""
    if spec is None:
        if key == "pretrain":
            found = _glob(root, "*.txt", key, label, text)
            return [(p.name, p) for p in found]
        name = DEFAULT_FILES[key]
        return [(name, root / name)] if _is_file(root / name) else []
    entries = [spec] if isinstance(spec, str) else spec
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise _fail(
            f"must be a file name or a list of them, got {show(spec)}", label, text, "data", key
        )
    out: list[tuple[str, Path]] = []
    for entry in entries:
        if not entry.strip() or "\x00" in entry:
            raise _fail(f"not a usable file name: {show(entry)}", label, text, "data", key)
        if _GLOB_CHARS.search(entry):
            matched = _glob(root, entry, key, label, text)
            if not matched:
                raise _fail(f"no file matches {show(entry)}", label, text, "data", key)
            out += [(str(p.relative_to(root)), p) for p in matched]
            continue
        path = root / entry
        if not _is_file(path):
            raise _fail(f"file not found: {path}", label, text, "data", key)
        out.append((entry, path))
    return out


def _glob(root: Path, pattern: str, key: str, label: str, text: str) -> list[Path]:
    try:
        return sorted(p for p in root.glob(pattern) if _is_file(p))
    except (OSError, ValueError, NotImplementedError) as exc:
        raise _fail(f"bad file pattern {show(pattern)}: {exc}", label, text, "data", key) from None


def _eval_files(root: Path, spec: object, label: str, text: str) -> list[tuple[str, Path]]:
    if spec is None:
        return [(p.stem[5:], p) for p in _glob(root, "eval_*.jsonl", "evals", label, text)]
    if not isinstance(spec, dict):
        raise _fail(
            f'must be a table of name = "file.jsonl", got {show(spec)}',
            label,
            text,
            "data",
            "evals",
        )
    out = []
    for name, entry in spec.items():
        if not isinstance(entry, str) or not entry.strip() or "\x00" in entry:
            raise _fail(
                f"{name}: must be a file name, got {show(entry)}", label, text, "data", "evals"
            )
        path = root / entry
        if not _is_file(path):
            raise _fail(f"{name}: file not found: {path}", label, text, "data", "evals")
        out.append((name, path))
    return out


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
