"""Byte-level BPE trained on a scenario's own corpus, run through tiktoken.

We train the merges ourselves so the vocabulary is small enough to watch (hundreds of tokens,
each one meaningful for this corpus), and hand them to `tiktoken.Encoding` so encoding is fast
and exact. No torch here: the UI process may import this module.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import regex
import tiktoken

# GPT-2's pre-split: merges never cross a word, number or punctuation boundary.
PAT_STR = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
SPECIAL_TOKENS = ("<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
MIN_VOCAB_SIZE = 256 + len(SPECIAL_TOKENS)
DEFAULT_VOCAB_SIZE = 512
# Part of the cache file name: bump it when training changes, so stale merges are not reused.
CACHE_VERSION = 2

# Control characters would break a one-line token row, so token_text shows them escaped.
_ESCAPES = {i: f"\\x{i:02x}" for i in (*range(32), 127)} | {9: "\\t", 10: "\\n", 13: "\\r"}


class TokenizerError(ValueError):
    """A tokenizer problem explained in one line, fit to show a user as is."""


Pair = tuple[int, int]


def train_bpe(text: str, vocab_size: int) -> dict[bytes, int]:
    """Learn byte-level BPE merges on `text`; return tiktoken mergeable ranks.

    Ranks 0..255 are the single bytes in byte order, then one rank per merge, in merge order.
    `vocab_size` counts everything (256 bytes + merges + special tokens), so at most
    `vocab_size - len(SPECIAL_TOKENS)` ranks come back. Training stops early, with fewer
    ranks, when no pair of adjacent tokens occurs at least twice: more merges would only
    memorise. Each round merges the most frequent pair; ties go to the pair whose bytes sort
    first, so the result depends only on the text, never on hash seeds or dict order.
    """
    _check_vocab_size(vocab_size)
    if not text:
        raise TokenizerError("cannot train a tokenizer on an empty corpus")
    word_counts = Counter(w.encode("utf-8", "replace") for w in regex.findall(PAT_STR, text))
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    vocab = [bytes([i]) for i in range(256)]
    ranks = {b: i for i, b in enumerate(vocab)}

    # Incremental bookkeeping: a merge only touches the words that contain its pair.
    pair_counts: defaultdict[Pair, int] = defaultdict(int)
    where: defaultdict[Pair, set[int]] = defaultdict(set)
    for i, ids in enumerate(words):
        for pair in zip(ids, ids[1:], strict=False):
            pair_counts[pair] += freqs[i]
            where[pair].add(i)
    # Max-heap with lazy invalidation: an entry may overstate a pair's count (counts of old
    # pairs only fall; a rise pushes a fresh entry), so a popped entry whose count is still
    # current is the true maximum, and ties fall to the bytes order in the tuple.
    heap = [(-c, vocab[a], vocab[b], a, b) for (a, b), c in pair_counts.items()]
    heapq.heapify(heap)

    target = vocab_size - len(SPECIAL_TOKENS)
    while len(ranks) < target and heap:
        neg_count, _, _, a, b = heapq.heappop(heap)
        count = pair_counts[a, b]
        if count != -neg_count:
            if count > 0:
                heapq.heappush(heap, (-count, vocab[a], vocab[b], a, b))
            continue
        if count < 2:
            break
        merged = vocab[a] + vocab[b]
        # A token's merge history never depends on its context, so its bytes should be new;
        # if not, reuse the id rather than break tiktoken, which keys tokens by bytes.
        new_id = ranks.get(merged)
        if new_id is None:
            new_id = len(vocab)
            vocab.append(merged)
            ranks[merged] = new_id
        delta: defaultdict[Pair, int] = defaultdict(int)
        for i in where.pop((a, b)):
            old_ids, freq = words[i], freqs[i]
            new_ids = _merge(old_ids, a, b, new_id)
            old_pairs = list(zip(old_ids, old_ids[1:], strict=False))
            new_pairs = list(zip(new_ids, new_ids[1:], strict=False))
            for pair in old_pairs:
                delta[pair] -= freq
            for pair in new_pairs:
                delta[pair] += freq
            for pair in set(old_pairs) - set(new_pairs):
                if pair in where:
                    where[pair].discard(i)
            for pair in set(new_pairs) - set(old_pairs):
                where[pair].add(i)
            words[i] = new_ids
        for pair, d in delta.items():
            pair_counts[pair] += d
            if d > 0:
                heapq.heappush(heap, (-pair_counts[pair], vocab[pair[0]], vocab[pair[1]], *pair))
    return ranks


def _merge(ids: list[int], a: int, b: int, new_id: int) -> list[int]:
    out: list[int] = []
    i, n = 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _check_vocab_size(vocab_size: int) -> None:
    if vocab_size < MIN_VOCAB_SIZE:
        raise TokenizerError(
            f"vocabulary size {vocab_size} is below the minimum {MIN_VOCAB_SIZE} "
            f"(256 bytes + {len(SPECIAL_TOKENS)} special tokens)"
        )


def _check_ranks(ranks: dict[bytes, int]) -> None:
    """Refuse ranks tiktoken would mis-handle: it panics on a missing byte and cannot
    produce a token that is not two lower-ranked tokens joined."""
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise TokenizerError("ranks are not the numbers 0..n-1, each once")
    for byte in range(256):
        if ranks.get(bytes([byte])) != byte:
            raise TokenizerError(f"byte 0x{byte:02x} does not have rank {byte}")
    for token, rank in ranks.items():
        if len(token) > 1 and not any(
            ranks.get(token[:k], rank) < rank and ranks.get(token[k:], rank) < rank
            for k in range(1, len(token))
        ):
            raise TokenizerError(f"token {token!r} (rank {rank}) is not a merge of lower ranks")


def _serialize(ranks: dict[bytes, int]) -> bytes:
    """tiktoken's rank-file format, which `tiktoken.load.load_tiktoken_bpe` also reads."""
    by_rank = sorted(ranks.items(), key=lambda item: item[1])
    return b"".join(base64.b64encode(t) + b" " + str(r).encode() + b"\n" for t, r in by_rank)


