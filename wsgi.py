"""WSGI entry point for gunicorn: `gunicorn 'wsgi:app'`."""

from backend import create_app

app = create_app()
