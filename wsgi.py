"""gunicorn and `flask --app wsgi` entry point; the config comes from APP_CONFIG."""

from admin_app import create_app

app = create_app()
