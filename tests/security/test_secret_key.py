"""The signing key of `make run` and `make serve` (the development config without SECRET_KEY):
random, made once into the instance folder with mode 0600 and reused on later starts, so no
string anyone can read in the source tree signs a session the app accepts. Production still
refuses to start without SECRET_KEY."""

import ast
import multiprocessing
import stat
from pathlib import Path

import pytest
from flask import Flask, request

from admin_app import create_app
from admin_app.extensions import db
from admin_app.secret_key import load_or_create
from config import ENV_SECRET_KEY, TestingConfig
from tests.conftest import PASSWORD, IsolatedClient
from tests.security.conftest import page_csrf

ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCE = {".git", ".venv", ".venv-audit", "venv", "node_modules", "build", "__pycache__"}


def source_strings() -> set[str | bytes]:
    """Every non-empty string and bytes literal in the repository's Python files."""
    found = set()
    for path in ROOT.rglob("*.py"):
        if NOT_SOURCE & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, (str, bytes))
                and node.value
            ):
                found.add(node.value)
    return found


def development_app(key_file: Path, database_url: str = "sqlite://") -> Flask:
    """The app as `make run` / `make serve` build it: development config, no SECRET_KEY (the
    config as it is, unless this test run's environment sets one)."""
    no_key = {"SECRET_KEY": ""} if ENV_SECRET_KEY else {}
    return create_app(
        "development", SECRET_KEY_FILE=key_file, SQLALCHEMY_DATABASE_URI=database_url, **no_key
    )


@pytest.fixture
def dev_app(database_url, staff, tmp_path):
    app = development_app(tmp_path / "instance" / "secret_key", database_url)
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_no_string_in_the_source_tree_signs_a_development_session(dev_app, staff):
    """An admin's real session, re-signed with each string literal of the source tree (the
    keys a reader of the repository could try), is refused; re-signed with the app's own
    key it is accepted (so what is refused is only the signature)."""
    browser = dev_app.test_client()
    assert (
        browser.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": page_csrf(browser)},
        ).status_code
        == 302
    )
    cookie_name = dev_app.config["SESSION_COOKIE_NAME"]
    interface = dev_app.session_interface
    payload = dict(
        interface.get_signing_serializer(dev_app).loads(browser.get_cookie(cookie_name).value)
    )
    assert payload["_user_id"] == staff["admin"].get_id()

    def signed_with(key: str | bytes) -> str:
        forger = Flask("forger")
        forger.secret_key = key
        return interface.get_signing_serializer(forger).dumps(payload)

    def accepted(cookie: str) -> bool:
        with dev_app.test_request_context(headers={"Cookie": f"{cookie_name}={cookie}"}):
            return "_user_id" in interface.open_session(dev_app, request)

    def admin_page_status(cookie: str) -> int:
        thief = dev_app.test_client()
        thief.set_cookie(cookie_name, cookie)
        return thief.get("/admin/").status_code

    assert accepted(signed_with(dev_app.secret_key))
    assert admin_page_status(signed_with(dev_app.secret_key)) == 200
    strings = source_strings()
    assert len(strings) > 1000  # the scan read the source tree
    assert [key for key in strings if accepted(signed_with(key))] == []
    assert admin_page_status(signed_with(TestingConfig.SECRET_KEY)) == 302


def test_development_key_is_random_made_once_with_mode_0600_and_reused(tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = development_app(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) == 64
    assert [path.name for path in key_file.parent.iterdir()] == ["secret_key"]
    assert development_app(key_file).secret_key == first.secret_key  # a restart
    assert development_app(tmp_path / "elsewhere" / "secret_key").secret_key != first.secret_key


def _start_worker(barrier, key_file: Path, keys) -> None:
    barrier.wait(timeout=60)
    try:
        keys.put(load_or_create(key_file))
    except BaseException as exc:  # noqa: BLE001 - reported to the test, not lost
        keys.put(f"failed: {exc!r}")


def test_workers_starting_together_all_get_the_same_key(tmp_path):
    """`make serve` starts its gunicorn workers at once, each building the app: all of them
    must end up with the one key in the file (none with a key of its own)."""
    context = multiprocessing.get_context("fork")
    key_file, workers = tmp_path / "instance" / "secret_key", 4
    barrier, keys = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_start_worker, args=(barrier, key_file, keys))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    found = {keys.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * workers
    assert found == {key_file.read_text().strip()}
    assert [path.name for path in key_file.parent.iterdir()] == ["secret_key"]


def test_a_key_file_others_may_read_or_without_a_key_is_refused(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("a" * 64)
    key_file.chmod(0o644)
    with pytest.raises(SystemExit, match="read by other users"):
        development_app(key_file)
    key_file.write_text("\n")
    key_file.chmod(0o600)
    with pytest.raises(SystemExit, match="no usable key"):
        development_app(key_file)


def test_production_still_refuses_to_start_without_secret_key():
    """No generated key in production: every worker and host must share one explicit key."""
    with pytest.raises(SystemExit, match="SECRET_KEY is not set"):
        create_app("production", SECRET_KEY="", SQLALCHEMY_DATABASE_URI="sqlite://")
