"""The soak benchmark's parts that decide its verdict (the soak itself is a benchmark)."""

import scenarios
from scenarios.loader import load_scenario
from tui.soak import LONG, long_scenario, report


def test_the_soak_scenario_only_lengthens_pretraining(tmp_path):
    world = load_scenario(scenarios.__path__[0] + "/world")
    long = load_scenario(long_scenario(None, tmp_path))
    assert long.settings("pretrain").steps == LONG
    assert long.settings("sft") == world.settings("sft")
    assert long.corpus == world.corpus


def test_the_report_compares_the_end_with_the_end_of_the_warm_up(capsys):
    samples = [(10.0 * i, 50 * i, 50_000 + (10_000 if i > 6 else 0), 400_000) for i in range(1, 31)]
    assert report(samples) == 0
    out = capsys.readouterr().out
    assert "UI process  48.8 MB after warm-up → 58.6 MB" in out and "(+20.0 %" in out
    assert "trainer     390.6 MB after warm-up → 390.6 MB" in out and "(+0.0 %" in out
    assert report(samples[:1]) == 1
