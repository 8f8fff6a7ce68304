"""The report screen names every column the engine's card can have: each stage it scores,
by the tab its model comes from."""

from __future__ import annotations

import io

from rich.console import Console

from model import protocol as p
from model.stages import ORDER
from tui.screens.report import card_table


def test_every_column_of_the_card_is_named_by_its_tab():
    # The live card has a column per stage run this session, in this order
    # (model.evals.live_report).
    row = p.EvalRow("format", "format", 1, 2)
    columns = tuple(p.ReportColumn(stage, 2, 2, 1.0, 1.0, 100, (row,)) for stage in ORDER)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(card_table(p.ReportCard("tiny", columns), 200))
    head = console.export_text().splitlines()[0].split("  ")
    names = [h.strip() for h in head if h.strip()]
    assert len(names) == len(ORDER)  # a stage added since: its own label, after these
    assert names[:5] == ["1 base", "2 fine-tuned", "3 DPO", "3 reward model", "3 RLHF"]
