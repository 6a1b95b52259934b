"""Production serving: the reverse-proxy setting and the health check."""

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from admin_app import create_app, web
from admin_app.extensions import db
from admin_app.models import AuditOperation
from tests.conftest import PASSWORD

FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def login_ip(client) -> str:
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORD}, headers=FORWARDED
    )
    assert response.status_code == 302
    db.session.rollback()
    return db.session.execute(
        sa.select(AuditOperation.client_ip).where(AuditOperation.action == "login")
    ).scalar_one()


def test_forwarded_headers_are_ignored_by_default(client, staff):
    assert login_ip(client) == "127.0.0.1"


@pytest.mark.config(TRUSTED_PROXIES=1)
def test_one_trusted_proxy_supplies_the_client_address(client, staff):
    assert login_ip(client) == "203.0.113.9"


@pytest.mark.config(TRUSTED_PROXIES=1)
def test_only_the_trusted_number_of_hops_is_believed(client, staff):
    # A client can prepend its own X-Forwarded-For; with one proxy only the last hop counts.
    response = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD},
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.execute(sa.select(AuditOperation.client_ip)).scalar_one() == "203.0.113.9"


@pytest.mark.parametrize(
    "unreachable",
    ["sqlite:///{tmp_path}/no/such/dir.db", "postgresql+psycopg://postgres@127.0.0.1:1/none"],
    ids=["sqlite", "postgresql"],
)
def test_healthz_is_503_when_the_database_is_unreachable(tmp_path, unreachable):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=unreachable.format(tmp_path=tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_no_server_timing_header_by_default(client):
    assert "Server-Timing" not in client.get("/healthz").headers


@pytest.mark.config(SERVER_TIMING=True)
def test_server_timing_reports_the_apps_own_time(client, monkeypatch):
    """One metric, `app`, with the time from the request's start to its response in
    milliseconds, one decimal (the Server-Timing syntax: name;dur=<ms>)."""
    readings = iter([100.0, 100.0123456])  # perf_counter at the start and at the end (s)
    monkeypatch.setattr(web, "time", SimpleNamespace(perf_counter=lambda: next(readings)))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers.getlist("Server-Timing") == ["app;dur=12.3"]


@pytest.mark.config(SERVER_TIMING=True)
def test_server_timing_is_on_every_response(client):
    for path in ("/healthz", "/login", "/admin/", "/static/app.css", "/nope"):
        header = client.get(path).headers.get("Server-Timing", "")
        assert re.fullmatch(r"app;dur=\d+\.\d", header), (path, header)
