"""Batched generation with a key/value cache gives each prompt the answer it gets alone."""

import torch

from model.generate import generate_many
from model.gpt import GPT, GPTConfig
from model.protocol import Sampler

SMALL = GPTConfig(vocab_size=60, context=32, n_layer=2, n_head=2, d_model=16)


def _model() -> GPT:
    torch.manual_seed(0)
    return GPT(SMALL).eval()


def _greedy_alone(model: GPT, prompt: list[int], n: int, stop) -> list[int]:
    """The reference: the whole window through the model for every new token. ``stop``: a
    token id, or a set of them."""
    stops = stop if isinstance(stop, frozenset) else frozenset({stop})
    ids, new = list(prompt), []
    with torch.no_grad():
        for _ in range(n):
            window = torch.tensor([ids[-SMALL.context :]])
            token = int(model(window)[0, -1].argmax())
            if token in stops:
                break
            new.append(token)
            ids.append(token)
    return new


def test_cached_forward_equals_the_full_forward():
    model = _model()
    idx = torch.randint(0, SMALL.vocab_size, (2, 10))
    full = model(idx)
    positions = torch.arange(10).expand(2, 10)
    causal = torch.ones(10, 10, dtype=torch.bool).tril().expand(2, 1, 10, 10)
    head, cache = model.forward_cached(idx[:, :6], positions[:, :6], causal[:, :, :6, :6])
    tail, _ = model.forward_cached(idx[:, 6:], positions[:, 6:], causal[:, :, 6:, :], cache)
    assert torch.allclose(torch.cat((head, tail), dim=1), full, atol=1e-5)


def test_left_padded_batches_answer_each_prompt_as_alone():
    model = _model()
    g = torch.Generator().manual_seed(1)
    prompts = [torch.randint(1, SMALL.vocab_size, (n,), generator=g).tolist() for n in
               (1, 3, 3, 7, 12, 5)]  # fmt: skip
    stop = 0
    out = generate_many(model, prompts, 12, frozenset({stop}), batch_size=4)
    for prompt, got in zip(prompts, out, strict=True):
        assert list(got.ids) == _greedy_alone(model, prompt, 12, stop)
        assert got.stopped == (len(got.ids) < 12)


def test_rows_that_finish_early_leave_the_batch_without_changing_the_rest():
    """Most rows end at once, some run to the budget: the batch drops the finished ones as
    it goes, and every answer, greedy or sampled, is still the one it gets alone."""
    model = _model()
    g = torch.Generator().manual_seed(2)
    prompts = [torch.randint(1, SMALL.vocab_size, (n,), generator=g).tolist() for n in
               (2, 4, 4, 6, 3, 5, 8, 2)]  # fmt: skip
    free = [_greedy_alone(model, p, 14, frozenset()) for p in prompts]
    stops = frozenset(answer[1] for answer in free[:5])
    expected = [_greedy_alone(model, p, 14, stops) for p in prompts]
    assert min(map(len, expected)) <= 1 and max(map(len, expected)) == 14  # a mixed batch
    out = generate_many(model, prompts, 14, stops)
    assert [list(got.ids) for got in out] == expected
    assert [got.stopped for got in out] == [len(e) < 14 for e in expected]
    sampled = dict(sampler=Sampler(temperature=1.0, seed=3))
    together = generate_many(model, prompts, 14, stops, seeds=list(range(8)), **sampled)
    alone = [generate_many(model, [p], 14, stops, seeds=[i], **sampled)[0]
             for i, p in enumerate(prompts)]  # fmt: skip
    assert together == alone


def test_an_answer_that_outgrows_the_context_slides_its_window():
    model = _model()
    prompt = list(range(1, 28))  # 27 tokens + 20 new > a context of 32
    (got,) = generate_many(model, [prompt], 20, frozenset({SMALL.vocab_size + 1}))
    assert list(got.ids) == _greedy_alone(model, prompt, 20, SMALL.vocab_size + 1)
    assert len(got.ids) == 20 and not got.stopped


def test_a_seeded_sample_repeats_and_differs_from_greedy():
    model = _model()
    prompts = [[1, 2, 3], [4, 5]]
    kw = dict(sampler=Sampler(temperature=1.0, seed=7))
    a = generate_many(model, prompts, 10, frozenset(), **kw)
    assert a == generate_many(model, prompts, 10, frozenset(), **kw)
    assert a != generate_many(model, prompts, 10, frozenset())
