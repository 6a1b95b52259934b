"""The benchmark scripts still run end to end against the app as it is now, at a tiny size on a
temporary SQLite file. Their numbers are never asserted (speed lives in the benchmarks); what
is asserted is that every step they time happened: a script that stops half-way, or times a
confirmation that was sent for approval instead of executed, measures nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_script(name: str, *args: str, tmp_path: Path) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/bench.db"}
    env.pop("APPROVAL_THRESHOLD", None)  # the scripts set what they measure themselves
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_bench_http_times_every_page_and_both_executions(tmp_path):
    out = run_script(
        "bench_http.py",
        *("--customers", "600", "--entries", "3000", "--repeats", "1", "--bulk-repeats", "2"),
        tmp_path=tmp_path,
    )
    for line in ("grid page 1", "log page 1,000", "checked: execution", "413 from the app's cap"):
        assert line in out
    assert out.count("execution / raw") == 2  # checked rows and select-all matching
    assert "chain intact" in out


def test_profile_pages_profiles_the_confirm_round_trip(tmp_path):
    pytest.importorskip("pyinstrument")
    out = run_script(
        "profile_pages.py",
        *("--customers", "500", "--entries", "2000", "--requests", "1", "--rounds", "2"),
        *("--top", "2", "--out", str(tmp_path / "profiles")),
        tmp_path=tmp_path,
    )
    assert "## confirm:" in out and "## preview:" in out
    assert (tmp_path / "profiles" / "confirm.txt").exists()
