"""gunicorn with several workers on a loopback port, for the cases that need real processes,
and a small cookie-keeping HTTP client for it. Startup is bounded (STARTUP_SECONDS) and the
server is always terminated (SIGTERM, then SIGKILL)."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60  # a cap on waiting for a real event (workers up), generous for a busy machine


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class Server:
    base: str
    port: int
    process: subprocess.Popen
    access_log: Path
    error_log: Path
    spread_arrived: Path | None = None

    def spread_workers(self) -> set[str]:
        """Pids of the workers that took a request to the `spread` path (known before the
        request went on; an access log line is written only after its response)."""
        if self.spread_arrived is None:
            return set()
        return {entry.name for entry in self.spread_arrived.iterdir()}

    def worker_pids_seen(self, path: str) -> set[str]:
        """Worker pids that served requests for `path` (access log lines: "<pid> status
        method path")."""
        return {
            line.split(" ", 1)[0]
            for line in _read(self.access_log).splitlines()
            if line.endswith(" " + path)
        }

    def logs(self) -> str:
        return _read(self.access_log) + _read(self.error_log)


@dataclass
class Client:
    """One browser: keeps cookies, never follows redirects."""

    server: Server
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, data: dict | None = None, headers: dict | None = None
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        all_headers = {**self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            reply = Reply(
                response.status, response.headers, response.read().decode("utf-8", "replace")
            )
        finally:
            conn.close()
        for raw in reply.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Reply:
        return self.request("POST", path, data=data, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_spec(database_url: str, **config) -> str:
    """gunicorn's "module:factory(args)" for create_app with literal config overrides."""
    overrides = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "gunicorn-tests-only",
        **config,
    }
    arguments = ", ".join(f"{name}={value!r}" for name, value in overrides.items())
    return f'admin_app:create_app("development", {arguments})'


# A gunicorn config for `spread`: a sync worker takes its next connection only after it has
# answered the one it holds, so holding each request to the path until every worker holds one
# makes requests fired together land on different workers, whatever the machine's load.
SPREAD_CONFIG = """
import os
import time
from pathlib import Path

ARRIVED = Path({arrived!r})


def pre_request(worker, req):
    if req.path != {path!r}:
        return
    (ARRIVED / str(os.getpid())).touch()
    deadline = time.monotonic() + {seconds}  # a cap, for a test that sends too few requests
    while len(list(ARRIVED.iterdir())) < {workers} and time.monotonic() < deadline:
        time.sleep(0.01)
"""


@contextmanager
def gunicorn(
    spec: str, tmp_path: Path, *, workers: int = 2, spread: str | None = None
) -> Iterator[Server]:
    """gunicorn serving `spec`. With `spread` (a path), the first requests to that path wait
    until every worker has one: send at least `workers` of them at once."""
    port = free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("APP_CONFIG", "DATABASE_URL", "SECRET_KEY")
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--preload",
        "--timeout",
        "120",
        "--graceful-timeout",
        "3",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        "%(p)s %(s)s %(m)s %(U)s",
        "--error-logfile",
        str(error_log),
        spec,
    ]
    arrived = None
    if spread is not None:
        arrived = tmp_path / "spread-arrived"
        arrived.mkdir()
        config = tmp_path / "spread.conf.py"
        config.write_text(
            SPREAD_CONFIG.format(
                arrived=str(arrived), path=spread, workers=workers, seconds=STARTUP_SECONDS
            )
        )
        command[3:3] = ["--config", str(config)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}", port, process, access_log, error_log, arrived)
    try:
        _wait_until_ready(server, workers)
        yield server
    finally:
        _stop(process)


def _wait_until_ready(server: Server, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + _read(server.error_log))
        booted = len(re.findall(r"Booting worker", _read(server.error_log)))
        if booted >= workers:
            try:
                if Client(server).get("/healthz").status == 200:
                    return
            except OSError:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn not ready in {STARTUP_SECONDS}s:\n" + _read(server.error_log))


@contextmanager
def flask_run(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`flask --app wsgi run` (the development server of `make run`) on a loopback port,
    ready when /healthz answers (bounded by STARTUP_SECONDS)."""
    port = free_port()
    log = tmp_path / "flask-run.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("APP_CONFIG", "DATABASE_URL", "SECRET_KEY")
    }
    env.update(
        APP_CONFIG="development", DATABASE_URL=database_url, SECRET_KEY="flask-run-tests-only"
    )
    command = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "wsgi",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(server):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("flask run did not start:\n" + _read(log))
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


def _healthy(server: Server) -> bool:
    try:
        return Client(server).get("/healthz").status == 200
    except OSError:
        return False


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def redis_url_or_skip(db: int = 0) -> str:
    import redis

    url = f"redis://127.0.0.1:6379/{db}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis is not reachable on 127.0.0.1:6379 ({exc})")
    return url
