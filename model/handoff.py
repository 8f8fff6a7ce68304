"""The engine's side of a stage hand-off: which base model a later stage would start from,
starting it, and the evals and probe answers its tab shows. Runs in the engine process."""

from __future__ import annotations

import copy

from model import protocol as p

LIVE_EVAL_LIMIT = 20  # questions per eval set in a live tab: ~1 s on one thread


def base_info(engine, stage: str = "sft") -> p.BaseModel:
    """What the fine-tuning tab offers to start from: the cache, else tab 1 as it is now."""
    from model.models import load_model
    from model.pipeline import cached_stage, make_stage

    scenario = engine.scenario
    trains_on = ""
    pretrain = engine.runs.get("pretrain")
    if pretrain is not None and scenario.has_stage(stage):
        try:
            data = make_stage(
                stage, scenario, pretrain.tokenizer, pretrain.config, scenario.settings(stage)
            )
            trains_on = data.describe()
        except ValueError as e:
            trains_on = str(e)
    elif not scenario.has_stage(stage):
        trains_on = scenario.missing_for(stage)
    path = None if engine.options.fresh else cached_stage(scenario, "pretrain")
    if path is not None:
        try:
            loaded = load_model(path)
            return p.BaseModel(
                stage, "cache", loaded.step, loaded.total_steps, loaded.last_val_loss,
                str(path), trains_on, engine.fast_forwarding,
            )  # fmt: skip
        except ValueError:
            pass  # a damaged cache entry: offer tab 1 instead (fast-forward rewrites it)
    if pretrain is None:
        return p.BaseModel(stage, "", 0, 0, None, "", trains_on, engine.fast_forwarding)
    val = pretrain.state.val_losses[-1][1] if pretrain.state.val_losses else None
    return p.BaseModel(
        stage, "tab", pretrain.state.step, pretrain.settings.steps, val, "", trains_on,
        engine.fast_forwarding,
    )  # fmt: skip


def start_stage(engine, stage: str, from_path: str = ""):
    """A new run of ``stage`` from ``from_path``, else the cached base, else tab 1's model."""
    from model.models import LoadedModel, load_model
    from model.pipeline import base_record, new_trainer

    scenario = engine.scenario
    info = base_info(engine, stage)
    if from_path:
        base = load_model(from_path)
        parent = base_record(base)
    elif info.source == "cache":
        base = load_model(info.path)
        parent = base_record(base)
    else:
        tab = engine.runs["pretrain"]
        # A copy: tab 1 may go on training, and fine-tuning must not move its weights.
        base = LoadedModel(
            path="tab 1", stage="pretrain", model=copy.deepcopy(tab.model),
            tokenizer=tab.tokenizer, config=tab.config, settings=tab.settings,
            meta={"state": {"step": tab.state.step}, "settings": {"steps": tab.settings.steps}},
        )  # fmt: skip
        parent = {"stage": "pretrain", "path": "tab 1", "step": tab.state.step, "key": "",
                  "total_steps": tab.settings.steps}  # fmt: skip
    trainer = new_trainer(
        scenario, stage, settings=scenario.settings(stage), base=base, parent=parent,
        threads=engine.options.threads,
    )  # fmt: skip
    # The base model, kept frozen, answers the probes beside the model being tuned.
    engine.base_models[stage] = copy.deepcopy(base.model).eval()
    return trainer


def live_evals(engine, trainer) -> p.EvalTable:
    from model.evals import run_evals

    table = run_evals(
        trainer.model, trainer.tokenizer, engine.scenario, trainer.stage, trainer.state.step,
        limit=LIVE_EVAL_LIMIT,
    )  # fmt: skip
    trainer.model.train()
    return table


def probe_table(engine, trainer) -> p.ProbeAnswers:
    from model.evals import probe_answers

    probes = [pr for pr in engine.scenario.probes if pr.kind != "story"]
    base = engine.base_models.get(trainer.stage)
    now = probe_answers(trainer.model, trainer.tokenizer, probes, chat=True)
    trainer.model.train()
    if base is None:
        before = [""] * len(probes)
    else:
        # The base model only continues text: ask it as its pretraining text would.
        before = probe_answers(base, trainer.tokenizer, probes, chat=False)
    rows = tuple((pr.name, pr.prompt, b, n) for pr, b, n in zip(probes, before, now, strict=True))
    return p.ProbeAnswers(trainer.stage, trainer.state.step, rows)
