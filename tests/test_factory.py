import pytest

from admin_app import create_app
from config import ProductionConfig


def test_factory_builds_twice_in_one_process():
    first = create_app("testing")
    second = create_app("testing")
    assert first is not second
    assert "customers.index_view" in first.view_functions
    assert "customers.index_view" in second.view_functions


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "")
    with pytest.raises(SystemExit, match="SECRET_KEY"):
        create_app("production")


def test_unknown_config_name_is_a_clear_error():
    with pytest.raises(SystemExit, match="Unknown APP_CONFIG"):
        create_app("staging")


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    from admin_app.extensions import db

    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_a_redis_limiter_without_the_redis_client_refuses_to_start(monkeypatch, database_url):
    """`redis` is an optional extra: a Redis RATELIMIT_STORAGE_URI without it is a clear
    start-up error, not a failure at the first login."""
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "redis" else real_find_spec(name, *args),
    )
    with pytest.raises(SystemExit, match=r"customer-admin\[redis\]"):
        create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=database_url,
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
        )
    assert create_app("testing", SQLALCHEMY_DATABASE_URI=database_url).name == "admin_app"
