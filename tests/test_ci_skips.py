"""In CI a slow test never skips: a skipped test marked `slow` fails the run when CI is set
(conftest.py's hook), so a machine without tmux or Chromium cannot pass by hiding the
only tests of what they drive. Elsewhere it is merely skipped."""

from __future__ import annotations

import os
import re
import textwrap

from test_no_network import inner_pytest

TESTS = textwrap.dedent(
    """
    import pytest

    @pytest.mark.slow
    def test_slow_skips_itself():
        pytest.skip("no tmux here")

    @pytest.mark.slow
    @pytest.mark.skipif(True, reason="no chromium here")
    def test_slow_skipped_by_a_mark():
        pass

    def test_fast_skips():
        pytest.skip("fine anywhere")

    @pytest.mark.slow
    @pytest.mark.xfail(reason="a known failure, not a skip")
    def test_slow_expected_to_fail():
        assert False

    @pytest.mark.slow
    def test_slow_runs():
        pass
    """
)


def outcomes(stdout: str) -> dict[str, str]:
    """test name -> its word in pytest's verbose listing (PASSED, SKIPPED, FAILED, ERROR...)."""
    return dict(re.findall(r"^test_skips\.py::(\w+) ([A-Z]+)", stdout, re.M))


def run(tmp_path, ci: str | None):
    (tmp_path / "test_skips.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return inner_pytest(tmp_path, "-v", env=env, replace_env=True)


def test_in_ci_a_skipped_slow_test_fails_the_run(tmp_path):
    result = run(tmp_path, "1")
    assert result.returncode == 1, result.stdout[-3000:]
    assert outcomes(result.stdout) == {
        "test_slow_skips_itself": "FAILED",
        "test_slow_skipped_by_a_mark": "ERROR",  # skipped in setup, so it fails in setup
        "test_fast_skips": "SKIPPED",
        "test_slow_expected_to_fail": "XFAIL",
        "test_slow_runs": "PASSED",
    }, result.stdout[-3000:]
    assert "a slow test skipped in CI (CI=1): no tmux here" in result.stdout
    assert "a slow test skipped in CI (CI=1): no chromium here" in result.stdout


def test_outside_ci_it_is_merely_skipped(tmp_path):
    for ci in (None, "false"):
        result = run(tmp_path, ci)
        assert result.returncode == 0, result.stdout[-3000:]
        assert outcomes(result.stdout) == {
            "test_slow_skips_itself": "SKIPPED",
            "test_slow_skipped_by_a_mark": "SKIPPED",
            "test_fast_skips": "SKIPPED",
            "test_slow_expected_to_fail": "XFAIL",
            "test_slow_runs": "PASSED",
        }, result.stdout[-3000:]
