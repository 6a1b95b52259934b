"""In CI (environment CI=true) a skipped test fails the run, unless it is one of the intended
one-database skips below: a test skipped because a tool is missing (Redis, Chromium, Node.js,
TEST_DATABASE_URL unset) would otherwise pass CI without having run.

A pytest plugin (tests/conftest.py registers it). Skip reports reach the controller under
pytest-xdist too (pytest_runtest_logreport), which decides the exit status. A new skip that
only means "this case needs the other database" goes into ONE_DATABASE_SKIPS.
"""

import os

import pytest

# The reasons of skips that leave a test running on the other database.
ONE_DATABASE_SKIPS = frozenset(
    {
        "TRUNCATE exists on PostgreSQL only",
        "HOT updates are a PostgreSQL feature",
        "SQLite pragmas",
        "one database is enough",
        "database roles are PostgreSQL's",
        "SQLite's single writer",
        "SQLite transactions",
        "pg_terminate_backend",
        "a database shared by several app hosts is PostgreSQL's",
        "streaming the changed rows is PostgreSQL's",
        "reads outside a transaction are PostgreSQL's",
    }
)

_skipped: list[tuple[str, str]] = []


def enforced() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple | list) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append((report.nodeid, skip_reason(report)))


def unexpected_skips() -> list[tuple[str, str]]:
    return [(nodeid, reason) for nodeid, reason in _skipped if reason not in ONE_DATABASE_SKIPS]


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionfinish(session, exitstatus):
    if (
        enforced()
        and _is_controller(session.config)
        and unexpected_skips()
        and exitstatus == pytest.ExitCode.OK
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    if not (enforced() and _is_controller(config)):
        return
    problems = unexpected_skips()
    if problems:
        terminalreporter.section("CI: tests skipped that must run", red=True)
        for nodeid, reason in problems:
            terminalreporter.write_line(f"{nodeid}: {reason}")
        terminalreporter.write_line(
            f"{len(problems)} test(s) skipped for a reason other than a one-database case "
            "(tests/ci_skips.py ONE_DATABASE_SKIPS): install what they need; CI fails.",
            red=True,
        )
