"""The tokenizer, for real: trains a tiny BPE on generated text inside the test."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections import Counter

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from model import tokenizer as tokenizer_module
from model.tokenizer import (
    MIN_VOCAB_SIZE,
    PAT_STR,
    SPECIAL_TOKENS,
    Tokenizer,
    TokenizerError,
    train_bpe,
)

VOCAB_SIZE = 400


def make_corpus(n_chars: int = 8_000, seed: int = 0) -> str:
    """English-ish text: Zipf-distributed words, punctuation, numbers, a dash, an accent."""
    rng = random.Random(seed)
    common = ["the", "of", "and", "to", "in", "is", "was", "that", "for", "on", "with", "as"]
    syllables = ["ka", "lo", "mi", "ran", "te", "vos", "shi", "un", "bel", "dra", "or", "ith"]
    rare = ["".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(150)]
    words = common + rare + ["café", "naïve"]
    weights = [1 / (i + 1) for i in range(len(words))]
    out: list[str] = []
    while sum(map(len, out)) < n_chars:
        sentence = " ".join(rng.choices(words, weights, k=rng.randint(4, 14))).capitalize()
        tail = rng.choice([".", ".", "!", " — in 1984.", ", they said."])
        out.append(sentence + tail + rng.choice([" ", " ", "\n", "\n\n"]))
    return "".join(out)


@pytest.fixture(scope="module")
def corpus() -> str:
    return make_corpus()


@pytest.fixture(scope="module")
def tok(corpus: str) -> Tokenizer:
    return Tokenizer(train_bpe(corpus, VOCAB_SIZE))


# --- training ---------------------------------------------------------------------------------


def reference_bpe(text: str, vocab_size: int) -> dict[bytes, int]:
    """The textbook algorithm, recounting every pair each round: slow, obviously right."""
    counts = Counter(w.encode() for w in regex.findall(PAT_STR, text))
    words = {w: list(w) for w in counts}
    vocab = [bytes([i]) for i in range(256)]
    ranks = {b: i for i, b in enumerate(vocab)}
    while len(ranks) < vocab_size - len(SPECIAL_TOKENS):
        pairs: Counter[tuple[int, int]] = Counter()
        for w, ids in words.items():
            for pair in zip(ids, ids[1:], strict=False):
                pairs[pair] += counts[w]
        if not pairs:
            break
        (a, b), n = min(pairs.items(), key=lambda kv: (-kv[1], vocab[kv[0][0]], vocab[kv[0][1]]))
        if n < 2:
            break
        merged = vocab[a] + vocab[b]
        if merged not in ranks:
            ranks[merged] = len(vocab)
            vocab.append(merged)
        new = ranks[merged]
        for w, ids in words.items():
            out, i = [], 0
            while i < len(ids):
                if ids[i : i + 2] == [a, b]:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            words[w] = out
    return ranks


def test_incremental_training_matches_the_textbook_algorithm(corpus: str) -> None:
    small = corpus[:3_000] + " aaaa aaa aaaaa abab ababab"  # overlapping pairs, too
    assert train_bpe(small, 330) == reference_bpe(small, 330)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab c\n", max_size=200), st.integers(MIN_VOCAB_SIZE, 300))
def test_incremental_training_matches_on_repetitive_text(text: str, vocab_size: int) -> None:
    if text:
        assert train_bpe(text, vocab_size) == reference_bpe(text, vocab_size)


def test_vocab_size_is_honoured_and_specials_follow_the_ranks(tok: Tokenizer) -> None:
    assert tok.n_vocab == VOCAB_SIZE
    n_ranks = len(tok.ranks)
    assert n_ranks == VOCAB_SIZE - len(SPECIAL_TOKENS)
    assert sorted(tok.ranks.values()) == list(range(n_ranks))
    assert all(tok.ranks[bytes([b])] == b for b in range(256))
    ids = [tok.special(s) for s in SPECIAL_TOKENS]
    assert ids == list(range(n_ranks, n_ranks + len(SPECIAL_TOKENS)))
    assert [tok.eot_id, tok.system_id, tok.user_id, tok.assistant_id, tok.end_id] == ids


def test_merges_really_happen(tok: Tokenizer, corpus: str) -> None:
    for word in (" the", " of", " and"):
        assert len(tok.encode(word)) == 1, word
    assert len(tok.encode(corpus)) < len(corpus.encode()) / 2.5


def test_training_is_deterministic_even_across_hash_seeds(corpus: str, tmp_path) -> None:
    ranks = train_bpe(corpus, VOCAB_SIZE)
    assert train_bpe(corpus, VOCAB_SIZE) == ranks
    # bytes hashing is salted per process: a set- or dict-order dependence would show here.
    (tmp_path / "corpus.txt").write_text(corpus, encoding="utf-8")
    code = (
        "import sys; from model.tokenizer import Tokenizer, train_bpe; "
        "text = open(sys.argv[1], encoding='utf-8').read(); "
        f"print(Tokenizer(train_bpe(text, {VOCAB_SIZE})).hash)"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "corpus.txt")],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == Tokenizer(ranks).hash


def test_training_stops_early_when_nothing_repeats() -> None:
    ranks = train_bpe("abc abc", 1_000)
    assert b" abc" not in ranks  # " abc" occurs once: no reason to learn it
    assert b"abc" in ranks
    assert len(ranks) < 1_000 - len(SPECIAL_TOKENS)
    assert Tokenizer(ranks).n_vocab == len(ranks) + len(SPECIAL_TOKENS)


def test_bad_training_requests_raise_one_line_errors() -> None:
    with pytest.raises(TokenizerError, match="below the minimum 261") as info:
        train_bpe("hello", MIN_VOCAB_SIZE - 1)
    assert "\n" not in str(info.value)
    with pytest.raises(TokenizerError, match="empty"):
        train_bpe("", 512)
    with pytest.raises(TokenizerError, match="below the minimum"):
        Tokenizer.for_corpus("hello", 200, cache_dir=None)


def test_pre_split_is_gpt2s() -> None:
    # tiktoken's current gpt2 pattern is a possessive rewrite of ours; they split alike.
    from tiktoken_ext.openai_public import r50k_pat_str

    text = "Hello, world!  It's 2024 —\tnaïve café 東京 👍🏽\n\n  end  "
    assert regex.findall(PAT_STR, text) == regex.findall(r50k_pat_str, text)


# --- encoding and display --------------------------------------------------------------------

special_or_text = st.sampled_from([*SPECIAL_TOKENS, "<|", "|>", " the", "\n", "é", "👍🏽"])


@settings(max_examples=300, deadline=None)
@given(st.text() | st.lists(special_or_text | st.text(max_size=5)).map("".join))
@example("")
@example("Hello, world!\n\n\tTabs\r\nand CRLF  ")
@example("e\u0301 a\u0308\u0304 👍🏽 👨‍👩‍👧 東京タワー 한국어 مرحبا")
@example("\x00\x7f\u200b\ufeff\U0010ffff")
@example("hi <|end|> there <|endoftext|><|user|>")
def test_round_trip_is_exact_and_never_makes_special_tokens(tok: Tokenizer, text: str) -> None:
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.decode_bytes(ids) == text.encode()
    assert all(0 <= i < len(tok.ranks) for i in ids)


def test_special_token_strings_in_user_text_stay_ordinary(tok: Tokenizer) -> None:
    ids = tok.encode("hi <|end|> there")
    specials = {tok.special(s) for s in SPECIAL_TOKENS}
    assert len(specials) == len(SPECIAL_TOKENS)
    assert min(specials) >= len(tok.ranks)
    assert not specials & set(ids)
    assert tok.decode([tok.user_id, *tok.encode("hi"), tok.end_id]) == "<|user|>hi<|end|>"
    with pytest.raises(TokenizerError, match="unknown special token"):
        tok.special("<|tool|>")


def test_token_text_is_honest_about_partial_characters(tok: Tokenizer) -> None:
    assert tok.token_text(0xE2) == "\\xe2"
    assert tok.token_bytes(0xE2) == b"\xe2"
    # "—" is e2 80 94; its pieces are merged without the whole: some token must be partial.
    partial = [
        i
        for b, i in tok.ranks.items()
        if len(b) > 1 and b.decode("utf-8", "replace") != b.decode("utf-8", "ignore")
    ]
    assert partial
    for i in partial:
        assert "\\x" in tok.token_text(i)
    assert tok.token_text(tok.encode(" the")[0]) == " the"
    assert tok.token_text(tok.end_id) == "<|end|>"
    assert tok.token_bytes(tok.end_id) == b"<|end|>"
    assert tok.token_text(tok.ranks[b"\n"]) == "\\n"
    assert tok.token_text(tok.ranks[b"\t"]) == "\\t"
    with pytest.raises(TokenizerError, match="not in 0.."):
        tok.token_text(tok.n_vocab)


# --- files and cache ---------------------------------------------------------------------------


def test_save_load_round_trip(tok: Tokenizer, corpus: str, tmp_path) -> None:
    path = tmp_path / "sub" / "tok.tiktoken"
    tok.save(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tok.hash
    assert [p.name for p in path.parent.iterdir()] == ["tok.tiktoken"]  # no temp file left
    loaded = Tokenizer.load(path, expected_hash=tok.hash)
    assert loaded.ranks == tok.ranks
    assert loaded.hash == tok.hash
    assert loaded.encode(corpus) == tok.encode(corpus)
    # The format is tiktoken's own.
    from tiktoken.load import load_tiktoken_bpe

    assert load_tiktoken_bpe(str(path), expected_hash=tok.hash) == tok.ranks


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2 + 3], id="truncated-mid-line"),
        pytest.param(lambda data: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, id="garbage"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data.replace(b" 300\n", b" 9999\n"), id="rank-gap"),
        pytest.param(lambda data: b"\n".join(data.split(b"\n")[1:]), id="missing-byte"),
        pytest.param(lambda data: data.replace(b" 300\n", b" x\n"), id="bad-rank"),
    ],
)
def test_corrupt_files_raise_tokenizer_error(tok: Tokenizer, tmp_path, damage) -> None:
    path = tmp_path / "tok.tiktoken"
    tok.save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(TokenizerError, match="tok.tiktoken") as info:
        Tokenizer.load(path)
    assert "\n" not in str(info.value)


def test_hash_mismatch_and_missing_file_raise(tok: Tokenizer, tmp_path) -> None:
    path = tmp_path / "tok.tiktoken"
    tok.save(path)
    with pytest.raises(TokenizerError, match="sha256"):
        Tokenizer.load(path, expected_hash="0" * 64)
    with pytest.raises(TokenizerError, match="cannot read"):
        Tokenizer.load(tmp_path / "missing.tiktoken")


def test_cache_hit_reuses_the_file_without_training(corpus: str, tmp_path, monkeypatch) -> None:
    first = Tokenizer.for_corpus(corpus, VOCAB_SIZE, cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    digest = hashlib.sha256(corpus.encode()).hexdigest()[:16]
    assert digest in path.name and path.name.endswith(f"-{VOCAB_SIZE}.tiktoken")

    def no_training(text: str, vocab_size: int) -> dict[bytes, int]:
        raise AssertionError("cache hit expected, but it trained")

    monkeypatch.setattr(tokenizer_module, "train_bpe", no_training)
    second = Tokenizer.for_corpus(corpus, VOCAB_SIZE, cache_dir=tmp_path)
    assert second.ranks == first.ranks
    with pytest.raises(AssertionError, match="it trained"):  # other sizes are other files
        Tokenizer.for_corpus(corpus, VOCAB_SIZE + 1, cache_dir=tmp_path)


@pytest.mark.parametrize("damage", [b"garbage\x00\xff", None], ids=["garbage", "truncated"])
def test_corrupt_cache_is_retrained_and_overwritten(
    corpus: str, tmp_path, damage: bytes | None
) -> None:
    good = Tokenizer.for_corpus(corpus, VOCAB_SIZE, cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    data = path.read_bytes()
    # None: cut at a line boundary, which parses as a smaller but valid vocabulary.
    path.write_bytes(damage if damage is not None else data[: data.index(b" 300\n") + 5])
    again = Tokenizer.for_corpus(corpus, VOCAB_SIZE, cache_dir=tmp_path)
    assert again.ranks == good.ranks
    assert path.read_bytes() == data


def test_unwritable_cache_dir_just_means_no_cache(corpus: str, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    tok = Tokenizer.for_corpus(corpus[:2_000], 300, cache_dir=blocker / "cache")
    assert tok.n_vocab == 300


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path))
    assert tokenizer_module.default_cache_dir() == tmp_path / "tokenizers"
    Tokenizer.for_corpus("a tiny corpus, a tiny corpus", 270)
    assert len(list((tmp_path / "tokenizers").iterdir())) == 1
