"""Login, logout and the session: Flask-Login wiring and the auth blueprint."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_auth(app: Flask) -> None:
    from admin_app.auth import routes  # noqa: F401  (registers the routes on bp)
    from admin_app.auth.session import init_session

    init_session(app)
    app.register_blueprint(bp)
