"""The WSGI entry point for gunicorn: `gunicorn chaindb.wsgi:app`."""

from chaindb import create_app

app = create_app()
