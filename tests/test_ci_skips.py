"""tests/ci_skips.py: with CI=true a skip for a missing tool fails the run (also under
pytest-xdist), one-database skips do not; without CI nothing changes."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = textwrap.dedent("""
    import pytest

    def test_runs():
        pass

    def test_one_database_case():
        pytest.skip("SQLite pragmas")

    @pytest.mark.skipif(True, reason="HOT updates are a PostgreSQL feature")
    def test_one_database_mark():
        pass

    def test_needs_a_tool():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (refused)")
""")


def run_sample(tmp_path, workers: str, ci: str | None, sample: str = SAMPLE):
    (tmp_path / "test_sample.py").write_text(sample)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.ci_skips",
            "-p",
            "no:cacheprovider",
            "-n",
            workers,
            "-ra",
            "test_sample.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("workers", ["0", "2"])
def test_ci_fails_on_a_skip_for_a_missing_tool(tmp_path, workers):
    result = run_sample(tmp_path, workers, "true")
    assert result.returncode == 1, result.stdout
    assert "CI: tests skipped that must run" in result.stdout
    listed = result.stdout.split("CI: tests skipped that must run")[1]
    assert "test_sample.py::test_needs_a_tool: Redis is not reachable" in listed
    assert "test_one_database" not in listed
    assert "1 test(s) skipped" in listed


def test_ci_passes_with_only_one_database_skips(tmp_path):
    sample = SAMPLE.split("def test_needs_a_tool")[0]
    result = run_sample(tmp_path, "2", "true", sample)
    assert result.returncode == 0, result.stdout
    assert "CI: tests skipped" not in result.stdout


def test_outside_ci_skips_only_show_in_the_summary(tmp_path):
    result = run_sample(tmp_path, "2", None)
    assert result.returncode == 0, result.stdout
    assert "SKIPPED [1] test_sample.py:15: Redis is not reachable" in result.stdout
    assert "CI: tests skipped" not in result.stdout
