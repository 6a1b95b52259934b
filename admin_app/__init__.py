"""Customer Admin: bulk deactivate / freeze / reactivate ERP customers, with an audit trail."""

from pathlib import Path

from flask import Flask

from config import config_for


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the app for `config_name` (or APP_CONFIG; default development)."""
    from admin_app import secret_key, timefmt
    from admin_app.admin import init_admin
    from admin_app.api import init_api
    from admin_app.auth import init_auth, throttle
    from admin_app.cli import init_cli
    from admin_app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from admin_app.web import init_web

    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_for(config_name))
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        if not app.config.get("SECRET_KEY_FILE"):
            raise SystemExit("SECRET_KEY is not set: production refuses to start without it.")
        app.config["SECRET_KEY"] = secret_key.load_or_create(Path(app.config["SECRET_KEY_FILE"]))
    if not timefmt.is_time_zone(app.config.get("APP_TIMEZONE") or ""):
        raise SystemExit(
            f"APP_TIMEZONE={app.config.get('APP_TIMEZONE')!r} is not a known IANA time zone "
            "(e.g. UTC, Asia/Taipei): refusing to start."
        )
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["APP_TIMEZONE"]

    db.init_app(app)
    _configure_engines(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    throttle.require_storage_client(app.config.get("RATELIMIT_STORAGE_URI") or "")
    limiter.init_app(app)
    init_web(app, babel)
    init_auth(app)
    init_admin(app)
    init_api(app)
    init_cli(app)
    return app


def _configure_engines(app: Flask) -> None:
    from admin_app.extensions import db
    from admin_app.services.transaction import configure_sqlite_durability

    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite_durability(engine, app.config["SQLITE_SYNCHRONOUS"])
