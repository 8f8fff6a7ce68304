import torch

from model.gpt import GPT, GPTConfig
from model.objectives import IGNORE_INDEX, next_token_loss, token_losses

TINY = GPTConfig(vocab_size=50, context=8, n_layer=2, n_head=2, d_model=8)


def test_logits_at_every_position():
    torch.manual_seed(0)
    model = GPT(TINY)
    idx = torch.randint(0, TINY.vocab_size, (3, 5))
    assert model(idx).shape == (3, 5, TINY.vocab_size)


def test_embeddings_are_tied():
    model = GPT(TINY)
    assert model.head.weight is model.tok_emb.weight


def test_attention_is_causal():
    """Changing a later token must not change the logits at earlier positions."""
    torch.manual_seed(0)
    model = GPT(TINY).eval()
    idx = torch.randint(0, TINY.vocab_size, (1, 6))
    changed = idx.clone()
    changed[0, 4] = (changed[0, 4] + 1) % TINY.vocab_size
    a, b = model(idx), model(changed)
    assert torch.allclose(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])


def test_attention_weights_match_sdpa_output():
    torch.manual_seed(0)
    model = GPT(TINY).eval()
    attn = model.blocks[0].attn
    x = torch.randn(2, 5, TINY.d_model)
    weights = attn.attention_weights(x)  # (B, nh, T, T)
    assert torch.allclose(weights.sum(-1), torch.ones(2, TINY.n_head, 5))
    assert torch.all(weights.triu(diagonal=1) == 0)
    B, T, C = x.shape
    v = attn.qkv(x).split(C, dim=2)[2].view(B, T, attn.n_head, -1).transpose(1, 2)
    manual = attn.proj((weights @ v).transpose(1, 2).reshape(B, T, C))
    assert torch.allclose(manual, attn(x), atol=1e-5)


def test_gradients_match_finite_differences():
    """micrograd's habit: check autograd against a float64 central difference."""
    torch.manual_seed(0)
    model = GPT(TINY).double()
    idx = torch.randint(0, TINY.vocab_size, (2, 6))
    targets = torch.randint(0, TINY.vocab_size, (2, 6))
    loss = next_token_loss(model(idx).double(), targets)
    loss.backward()
    eps = 1e-6
    for name in ["blocks.0.attn.qkv.weight", "blocks.1.mlp.up.bias", "tok_emb.weight"]:
        param = dict(model.named_parameters())[name]
        flat = param.data.view(-1)
        for i in torch.randperm(flat.numel())[:4].tolist():
            original = flat[i].item()
            flat[i] = original + eps
            plus = next_token_loss(model(idx).double(), targets).item()
            flat[i] = original - eps
            minus = next_token_loss(model(idx).double(), targets).item()
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            analytic = param.grad.view(-1)[i].item()
            assert abs(numeric - analytic) <= 1e-6 + 1e-4 * abs(numeric), name


def test_masked_positions_do_not_count():
    torch.manual_seed(0)
    logits = torch.randn(1, 4, 10)
    targets = torch.tensor([[1, 2, 3, 4]])
    masked = targets.clone()
    masked[0, :2] = IGNORE_INDEX
    per_token = token_losses(logits, masked)
    assert per_token[0, :2].eq(0).all()
    assert torch.isclose(next_token_loss(logits, masked), per_token[0, 2:].mean())
    assert torch.isclose(next_token_loss(logits, targets), token_losses(logits, targets).mean())


def test_generate_extends_and_stops():
    torch.manual_seed(0)
    model = GPT(TINY).eval()
    out = model.generate(torch.tensor([[1, 2]]), 5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 7)
    again = model.generate(torch.tensor([[1, 2]]), 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again) and out[0, :2].tolist() == [1, 2]
    prompt = torch.tensor([[1, 2]])
    greedy = model.generate(prompt, 20, temperature=0)
    assert greedy.shape[1] == 22  # longer than the context: the window slides
    assert greedy[0, :2].tolist() == [1, 2], "the prompt is kept"
    assert torch.equal(model.generate(prompt, 20, temperature=0), greedy), "greedy repeats"
    with torch.no_grad():  # greedy is the argmax of the last position, window by window
        for t in range(2, 22):
            window = greedy[:, max(0, t - TINY.context) : t]
            assert greedy[0, t] == model(window)[0, -1].argmax()
