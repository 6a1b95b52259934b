"""gunicorn and `flask --app wsgi` entry point; the config comes from APP_CONFIG."""

import gc

from werkzeug.serving import WSGIRequestHandler

from admin_app import create_app


def _unversioned_server(handler: WSGIRequestHandler) -> str:
    return "Werkzeug"


# The development server (`flask run`, `make run`) would answer "Server: Werkzeug/3.1.9
# Python/3.11.2"; name no versions. gunicorn (`make serve`) already says just "gunicorn".
WSGIRequestHandler.version_string = _unversioned_server

app = create_app()

# What the app built at start-up lives as long as the worker: keep it out of the garbage
# collector's full passes, which otherwise walk all of it every few dozen requests (tens of
# ms each; issue 19). Objects made by requests are collected as before.
gc.collect()
gc.freeze()
