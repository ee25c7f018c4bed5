"""The Blueprint every feature's api.py uses: flask-smorest's, with strict query strings."""
import flask_smorest
from webargs.flaskparser import FlaskParser


class Blueprint(flask_smorest.Blueprint):
    """Unknown query parameters are refused (422) like unknown body fields, so typos never pass."""

    # unknown=None: defer to each schema's Meta.unknown (RAISE in collab.schemas.StrictSchema).
    ARGUMENTS_PARSER = FlaskParser(unknown=None)
