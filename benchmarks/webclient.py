"""Driving the app over HTTP: gunicorn on a free loopback port, and a logged-in staff client
that goes through the real forms (login, grid action, confirmation) with their CSRF tokens.

Shared by the HTTP benchmark and the load tests.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOKEN_RE = re.compile(r'name="token" type="hidden" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" type="hidden" value="([^"]*)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: str

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master), from /proc."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(entry))
        return pids

    def worker_cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by all workers together."""
        ticks = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def worker_peak_rss_mb(self) -> dict[int, float]:
        """Each worker's peak resident memory (VmHWM) since it started, in MB."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peaks[pid] = int(line.split()[1]) / 1024
            except OSError:
                continue
        return peaks

    def log_tail(self, lines: int = 40) -> str:
        with open(self.log_path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = 2,
    timeout: int = 120,
    env: dict | None = None,
    access_log: bool = False,
):
    """Serve wsgi:app with gunicorn on a free loopback port until the block ends.

    The app runs the development config (CSRF on, DEBUG off) on `database_url` with a random
    SECRET_KEY. Waits until /healthz answers; stops (and reaps) only the process it started.
    """
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="ca-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115 - closed when the server stops
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "5",
        "--chdir",
        str(ROOT),
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    command.append("wsgi:app")
    process_env = {
        **os.environ,
        "APP_CONFIG": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "RATELIMIT_STORAGE_URI": "memory://",
        **(env or {}),
    }
    process = subprocess.Popen(
        command, env=process_env, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT
    )
    server = Server(f"http://127.0.0.1:{port}", process, log_file.name)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log_file.close()
        os.unlink(log_file.name)


def _wait_until_healthy(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{server.log_tail()}")
        try:
            if requests.get(server.url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become healthy:\n{server.log_tail()}")


class StaffClient:
    """One logged-in browser session: cookies, and the CSRF token of the last form seen."""

    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 120):
        self.base = base_url
        self.username = username
        self.password = password
        self.timeout = timeout
        self.http = requests.Session()
        self.csrf = ""

    def clone(self) -> "StaffClient":
        """The same browser session (cookies, CSRF token) for use from another thread."""
        twin = StaffClient(self.base, self.username, self.password, timeout=self.timeout)
        twin.http.cookies.update(self.http.cookies)
        twin.csrf = self.csrf
        return twin

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self.base + path, timeout=self.timeout, **kwargs)
        self._remember_csrf(response)
        return response

    def post(self, path: str, data, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        response = self.http.post(self.base + path, data=data, timeout=self.timeout, **kwargs)
        self._remember_csrf(response)
        return response

    def _remember_csrf(self, response: requests.Response) -> None:
        match = (
            CSRF_RE.search(response.text)
            if "text/html" in response.headers.get("Content-Type", "")
            else None
        )
        if match:
            self.csrf = match.group(1)

    def login(self) -> None:
        self.get("/login")
        response = self.post(
            "/login",
            {"username": self.username, "password": self.password, "csrf_token": self.csrf},
        )
        if response.status_code != 302:
            raise RuntimeError(f"login as {self.username} failed: HTTP {response.status_code}")
        self.get("/admin/customers/?page_size=20")  # a page with the new session's CSRF token

    def start_action(
        self,
        action: str,
        rowids=(),
        *,
        select_all: bool = False,
        query: str = "",
        url: str = "/admin/customers/",
    ):
        """The grid's action POST; returns (response, confirmation token or None)."""
        data = {
            "action": action,
            "rowid": [str(r) for r in rowids],
            "url": url,
            "csrf_token": self.csrf,
        }
        if select_all:
            data["select_all"] = "1"
        response = self.post(f"/admin/customers/action/{query}", data)
        match = TOKEN_RE.search(response.text)
        return response, (match.group(1) if match else None)

    def confirm(
        self,
        token: str,
        *,
        reason: str = "customer_request",
        memo: str = "",
        url: str = "/admin/customers/",
    ) -> requests.Response:
        return self.post(
            "/admin/customers/confirm/",
            {"token": token, "reason": reason, "memo": memo, "url": url, "csrf_token": self.csrf},
        )

    def edit_form(self, customer_id: int) -> tuple[requests.Response, dict]:
        """GET the edit form; returns the response and the form's current field values."""
        response = self.get(f"/admin/customers/edit/?id={customer_id}")
        fields = {}
        for name in (
            "code",
            "name",
            "email",
            "phone",
            "segment",
            "credit_limit",
            "balance",
            "contract_end",
        ):
            fields[name] = _input_value(response.text, name)
        version = VERSION_RE.search(response.text)
        fields["version"] = version.group(1) if version else ""
        return response, fields

    def save_edit(self, customer_id: int, fields: dict) -> requests.Response:
        return self.post(
            f"/admin/customers/edit/?id={customer_id}", {**fields, "csrf_token": self.csrf}
        )


def _input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    if match:
        value = re.search(r'\bvalue="([^"]*)"', match.group(0))
        return _unescape(value.group(1)) if value else ""
    select = re.search(rf'<select[^>]*\bname="{name}"[^>]*>(.*?)</select>', html, re.S)
    if select:
        chosen = re.search(
            r'<option[^>]*selected[^>]*value="([^"]*)"|'
            r'<option[^>]*value="([^"]*)"[^>]*selected',
            select.group(1),
        )
        if chosen:
            return _unescape(chosen.group(1) or chosen.group(2))
    return ""


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
