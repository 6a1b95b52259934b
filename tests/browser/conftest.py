"""A live server on a free loopback port and a Playwright Chromium page."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import StaffUser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


@pytest.fixture
def live_app(sqlite_template, tmp_path, password_hash):
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        for role in ("admin", "manager", "clerk", "auditor"):
            db.session.add(
                StaffUser(username=role, role=role, is_active=True, password_hash=password_hash)
            )
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    os.makedirs(ARTIFACTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)  # a cap on waits for real events, never a sleep
        yield page
        context.close()
        browser.close()


@pytest.fixture
def seeded(live_app):
    """The live app with 120 demo customers (seed 3)."""
    from admin_app.services.demo import seed_demo

    with live_app.app_context():
        seed_demo(customers=120, seed=3)
        db.session.remove()
    return live_app


def log_in(page, base: str, username: str = "admin") -> None:
    from tests.conftest import PASSWORD

    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(f"{base}/admin/")


def screenshot(page, name: str) -> str:
    path = os.path.join(ARTIFACTS, name)
    page.screenshot(path=path, full_page=True)
    return path