def _parse(data: bytes, path: Path) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            token_b64, rank_text = line.split()
            token, rank = base64.b64decode(token_b64, validate=True), int(rank_text)
        except ValueError:  # binascii.Error included
            raise TokenizerError(
                f"tokenizer file {path} is malformed: line {lineno} is not '<base64> <rank>'"
            ) from None
        if token in ranks:
            raise TokenizerError(f"tokenizer file {path} is malformed: line {lineno} repeats")
        ranks[token] = rank
    if not ranks:
        raise TokenizerError(f"tokenizer file {path} is empty")
    return ranks


def _cache_read_only() -> bool:
    from model.stage_cache import read_only

    return read_only()


def default_cache_dir() -> Path | None:
    """`$TRAINTERM_CACHE/tokenizers`, else `~/.cache/trainterm/tokenizers`; None if no home."""
    root = os.environ.get("TRAINTERM_CACHE")
    if root:
        return Path(root) / "tokenizers"
    try:
        return Path.home() / ".cache" / "trainterm" / "tokenizers"
    except RuntimeError:
        return None


class Tokenizer:
    """Our merges plus the chat special tokens, as a `tiktoken.Encoding`.

    Special tokens take the ids right after the last mergeable rank. `encode` never turns
    special-token strings in the text into special ids: a user typing "<|end|>" gets ordinary
    byte tokens, so only code that means to can end a turn.
    """

    def __init__(self, ranks: dict[bytes, int], name: str = "trainterm") -> None:
        _check_ranks(ranks)
        self._ranks = dict(ranks)
        n = len(self._ranks)
        self._specials = {s: n + i for i, s in enumerate(SPECIAL_TOKENS)}
        self._special_text = {i: s for s, i in self._specials.items()}
        self._enc = tiktoken.Encoding(
            name=name,
            pat_str=PAT_STR,
            mergeable_ranks=self._ranks,
            special_tokens=self._specials,
            explicit_n_vocab=n + len(SPECIAL_TOKENS),
        )
        self._file_bytes = _serialize(self._ranks)
        self._hash = hashlib.sha256(self._file_bytes).hexdigest()

    def __repr__(self) -> str:
        return f"Tokenizer(n_vocab={self.n_vocab}, hash={self._hash[:12]})"

    def encode(self, text: str) -> list[int]:
        return self._enc.encode_ordinary(text)

    def decode(self, ids: Iterable[int]) -> str:
        return self._enc.decode(list(ids), errors="replace")

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self._enc.decode_bytes(list(ids))

    def token_bytes(self, token_id: int) -> bytes:
        try:
            return self._enc.decode_single_token_bytes(token_id)
        except (KeyError, OverflowError, TypeError):
            raise TokenizerError(f"token id {token_id} is not in 0..{self.n_vocab - 1}") from None

    def token_text(self, token_id: int) -> str:
        """One token as display text, on one line.

        Valid UTF-8 shows as itself; bytes that are only part of a character show as `\\xe2`
        escapes (a token may split a character); tab, newline, CR and other control characters
        show as `\\t`, `\\n`, `\\r`, `\\x..`; special tokens show their string. A literal
        backslash in the text is left alone. Use `decode` for the exact text.
        """
        if token_id in self._special_text:
            return self._special_text[token_id]
        raw = self.token_bytes(token_id)
        return raw.decode("utf-8", "backslashreplace").translate(_ESCAPES)

    def special(self, name: str) -> int:
        try:
            return self._specials[name]
        except KeyError:
            known = ", ".join(SPECIAL_TOKENS)
            raise TokenizerError(f"unknown special token {name!r} (known: {known})") from None

    @property
    def eot_id(self) -> int:
        return self._specials["<|endoftext|>"]

    @property
    def system_id(self) -> int:
        return self._specials["<|system|>"]

    @property
    def user_id(self) -> int:
        return self._specials["<|user|>"]

    @property
    def assistant_id(self) -> int:
        return self._specials["<|assistant|>"]

    @property
    def end_id(self) -> int:
        return self._specials["<|end|>"]

    @property
    def n_vocab(self) -> int:
        """All ids, special tokens included: the model's embedding size."""
        return self._enc.n_vocab

    @property
    def ranks(self) -> dict[bytes, int]:
        return dict(self._ranks)

    @property
    def hash(self) -> str:
        """sha256 hex of the rank file `save` writes: names these merges in checkpoints."""
        return self._hash

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the rank file atomically: a reader sees the old file or the new, never half."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self._file_bytes)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str], expected_hash: str | None = None) -> Tokenizer:
        """Read a rank file; any unreadable, corrupt or mismatched file is a TokenizerError."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise TokenizerError(f"cannot read tokenizer file {path}: {e.strerror or e}") from None
        if expected_hash is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected_hash.lower():
                raise TokenizerError(
                    f"tokenizer file {path} has sha256 {actual[:12]}…, "
                    f"expected {expected_hash[:12]}…"
                )
        ranks = _parse(data, path)
        try:
            return cls(ranks)
        except TokenizerError as e:
            raise TokenizerError(f"tokenizer file {path} is malformed: {e}") from None

    @classmethod
    def for_corpus(
        cls, text: str, vocab_size: int = DEFAULT_VOCAB_SIZE, cache_dir: Path | None = None
    ) -> Tokenizer:
        """Train on `text`, or reuse the merges cached for this exact corpus and size.

        The cache is a convenience: a damaged cache file is retrained and overwritten, and
        an unwritable cache directory just means no caching. A cached vocabulary smaller than
        asked is retrained too: a file cut at a line end looks just like one, and so does
        training that stopped early, which then costs a retraining each time.
        """
        _check_vocab_size(vocab_size)
        directory = cache_dir if cache_dir is not None else default_cache_dir()
        path = None
        if directory is not None:
            digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
            path = Path(directory) / f"bpe-v{CACHE_VERSION}-{digest}-{vocab_size}.tiktoken"
            if path.is_file():
                with contextlib.suppress(TokenizerError):
                    cached = cls.load(path)
                    if cached.n_vocab == vocab_size:
                        return cached
        tokenizer = cls(train_bpe(text, vocab_size))
        if path is not None and not (cache_dir is None and _cache_read_only()):
            with contextlib.suppress(OSError):
                tokenizer.save(path)
        return tokenizer
