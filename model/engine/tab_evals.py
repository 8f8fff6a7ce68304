"""What a later stage's tab shows of its model beside the loss: the evals, on a part of each
eval set (a second or so), and the probes' answers before and after. Scored in the engine
process; the heavy imports wait until a tab asks."""

from __future__ import annotations

from model import protocol as p
from model.stages import is_chat

LIVE_EVAL_LIMIT = 20  # questions per eval set in a live tab: ~1 s on one thread


def live_evals(engine, trainer) -> p.EvalTable:
    """The evals a later stage's tab shows, on a part of each eval set (a second or so)."""
    table = trainer.data.evals(trainer, engine.scenario, LIVE_EVAL_LIMIT)
    trainer.model.train()
    return table


def probe_table(engine, trainer) -> p.ProbeAnswers:
    from model.evals.stage_evals import probe_answers

    probes = [pr for pr in engine.scenario.probes if pr.kind != "story"]
    now = probe_answers(trainer.model, trainer.tokenizer, probes, chat=True)
    trainer.model.train()
    base, base_stage = engine.base_models.get(trainer.stage, (None, ""))
    if base is None:
        before = [""] * len(probes)
    else:
        # A base model only continues text: it is asked as its pretraining text would be.
        chat = is_chat(base_stage)
        before = probe_answers(base, trainer.tokenizer, probes, chat=chat)
    rows = tuple((pr.name, pr.prompt, b, n) for pr, b, n in zip(probes, before, now, strict=True))
    return p.ProbeAnswers(trainer.stage, trainer.state.step, rows)
