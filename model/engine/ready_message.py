"""What the engine tells the screen about a run before its first step: plain data only.

Light at import time (the protocol, no torch), like the rest of model/engine/.
"""

from __future__ import annotations

from model import protocol as p
from model.flops_peak import matmul_peak_flops
from model.stages import ORDER, REGISTRY, depth, lacking, parent_of

# What a stage with all it needs is said to have (the screen looks for the ending).
READY = "the data it trains on are ready for it."


def ready_message(trainer, stage_data: tuple[tuple[str, str], ...] = ()) -> p.EngineReady:
    """What the screen needs to know about a trainer before its first step."""
    from model.optim import optimizer_words  # torch: the engine process has it already

    c = trainer.config
    return p.EngineReady(
        scenario=trainer.scenario,
        stage=trainer.stage,
        params=trainer.model.num_params(),
        vocab_size=c.vocab_size,
        corpus_tokens=trainer.corpus_tokens,
        context=c.context,
        batch_size=trainer.settings.batch_size,
        n_layer=c.n_layer,
        d_model=c.d_model,
        optimizer=optimizer_words(trainer.settings),
        total_steps=trainer.settings.steps,
        step=trainer.state.step,
        threads=trainer.threads,
        settings=trainer.settings,
        stage_data=stage_data,
        starts_from=starts_from(trainer.parent),
        # Small and few: a tenth of a second, once a process, before the first step.
        peak_flops=matmul_peak_flops(trainer.threads, size=256, repeats=5),
    )


def starts_from(parent: dict | None) -> str:
    if not parent:
        return ""
    step = f"step {parent.get('step', '?')}/{parent.get('total_steps', '?')}"
    if parent.get("path") in ("tab", "tab 1"):
        # The tabs follow the stages as they build on each other: pretraining's is tab 1.
        stage = parent.get("stage", "")
        tab = depth(stage) + 1 if stage in REGISTRY else "?"
        return f"tab {tab}'s model at {step}"
    where = "the cached run" if parent.get("key") else parent.get("path", "a checkpoint")
    return f"{parent.get('stage', 'base')} {step}, {where}"


def stage_data(scenario) -> tuple[tuple[str, str], ...]:
    """What the scenario brings for the stages after pretraining, in a sentence each: by the
    scenario section of the data (the conversations, the pairs), then by the name of each
    later stage that is not a section's, what it lacks (its data, or what else its plug-in
    asks for: RLVR, a gold judge), else that it is ready."""
    held = {
        "sft": f"{len(scenario.sft_examples):,} prompt → answer conversations",
        "preference": f"{len(scenario.preference_pairs):,} chosen / rejected answer pairs",
    }
    by_section = tuple(
        (stage, f"{held[stage]} are ready for it." if scenario.has_stage(stage) else
         scenario.missing_for(stage))
        for stage in ("sft", "preference")
    )  # fmt: skip
    by_stage = tuple(
        (stage, lacking(scenario, stage, built_on=False) or READY)
        for stage in ORDER
        if parent_of(stage) and stage not in held
    )
    return by_section + by_stage
