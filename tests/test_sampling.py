"""The sampler: its cuts on random distributions (hypothesis), and samples of a real tiny
model trained a few seeded steps: greedy as temperature's limit, seeds that repeat, and the
record of why each token was drawn."""

from __future__ import annotations

import math

import pytest
import torch
from engine_fixtures import make_trainer, tiny_corpus
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from model.generate import continue_many, generate_many, sample_one
from model.protocol import GREEDY, Sampler
from model.sampling import choose, generators, stages, top_k_keep, top_p_keep

scores = st.lists(st.floats(-20, 20, allow_nan=False, width=32), min_size=1, max_size=40).map(
    lambda xs: torch.tensor(xs, dtype=torch.float32)
)


def _by_rank(values: list[float]) -> list[int]:
    """Token ids from the most likely down, ties to the lower id (as argmax breaks them)."""
    return sorted(range(len(values)), key=lambda i: (-values[i], i))


# No deadline: on a shared, loaded machine a slow example is not a wrong one.
@settings(deadline=None)
@given(scores, st.integers(1, 50))
def test_top_k_keeps_exactly_the_k_most_likely(logits, k):
    keep = top_k_keep(logits[None], k)[0].tolist()
    expected = set(_by_rank(logits.tolist())[:k])
    assert {i for i, kept in enumerate(keep) if kept} == expected


@settings(deadline=None)
@given(scores, st.floats(0.01, 1.0))
def test_top_p_keeps_the_fewest_most_likely_tokens_holding_p(logits, p):
    probs = logits.softmax(-1)
    values = probs.tolist()
    order = _by_rank(values)
    mass_before = [math.fsum(values[j] for j in order[:n]) for n in range(len(order))]
    # Exactly at the boundary float32 and exact sums may disagree: not what is tested here.
    assume(all(abs(m - p) > 1e-4 for m in mass_before))
    expected = {i for n, i in enumerate(order) if n == 0 or mass_before[n] < p}
    keep = top_p_keep(probs[None], p)[0].tolist()
    assert {i for i, kept in enumerate(keep) if kept} == expected
    assert math.fsum(values[i] for i in expected) >= p - 1e-4


@settings(deadline=None)
@given(scores, st.floats(0.05, 3.0), st.one_of(st.none(), st.integers(1, 50)),
       st.one_of(st.none(), st.floats(0.05, 1.0)))  # fmt: skip
def test_the_draw_is_renormalised_over_the_kept_tokens_only(logits, t, k, p):
    s = stages(logits[None], Sampler(t, k, p))
    final, kept = s.final[0], s.kept[0]
    assert torch.all(final[~kept] == 0)
    assert math.isclose(float(final.sum()), 1.0, abs_tol=1e-5)
    assert bool(s.kept_by_top_k[0][kept].all()), "top-p only cuts what top-k kept"
    if k is not None:
        assert int(s.kept_by_top_k[0].sum()) == min(k, logits.numel())


@settings(max_examples=200, deadline=None)
@given(scores, st.integers(0, 10_000), st.one_of(st.none(), st.integers(1, 50)),
       st.one_of(st.none(), st.floats(0.05, 1.0)))  # fmt: skip
def test_temperature_towards_zero_is_greedy(logits, seed, k, p):
    top2 = torch.topk(logits, min(2, logits.numel())).values
    margin = float(top2[0] - top2[-1]) if logits.numel() > 1 else 1.0
    assume(margin > 1e-3)
    best = int(logits.argmax())
    # Once the favourite's lead divided by T is past ~100, the rest weigh e^-100: nothing.
    for t in (margin / 100, margin / 1e6, 1e-30):
        sampler = Sampler(t, k, p, seed)
        assert int(choose(logits[None], sampler, generators(sampler, 1))[0]) == best
    assert int(choose(logits[None], GREEDY, [])[0]) == best


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real tiny model after a few seeded steps: it has preferences, not certainties."""
    trainer = make_trainer(tiny_corpus(), tmp_path_factory.mktemp("sampling"), seed=3)
    for _ in range(12):
        trainer.step()
    return trainer


def _continue(trainer, texts, sampler, n=24):
    out = continue_many(trainer.model, trainer.tokenizer, texts, n, sampler=sampler)
    return [g.ids for g in out]


def test_a_tiny_temperature_samples_what_greedy_writes(trained):
    prompts = ["The capital of", "People in", "Tarsk"]
    greedy = _continue(trained, prompts, GREEDY)
    assert _continue(trained, prompts, Sampler(temperature=1e-6, seed=5)) == greedy
    assert _continue(trained, prompts, Sampler(temperature=1.0, top_k=1, seed=5)) == greedy


def test_the_same_seed_gives_the_same_sample_alone_or_in_a_batch(trained):
    sampler = Sampler(temperature=1.2, top_k=40, top_p=0.95, seed=11)
    once = _continue(trained, ["The capital of"], sampler)
    assert _continue(trained, ["The capital of"], sampler) == once
    # Batched with another prompt of the same length, it draws from its own generator.
    batch = _continue(trained, ["The capital of", "The largest of"], sampler)
    assert batch[0] == once[0]
    others = {tuple(_continue(trained, ["The capital of"], Sampler(1.2, 40, 0.95, s))[0])
              for s in range(6)}  # fmt: skip
    assert len(others) > 1, "different seeds never drew differently"


def test_a_sample_says_why_each_token_was_drawn(trained):
    sampler = Sampler(temperature=1.5, top_k=10, top_p=0.9, seed=2)
    out = sample_one(trained.model, trained.tokenizer, "The capital of", 30, sampler, chat=False)
    ids = [*out.ids, *([out.stop_id] if out.stopped else [])]
    assert [c.drawn_id for c in out.choices] == ids
    again = generate_many(
        trained.model, [trained.tokenizer.encode("The capital of")], 30,
        {trained.tokenizer.eot_id}, sampler=sampler,
    )[0]  # fmt: skip
    assert again.ids == out.ids, "explaining a sample must not change it"
    for choice in out.choices:
        probs = [c.prob for c in choice.candidates if c.token_id != choice.drawn_id]
        assert probs == sorted(probs, reverse=True)
        drawn = next(c for c in choice.candidates if c.token_id == choice.drawn_id)
        assert drawn.cut == "" and drawn.final > 0
        assert choice.kept <= choice.kept_by_top_k <= 10
        assert (choice.drawn_rank == 1) == (drawn.token_id == choice.candidates[0].token_id)
        for c in choice.candidates:
            assert (c.final == 0) or not c.cut
            assert c.cut != "top-k" or c.after_top_k == 0
    assert any(c.drawn_rank > 1 for c in out.choices), "a hot sampler always took the favourite"


def test_greedy_explains_itself_as_the_favourite_every_time(trained):
    out = sample_one(trained.model, trained.tokenizer, "", 12, GREEDY, chat=False)
    for choice in out.choices:
        assert choice.drawn_rank == 1 and choice.kept == 1
        assert {c.cut for c in choice.candidates[1:]} <= {"greedy"}


@pytest.mark.parametrize(
    "sampler, problem",
    [
        (Sampler(temperature=-0.1), "temperature"),
        (Sampler(temperature=float("nan")), "temperature"),
        (Sampler(temperature=1, top_k=0), "top-k"),
        (Sampler(temperature=1, top_p=0.0), "top-p"),
        (Sampler(temperature=1, top_p=1.5), "top-p"),
    ],
)
def test_impossible_settings_say_why(sampler, problem):
    assert problem in sampler.problem()
    assert Sampler(temperature=0.7, top_k=1, top_p=1.0).problem() is None
