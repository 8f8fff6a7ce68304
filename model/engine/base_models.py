"""The engine's side of a stage hand-off: which base model a later stage would start from
(the offer its tab shows), and starting it. Runs in the engine process.

A later stage starts from its parent stage's model: the finished run in the stage cache if
this machine has one, else the parent's run in its tab, as it is now.
"""

from __future__ import annotations

import copy

from model import protocol as p
from model.stages import FIRST, REWARD_MODEL, lacking, needs_of, parent_of, settings_section


def _trains_on(engine, stage: str) -> str:
    """What ``stage`` will train on, in a sentence: worked out once a session (it renders
    the whole data set), then remembered."""
    said = engine.trains_on.get(stage)
    if said is None:
        said = engine.trains_on[stage] = _describe_data(engine, stage)
    return said


def _describe_data(engine, stage: str) -> str:
    from model.pipeline import make_stage

    scenario = engine.scenario
    said = lacking(scenario, stage, built_on=False)
    if said:
        return said
    # The parent's run if it has one, else tab 1's (always there): its tokenizer and shape.
    source = engine.runs.get(parent_of(stage)) or engine.runs.get(FIRST)
    if source is None:
        return ""
    try:
        data = make_stage(
            stage, scenario, source.tokenizer, source.config,
            scenario.settings(settings_section(stage)),
            reference=source.model,
        )  # fmt: skip
        return data.describe()
    except ValueError as e:
        return str(e)


def base_info(engine, stage: str) -> p.BaseModel:
    """What a later stage's tab offers to start from: the cache, else the parent's tab (and,
    for RLHF, which reward model it would use)."""
    from dataclasses import replace

    info = _parent_info(engine, stage)
    if REWARD_MODEL not in needs_of(stage):
        return info
    source, accuracy = _reward_source(engine)
    return replace(info, reward_model=source, reward_accuracy=accuracy)


def _reward_source(engine) -> tuple[str, float | None]:
    from model.checkpoint import read_meta
    from model.pipeline import cached_stage

    run = engine.runs.get(REWARD_MODEL)
    if run is not None and run.done:
        accuracy = run.state.series.get("val accuracy", [(0, None)])[-1][1]
        return "tab", accuracy
    path = None if engine.options.fresh else cached_stage(engine.scenario, REWARD_MODEL)
    if path is not None:
        try:
            series = read_meta(path)["state"].get("series", {})
            return "cache", series.get("val accuracy", [(0, None)])[-1][1]
        except (ValueError, KeyError, IndexError, TypeError):
            pass
    return "", None


def reward_model_for(engine):
    """RLHF's reward model as a LoadedModel: this session's finished run, else the cache."""
    from model.loaded_model import load_model
    from model.pipeline import cached_stage

    run = engine.runs.get(REWARD_MODEL)
    if run is not None and run.done:
        return _tab_model(run)
    path = None if engine.options.fresh else cached_stage(engine.scenario, REWARD_MODEL)
    if path is None:
        raise ValueError("there is no reward model yet: train it first (enter, in tab 3)")
    return load_model(path)


def _tab_model(run):
    from model.loaded_model import LoadedModel

    # A copy: the tab's run may go on, and the stage using it must not move it.
    return LoadedModel(
        path="tab", stage=run.stage, model=copy.deepcopy(run.model), tokenizer=run.tokenizer,
        config=run.config, settings=run.settings,
        meta={"state": {"step": run.state.step}, "settings": {"steps": run.settings.steps},
              "cache_key": run.cache_key},
    )  # fmt: skip


def _parent_info(engine, stage: str) -> p.BaseModel:
    from model.checkpoint import read_meta
    from model.pipeline import cached_stage

    parent = parent_of(stage)
    trains_on = _trains_on(engine, stage)
    beta = getattr(engine.scenario.settings(settings_section(stage)), "beta", None)
    forwarding = engine.fast_forwarding and parent == FIRST  # fast-forward trains tab 1
    path = None if engine.options.fresh else cached_stage(engine.scenario, parent)
    if path is not None:
        try:
            # meta.json says all the offer needs; the weights load when the stage starts.
            meta = read_meta(path)
            state = meta["state"]
            val = state["val_losses"][-1][1] if state.get("val_losses") else None
            return p.BaseModel(
                stage, "cache", state["step"], meta["settings"]["steps"], val,
                str(path), trains_on, forwarding, beta=beta,
            )  # fmt: skip
        except (ValueError, KeyError, IndexError, TypeError):
            pass  # a damaged cache entry: offer the tab's run instead
    run = engine.runs.get(parent)
    if run is None:
        return p.BaseModel(stage, "", 0, 0, None, "", trains_on, forwarding, beta=beta)
    val = run.state.val_losses[-1][1] if run.state.val_losses else None
    return p.BaseModel(
        stage, "tab", run.state.step, run.settings.steps, val, "", trains_on, forwarding,
        beta=beta,
    )  # fmt: skip


def start_stage(engine, stage: str, from_path: str = "", settings=None):
    """A new run of ``stage`` from ``from_path``, else the cached base, else the parent's tab."""
    from model.loaded_model import load_model
    from model.pipeline import base_record, new_trainer

    scenario = engine.scenario
    info = base_info(engine, stage)
    if from_path or info.source == "cache":
        base = load_model(from_path or info.path)
        parent = base_record(base)
    elif info.source == "tab":
        tab = engine.runs[parent_of(stage)]
        base = _tab_model(tab)
        parent = {"stage": tab.stage, "path": "tab", "step": tab.state.step, "key": "",
                  "total_steps": tab.settings.steps}  # fmt: skip
    else:
        raise ValueError(f"there is no {parent_of(stage)} model to start {stage} from yet")
    reward = reward_model_for(engine) if REWARD_MODEL in needs_of(stage) else None
    trainer = new_trainer(
        scenario, stage, settings=settings or scenario.settings(settings_section(stage)),
        base=base, parent=parent, threads=engine.options.threads, reward=reward,
    )  # fmt: skip
    # The base model, kept frozen, answers the probes beside the model being tuned.
    engine.base_models[stage] = (copy.deepcopy(base.model).eval(), base.stage)
    return trainer
