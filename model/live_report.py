"""The app's report card: every model this session has, scored in the engine process as
`trainterm eval` scores a checkpoint (the whole of each eval set), and written as report.md
and report.json into the save folder."""

from __future__ import annotations

from dataclasses import replace

from model import card
from model import protocol as p
from model.stages import ORDER


def live_card(engine) -> p.ReportCard:
    from model.evals import run_evals

    columns = []
    for stage in ORDER:
        trainer = engine.runs.get(stage)
        if trainer is None:
            continue
        # A DPO run's stage data holds its frozen reference: eval builds the same from a
        # checkpoint, so the accuracy is the one `trainterm eval` gives.
        preference = trainer.data if stage == "dpo" else None
        reward_model = trainer.data.reward_model if stage == "rlhf" else None
        if stage == "reward-model":  # it ranks answer pairs, as eval scores it
            from model.handoff import reward_rows

            table = reward_rows(trainer)
        else:
            table = run_evals(
                trainer.model, trainer.tokenizer, engine.scenario, stage, trainer.state.step,
                preference=preference, reward_model=reward_model,
            )  # fmt: skip
        trainer.model.train()
        s = trainer.state
        state = {
            "val_losses": s.val_losses[-1:],
            "seconds": s.seconds,
            "tokens_seen": s.tokens_seen,
        }
        columns.append(card.column(stage, s.step, trainer.settings.steps, state, table))
    result = p.ReportCard(engine.scenario.name, tuple(columns))
    if not columns:
        return result
    folder = engine.options.save_dir
    try:
        md, _ = card.write(result, folder)
    except OSError as e:
        return replace(result, error=f"cannot write {folder}: {e.strerror or e}")
    return replace(result, written=str(md.parent))
