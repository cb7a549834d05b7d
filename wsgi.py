"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from marketplace.app import create_app, freeze_startup_heap

app = create_app()
freeze_startup_heap()
