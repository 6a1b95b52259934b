"""gunicorn and `flask --app wsgi` entry point; the config comes from APP_CONFIG."""

from werkzeug.serving import WSGIRequestHandler

from admin_app import create_app


def _unversioned_server(handler: WSGIRequestHandler) -> str:
    return "Werkzeug"


# The development server (`flask run`, `make run`) would answer "Server: Werkzeug/3.1.9
# Python/3.11.2"; name no versions. gunicorn (`make serve`) already says just "gunicorn".
WSGIRequestHandler.version_string = _unversioned_server

app = create_app()
