"""API client endpoints (admins) and the OAuth 2 token endpoint (clients)."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.integrations import oauth, service
from collab.integrations.schemas import ClientCreate, ClientOut, NewClientOut

blueprint = Blueprint("clients", __name__, description="API clients (admins)")
oauth_blueprint = Blueprint("oauth", __name__, description="OAuth 2 token endpoint")


@blueprint.post("/clients")
@blueprint.arguments(ClientCreate)
@blueprint.response(201, NewClientOut)
def register_client(fields):
    """Register a client; it acts as a new service user. The secret is shown only here."""
    client, secret = service.register_client(current_user(), fields)
    client.client_secret = secret
    return client


@blueprint.get("/clients")
@blueprint.response(200, ClientOut(many=True))
def list_clients():
    """Registered clients."""
    return service.list_clients(current_user())


@blueprint.get("/clients/<int:client_id>")
@blueprint.response(200, ClientOut)
def get_client(client_id):
    return service.get_client(current_user(), client_id)


@blueprint.delete("/clients/<int:client_id>")
@blueprint.response(204)
def revoke_client(client_id):
    """Revoke a client: no new tokens, and its tokens stop working at once."""
    service.revoke_client(current_user(), client_id)


@oauth_blueprint.route("/oauth/token", methods=["POST"])
@oauth_blueprint.doc(
    summary="Obtain an access token (client-credentials grant)",
    description=("Form-encoded `grant_type=client_credentials` and optional `scope` "
                 "(space-separated); authenticate with HTTP Basic (client id and secret) or "
                 "`client_id`/`client_secret` form fields. Errors follow RFC 6749 §5.2."),
    requestBody={"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": {"type": "object", "required": ["grant_type"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "example": "read write"},
            "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}},
    responses={"200": {"description": "An access token", "content": {"application/json": {
        "example": {"access_token": "collab_…", "token_type": "Bearer", "expires_in": 3600,
                    "scope": "read write"}}}},
               "400": {"description": "invalid_request, unsupported_grant_type, invalid_scope",
                       "content": {"application/json": {"example": {"error": "invalid_scope"}}}},
               "401": {"description": "invalid_client (RFC 6749 error JSON, not problem+json)",
                       "content": {"application/json": {"example": {"error": "invalid_client"}}}}},
)
def token():
    return oauth.token_response()
