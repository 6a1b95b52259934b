"""Check the pinned dependencies (constraints.txt) for known vulnerabilities.

1. Offline: every pin is compared with a short table of published advisories for the
   packages this project uses (a floor that needs no network; extend it when an advisory is
   published).
2. Online: pip-audit, when it is installed (`make audit` puts it in .venv-audit), checks
   every pin against PyPI's vulnerability data. If it cannot reach that service, or cannot
   look the pins up there, this says so clearly and does not fail: only a known-vulnerable
   pin fails the check.

Exit status: 0 no known vulnerability found, 1 a pinned version is known to be vulnerable.
Usage: python tools/dependency_audit.py [--constraints FILE] [--pip-audit PATH]
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

# package -> [(affected versions, advisory, what)]
ADVISORIES: dict[str, list[tuple[str, str, str]]] = {
    "flask-admin": [("<1.5.3", "CVE-2018-16516", "XSS in the list views")],
    "flask": [
        ("<2.2.5", "CVE-2023-30861", "session cookie cached by proxies"),
        (">=2.3.0,<2.3.2", "CVE-2023-30861", "session cookie cached by proxies"),
    ],
    "werkzeug": [
        ("<2.2.3", "CVE-2023-25577", "multipart parsing DoS"),
        ("<2.3.8", "CVE-2023-46136", "multipart parsing DoS"),
        (">=3.0.0,<3.0.1", "CVE-2023-46136", "multipart parsing DoS"),
        ("<3.0.3", "CVE-2024-34069", "debugger RCE"),
        ("<3.0.6", "CVE-2024-49767", "multipart memory exhaustion"),
        ("<3.1.4", "CVE-2025-66221", "safe_join and Windows device names"),
    ],
    "jinja2": [
        ("<3.1.3", "CVE-2024-22195", "xmlattr XSS"),
        ("<3.1.4", "CVE-2024-34064", "xmlattr XSS"),
        ("<3.1.5", "CVE-2024-56201", "sandbox escape"),
        ("<3.1.6", "CVE-2025-27516", "sandbox escape through |attr"),
    ],
    "gunicorn": [
        ("<22.0.0", "CVE-2024-1135", "request smuggling"),
        ("<23.0.0", "CVE-2024-6827", "request smuggling"),
    ],
    "sqlalchemy": [("<1.2.18", "CVE-2019-7164", "SQL injection through order_by")],
    "mako": [("<1.2.2", "CVE-2022-40023", "ReDoS in the lexer")],
    "babel": [("<2.9.1", "CVE-2021-42771", "arbitrary code via locale names")],
    "pygments": [("<2.7.4", "CVE-2021-27291", "ReDoS"), ("<2.15.0", "CVE-2022-40896", "ReDoS")],
    "redis": [("<4.5.4", "CVE-2023-28859", "responses to the wrong caller")],
}

PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def offline_findings(pins: dict[str, str]) -> list[str]:
    findings = []
    for name, version in sorted(pins.items()):
        for affected, advisory, what in ADVISORIES.get(name, ()):
            if Version(version) in SpecifierSet(affected):
                findings.append(f"{name}=={version}: {advisory} ({what}; affected {affected})")
    return findings


def pip_audit(executable: str, constraints: Path, timeout: int) -> tuple[list[str], str]:
    """(vulnerable pins, a note on what pip-audit could or could not check)."""
    command = [
        executable,
        "-r",
        str(constraints),
        "--no-deps",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"pip-audit did not finish ({exc.__class__.__name__}); online check skipped."
    try:
        report = json.loads(result.stdout)
    except ValueError:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"pip-audit could not run its check ({detail}); online check skipped."
    dependencies = report.get("dependencies", [])
    vulnerable = [
        f"{d['name']}=={d['version']}: " + ", ".join(v["id"] for v in d["vulns"])
        for d in dependencies
        if d.get("vulns")
    ]
    unchecked = [d["name"] for d in dependencies if d.get("skip_reason")]
    checked = len(dependencies) - len(unchecked)
    if dependencies and not checked:
        note = (
            f"pip-audit could not reach its vulnerability service for any of the "
            f"{len(dependencies)} pins (e.g. {unchecked[0]}: not found); only the offline "
            "check applied."
        )
    elif unchecked:
        note = (
            f"pip-audit checked {checked} pins; {len(unchecked)} could not be looked up "
            f"({', '.join(unchecked[:5])}{', ...' if len(unchecked) > 5 else ''})."
        )
    else:
        note = f"pip-audit checked all {checked} pins."
    return vulnerable, note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--constraints", type=Path, default=ROOT / "constraints.txt")
    parser.add_argument(
        "--pip-audit",
        default=shutil.which("pip-audit"),
        help="pip-audit executable (default: the one on PATH, if any)",
    )
    parser.add_argument("--timeout", type=int, default=180)
    args = parser.parse_args(argv)

    pins = read_pins(args.constraints)
    print(f"dependency audit: {len(pins)} pins in {args.constraints.name}")
    found = offline_findings(pins)
    print(
        f"offline check ({sum(map(len, ADVISORIES.values()))} advisories for "
        f"{len(ADVISORIES)} packages): " + ("VULNERABLE" if found else "no known issue")
    )
    if args.pip_audit:
        online, note = pip_audit(args.pip_audit, args.constraints, args.timeout)
        print(note)
        found += [f"{line} (pip-audit)" for line in online]
    else:
        print("pip-audit is not installed (`make audit` installs it); online check skipped.")
    for line in found:
        print(f"  VULNERABLE {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
