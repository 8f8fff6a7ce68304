"""The soak benchmark's parts that decide its verdict (the soak itself is a benchmark)."""

import pytest

import scenarios
from scenarios.loader import load_scenario
from tui.bench.soak import LONG, long_scenario, report


def test_the_soak_scenario_only_lengthens_pretraining(tmp_path):
    world = load_scenario(scenarios.__path__[0] + "/world")
    long = load_scenario(long_scenario(None, tmp_path))
    assert long.settings("pretrain").steps == LONG
    assert long.settings("sft") == world.settings("sft")
    assert long.corpus == world.corpus


def memory(ui_after: int, trainer_after: int) -> list[tuple[float, int, int, int]]:
    """300 s of samples, 10 s apart: 50 MB and 400 MB until 70 s (past the 60 s warm-up),
    then ``ui_after`` and ``trainer_after`` kB."""
    return [
        (10.0 * i, 50 * i, *((ui_after, trainer_after) if i > 6 else (50_000, 400_000)))
        for i in range(1, 31)
    ]


def test_the_report_compares_the_end_with_the_end_of_the_warm_up(capsys):
    assert report(memory(55_000, 400_000)) == 0  # +10 %: at the target, not past it
    out = capsys.readouterr().out
    assert "UI process  48.8 MB after warm-up → 53.7 MB" in out and "(+10.0 %" in out
    assert "trainer     390.6 MB after warm-up → 390.6 MB" in out and "(+0.0 %" in out
    assert "grew past" not in out
    assert report(memory(30_000, 300_000)) == 0  # shrinking is not a leak
    assert report(memory(50_000, 400_000)[:1]) == 1
    assert "too short" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("ui", "trainer", "named"),
    [
        (60_000, 400_000, "UI process +20.0 %"),
        (50_000, 450_000, "trainer +12.5 %"),
        (60_000, 450_000, "UI process +20.0 %, trainer +12.5 %"),
    ],
)
def test_growth_past_the_target_fails_the_soak_naming_the_process(capsys, ui, trainer, named):
    assert report(memory(ui, trainer)) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"trainterm bench-ui --soak: grew past +10 %: {named}"
    )
