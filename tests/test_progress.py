"""Long CLI work shows progress on a terminal and stays quiet when piped."""

import pytest

from admin_app import progress
from admin_app.services import demo

LABEL = "Adding demo customers"


def test_seed_demo_reports_progress_per_batch(app, monkeypatch):
    monkeypatch.setattr(demo, "INSERT_BATCH", 100)
    steps = []
    demo.seed_demo(customers=250, seed=1, progress=steps.append)
    assert steps == [100, 100, 50]


def test_seed_demo_is_quiet_when_piped(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "30"])
    assert result.exit_code == 0, result.output
    assert LABEL not in result.output
    assert result.output.startswith("Added 30 customers")


@pytest.mark.parametrize("terminal", [True, False])
def test_seed_demo_shows_a_progress_bar_on_a_terminal(runner, monkeypatch, terminal):
    monkeypatch.setattr(progress, "_is_terminal", lambda: terminal)
    result = runner.invoke(args=["seed-demo", "--customers", "30"])
    assert result.exit_code == 0, result.output
    assert (LABEL in result.output) is terminal
