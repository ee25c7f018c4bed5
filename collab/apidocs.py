"""The browsable API docs page (`/api/v1/docs`) served entirely by this app, with no external request.

flask-smorest renders the page; its swagger-ui scripts and styles come from the pinned
`swagger-ui-bundle` package and are served here, so the page works behind a firewall or offline.
"""
from flask import Blueprint, Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/api/v1/docs/assets/"

blueprint = Blueprint("api_docs_assets", __name__)


@blueprint.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str):
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)


def init_app(app: Flask) -> None:
    """Point flask-smorest's swagger-ui page at the shipped assets (before `Api(app)` reads it)."""
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", ASSETS_URL)
    # swagger-ui would otherwise load a validity badge from validator.swagger.io.
    app.config.setdefault("OPENAPI_SWAGGER_UI_CONFIG", {"validatorUrl": None})
    app.register_blueprint(blueprint)
