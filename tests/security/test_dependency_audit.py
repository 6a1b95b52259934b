"""tools/dependency_audit.py (`make audit`, run by CI): known-vulnerable pins fail the check;
an unreachable vulnerability service is reported, not a failure (ASVS 14.2.1 / v5 15.2.1)."""

import json
import sys

import pytest

from tools import dependency_audit


def _fake_pip_audit(tmp_path, report: dict | None, exit_code: int = 0) -> str:
    """An executable standing in for pip-audit that prints `report` as its JSON."""
    script = tmp_path / "pip-audit"
    output = json.dumps(report) if report is not None else ""
    script.write_text(
        f"#!{sys.executable}\nimport sys\nprint({output!r})\n"
        f"print('network unreachable', file=sys.stderr)\nsys.exit({exit_code})\n"
    )
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def constraints(tmp_path):
    def write(*pins: str):
        path = tmp_path / "constraints.txt"
        path.write_text("\n".join(pins) + "\n")
        return path

    return write


def test_the_projects_pins_have_no_known_advisory():
    pins = dependency_audit.read_pins(dependency_audit.ROOT / "constraints.txt")
    assert pins["flask-admin"] == "2.2.1"
    assert dependency_audit.offline_findings(pins) == []


def test_an_old_flask_admin_fails_offline(constraints, capsys):
    """SECURITY.md: CI fails on flask-admin < 1.5.3 (CVE-2018-16516)."""
    path = constraints("Flask-Admin==1.5.2", "Jinja2==3.1.6")
    assert dependency_audit.main(["--constraints", str(path), "--pip-audit", ""]) == 1
    output = capsys.readouterr().out
    assert "VULNERABLE flask-admin==1.5.2: CVE-2018-16516" in output


def test_unreachable_vulnerability_service_is_reported_not_failed(constraints, tmp_path, capsys):
    path = constraints("Flask==3.1.3", "Werkzeug==3.1.9")
    fake = _fake_pip_audit(
        tmp_path,
        {
            "dependencies": [
                {"name": "flask", "skip_reason": "Dependency not found on PyPI"},
                {"name": "werkzeug", "skip_reason": "Dependency not found on PyPI"},
            ]
        },
    )
    assert dependency_audit.main(["--constraints", str(path), "--pip-audit", fake]) == 0
    assert (
        "could not reach its vulnerability service for any of the 2 pins" in capsys.readouterr().out
    )


def test_pip_audit_that_cannot_run_is_reported_not_failed(constraints, tmp_path, capsys):
    path = constraints("Flask==3.1.3")
    fake = _fake_pip_audit(tmp_path, None, exit_code=1)
    assert dependency_audit.main(["--constraints", str(path), "--pip-audit", fake]) == 0
    assert "pip-audit could not run its check (network unreachable)" in capsys.readouterr().out


def test_a_vulnerability_pip_audit_finds_fails(constraints, tmp_path, capsys):
    path = constraints("Flask==3.1.3")
    fake = _fake_pip_audit(
        tmp_path,
        {
            "dependencies": [
                {"name": "flask", "version": "3.1.3", "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz"}]}
            ]
        },
    )
    assert dependency_audit.main(["--constraints", str(path), "--pip-audit", fake]) == 1
    assert "VULNERABLE flask==3.1.3: GHSA-xxxx-yyyy-zzzz (pip-audit)" in capsys.readouterr().out
