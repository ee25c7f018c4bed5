"""Entry point for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""
from collab import create_app

app = create_app()
