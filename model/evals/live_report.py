"""The app's report card: every model this session has, scored in the engine process as
`trainterm eval` scores a checkpoint (the whole of each eval set), and written as report.md
and report.json into the save folder."""

from __future__ import annotations

from dataclasses import replace

from model import protocol as p
from model.evals import report_card as card
from model.stages import ORDER


def live_card(engine) -> p.ReportCard:
    columns = []
    for stage in ORDER:
        trainer = engine.runs.get(stage)
        if trainer is None:
            continue
        # Every set whole, as `trainterm eval` scores a checkpoint of the stage.
        table = trainer.data.evals(trainer, engine.scenario)
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
