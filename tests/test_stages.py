"""Stage plug-ins on a real tiny model: fine-tuning's batches, the hand-off from stage 1,
the stage cache, display-free steps and the evals' scoring."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from stage_fixtures import write_sft_scenario

from model.checkpoint import save_checkpoint
from model.evals import stage_evals
from model.evals.text import mentions
from model.generate import Generated
from model.loaded_model import load_model
from model.pipeline import (
    PipelineError,
    ensure_stage,
    new_trainer,
    run_headless,
    stage_settings,
)
from model.protocol import StepReport
from model.resume import load_checkpoint
from model.stage_cache import stage_key
from scenarios import load_scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-sft")
    write_sft_scenario(folder)
    return load_scenario(folder)


@pytest.fixture(scope="module")
def base_path(scenario, tmp_path_factory):
    trainer = new_trainer(scenario, "pretrain")
    run_headless(trainer)
    return save_checkpoint(trainer, tmp_path_factory.mktemp("base") / "pretrain")


def test_sft_batches_train_on_answers_only_and_show_it(scenario, base_path):
    trainer = new_trainer(scenario, "sft", base=load_model(base_path))
    report = trainer.step()
    assert isinstance(report, StepReport)
    tok = trainer.tokenizer
    counted = [p for p in report.row if p.counts_in_loss]
    ignored = [p for p in report.row if not p.counts_in_loss]
    assert counted and ignored
    # What counts is exactly the answer and its closing <|end|>.
    assert "".join(p.target_text for p in counted).endswith("<|end|>")
    assert all(p.target_id != tok.assistant_id for p in counted)
    assert report.row[0].token_id in (tok.user_id, tok.system_id)
    # The prediction pane can explain an untrained position too: its real next token.
    assert all(0.0 <= p.target_prob <= 1.0 and p.loss >= 0 for p in ignored)


def test_hand_off_really_starts_from_the_stage_1_weights(scenario, base_path):
    base = load_model(base_path)
    expected = {k: v.clone() for k, v in base.model.state_dict().items()}
    trainer = new_trainer(scenario, "sft", base=base)
    got = trainer.model.state_dict()
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    assert trainer.parent["stage"] == "pretrain" and trainer.parent["step"] == 12
    trainer.step()
    assert not all(torch.equal(got[k], expected[k]) for k in expected)


def test_headless_steps_give_the_same_losses_as_displayed_ones(scenario):
    shown = new_trainer(scenario, "pretrain")
    headless = new_trainer(scenario, "pretrain")
    a = [shown.step(display=True).loss for _ in range(5)]
    b = [headless.step(display=False) for _ in range(5)]
    assert a == [r.loss for r in b]
    assert all(r.row == () and r.figures is None and r.layers == () for r in b)


def test_fine_tuning_resumes_exactly(scenario, base_path, tmp_path):
    straight = new_trainer(scenario, "sft", base=load_model(base_path))
    expected = [straight.step(display=False).loss for _ in range(6)]
    first = new_trainer(scenario, "sft", base=load_model(base_path))
    losses = [first.step(display=False).loss for _ in range(3)]
    save_checkpoint(first, tmp_path / "sft")
    resumed = load_checkpoint(tmp_path / "sft", scenario)
    assert resumed.stage == "sft" and resumed.state.step == 3
    losses += [resumed.step(display=False).loss for _ in range(3)]
    assert losses == expected


def test_fine_tuning_measures_forgetting_on_pretraining_text(scenario, base_path):
    trainer = new_trainer(scenario, "sft", base=load_model(base_path))
    # Stage 1's own measure, on its held-out text: its val loss of whatever weights it is
    # given, computed here beside the fine-tuning run each time that run evaluates.
    pretraining = new_trainer(scenario, "pretrain")
    expected = []
    for _ in range(trainer.settings.steps):
        report = trainer.step(display=False)
        if report.val_loss is not None:
            measure = pretraining.data.evaluate(trainer.model, pretraining.settings)["val"]
            expected.append((report.step, measure))
    assert [s for s, _ in expected] == [4, 8]  # every eval_every = 4 of the 8 steps
    forgetting = trainer.state.series["pretrain val"]
    assert [s for s, _ in forgetting] == [s for s, _ in trainer.state.val_losses] == [4, 8]
    assert forgetting == [(s, pytest.approx(v, rel=1e-6)) for s, v in expected]
    # Not the fine-tuning's own held-out loss under another name.
    assert all(f != v for (_, f), (_, v) in zip(forgetting, trainer.state.val_losses, strict=True))


def test_conversations_longer_than_the_context_are_counted_not_hidden(scenario, base_path):
    small = dataclasses.replace(scenario.model, context=18)
    shorter = dataclasses.replace(scenario, model=small)
    from model.pipeline import make_stage, model_config, scenario_tokenizer

    config = model_config(shorter)
    tok = scenario_tokenizer(shorter, config.vocab_size)
    data = make_stage("sft", shorter, tok, config, shorter.sft)
    assert data.dropped > 0 and f"{data.dropped} longer than the context" in data.describe()


def test_a_base_of_another_shape_is_refused(scenario, tmp_path):
    other = dataclasses.replace(scenario.model, d_model=16, n_head=2)
    trainer = new_trainer(dataclasses.replace(scenario, model=other), "pretrain")
    save_checkpoint(trainer, tmp_path / "other")
    with pytest.raises(PipelineError, match="another shape"):
        new_trainer(scenario, "sft", base=load_model(tmp_path / "other"))


def test_stage_cache_is_keyed_by_content(scenario, monkeypatch, tmp_path):
    monkeypatch.setenv("TRAINTERM_CACHE", str(tmp_path))
    from model.pipeline import model_config

    settings = stage_settings(scenario, "pretrain")
    key = stage_key(scenario, "pretrain", model_config(scenario), settings)
    changed = dataclasses.replace(scenario, corpus=scenario.corpus[:-1] + "!")
    assert stage_key(changed, "pretrain", model_config(changed), settings) != key
    reseeded = dataclasses.replace(settings, seed=settings.seed + 1)
    assert stage_key(scenario, "pretrain", model_config(scenario), reseeded) != key

    steps = []
    path = ensure_stage(scenario, "pretrain", progress=lambda t: steps.append(1) or True)
    assert len(steps) == scenario.pretrain.steps
    again = ensure_stage(scenario, "pretrain", progress=lambda t: steps.append(1) or True)
    assert again == path and len(steps) == scenario.pretrain.steps  # instant: from the cache
    sft = ensure_stage(scenario, "sft")
    assert load_model(sft).meta["parent"]["key"] == load_model(path).meta["cache_key"]
    assert ensure_stage(changed, "pretrain") != path


def test_evals_score_a_known_answer_set_exactly(scenario, base_path, monkeypatch):
    loaded = load_model(base_path)
    tok = loaded.tokenizer
    answers = {
        "Capital of Velmora?": ("Velport.", True),  # right
        "Capital of Tarsk?": ("Velport.", True),  # wrong
        "Capital of Orinth?": ("Oriport is it", False),  # right, but ran past its turn
        "Capital of Keshet?": ("Kesport.", True),  # pretraining-only, right
        "Capital of Nowhere?": ("Nowport.", True),  # fluent about a place that isn't
    }

    def fake_answers(model, tokenizer, questions, max_new_tokens=40, **kw):
        out = []
        for q in questions:
            text, ended = answers.get(q, ("", False))
            out.append(Generated(tuple(tok.encode(text)), ended, tok.end_id if ended else None))
        return out

    monkeypatch.setattr(stage_evals, "answer_many", fake_answers)
    table = stage_evals.run_evals(loaded.model, tok, scenario, "sft", 0)
    rows = {r.key: (r.correct, r.total) for r in table.rows}
    asked = 6 + 2 + 1
    assert rows["format"] == (4, asked)  # Velmora, Tarsk, Keshet, Nowhere ended with <|end|>
    assert rows["finetuned"] == (2, 6)  # Velmora and Orinth name the right capital
    assert rows["pretrain_only"] == (1, 2)
    assert rows["unknown"] == (1, 1)
    assert mentions("The capital is Velport.", "Velport")
    assert not mentions("Velportia", "Velport")


def test_a_base_with_another_tokenizer_is_refused(scenario, tmp_path):
    other = dataclasses.replace(scenario, corpus=scenario.corpus.replace("Velmora", "Wexhall"))
    trainer = new_trainer(other, "pretrain")
    save_checkpoint(trainer, tmp_path / "other")
    with pytest.raises(PipelineError, match="another tokenizer"):
        new_trainer(scenario, "sft", base=load_model(tmp_path / "other"))


def test_replay_mixes_pretraining_windows_into_fine_tuning_batches(scenario, base_path):
    mixed = stage_settings(scenario, "sft", pretrain_mix=3, batch_size=4)
    trainer = new_trainer(scenario, "sft", settings=mixed, base=load_model(base_path))
    picks = trainer.data.sample(torch.Generator().manual_seed(0), 4)
    batch = trainer.data.gather(picks)
    assert batch.x.shape[0] == 4 + 3
    assert batch.trained[4:].all()  # replayed text: every position counts, as in stage 1
    assert not batch.trained[:4].all()  # conversations: the prompt does not
    plain = stage_settings(scenario, "sft", pretrain_mix=0, batch_size=4)
    trainer = new_trainer(scenario, "sft", settings=plain, base=load_model(base_path))
    assert trainer.data.gather(trainer.data.sample(torch.Generator(), 4)).x.shape[0] == 4
    assert "replay" not in trainer.data.describe()
