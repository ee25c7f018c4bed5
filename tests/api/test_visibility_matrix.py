"""Who sees and who writes: audience × visibility × membership state × action.

A hidden community, and everything in it, answers 404 exactly as if it did not exist; a visible
one answers 403 to writes from non-members.
"""
import pytest

from tests.factories import set_membership

AUDIENCES = ["employee", "partner", "customer"]
VISIBILITIES = ["open", "restricted", "private"]
STATES = ["none", "pending", "invited", "active", "banned"]
OPEN_TO = ["employee", "partner"]  # customers are never in the community's audiences here


def expected_visible(audience: str, visibility: str, state: str) -> bool:
    if state == "active":
        return True
    if state == "banned" or visibility == "private":
        return False
    return audience in OPEN_TO


@pytest.fixture
def space(make_user, make_community):
    """A community per visibility, each with one thread and one reply by its owner."""
    def build(visibility: str, organizations: list[str] | None = None):
        owner = make_user("owner")
        slug = f"space-{visibility}"
        make_community(owner, slug, visibility=visibility, audiences=OPEN_TO,
                       organizations=organizations or [])
        thread = owner.post(f"/api/v1/communities/{slug}/threads", json={
            "kind": "discussion", "title": "Roadmap", "body": "What is next?"})
        assert thread.status_code == 201, thread.get_json()
        thread_id = thread.get_json()["id"]
        post = owner.post(f"/api/v1/threads/{thread_id}/posts", json={"body": "First."})
        assert post.status_code == 201, post.get_json()
        return slug, thread_id
    return build


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("audience", AUDIENCES)
def test_read_and_write_matrix(app, make_user, space, audience, visibility, state):
    slug, thread_id = space(visibility)
    viewer = make_user("viewer", audience=audience,
                       organization=None if audience == "employee" else "acme")
    if state != "none":
        set_membership(app, slug, viewer.id, state)
    visible = expected_visible(audience, visibility, state)
    read = 200 if visible else 404

    assert viewer.get(f"/api/v1/communities/{slug}").status_code == read
    listed = [c["slug"] for c in viewer.get("/api/v1/communities").get_json()["items"]]
    assert (slug in listed) is visible
    assert viewer.get(f"/api/v1/communities/{slug}/members").status_code == read
    assert viewer.get(f"/api/v1/communities/{slug}/threads").status_code == read
    assert viewer.get(f"/api/v1/threads/{thread_id}").status_code == read
    assert viewer.get(f"/api/v1/threads/{thread_id}/posts").status_code == read

    write = 201 if state == "active" else (403 if visible else 404)
    response = viewer.post(f"/api/v1/communities/{slug}/threads", json={
        "kind": "discussion", "title": "Mine", "body": "Hello"})
    assert response.status_code == write, response.get_json()
    response = viewer.post(f"/api/v1/threads/{thread_id}/posts", json={"body": "Reply"})
    assert response.status_code == write, response.get_json()
    # Moderation is never open to plain members, and hidden stays hidden.
    moderate = 403 if visible else 404
    assert viewer.patch(f"/api/v1/communities/{slug}", json={"name": "X"}).status_code == moderate


@pytest.mark.parametrize("audience, organization, visible", [
    ("partner", "acme", True),
    ("partner", "initech", True),
    ("partner", "globex", False),
    ("partner", None, False),
    ("employee", None, True),
    ("customer", "acme", False),  # right company, but customers are not in the audiences
])
def test_organization_allow_list(make_user, space, audience, organization, visible):
    slug, thread_id = space("restricted", organizations=["acme", "initech"])
    viewer = make_user("viewer", audience=audience, organization=organization)
    expected = 200 if visible else 404
    assert viewer.get(f"/api/v1/communities/{slug}").status_code == expected
    assert viewer.get(f"/api/v1/threads/{thread_id}").status_code == expected
    join = viewer.post(f"/api/v1/communities/{slug}/members", json={})
    assert join.status_code == (201 if visible else 404)
    if visible:
        assert join.get_json()["status"] == "pending"


def test_invited_partner_of_another_company_sees_after_accepting(app, make_user, space):
    slug, thread_id = space("restricted", organizations=["acme"])
    outsider = make_user("outsider", audience="partner", organization="globex")
    assert outsider.get(f"/api/v1/threads/{thread_id}").status_code == 404
    set_membership(app, slug, outsider.id, "invited")
    assert outsider.get(f"/api/v1/threads/{thread_id}").status_code == 404
    response = outsider.post(f"/api/v1/communities/{slug}/members", json={})
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert outsider.get(f"/api/v1/threads/{thread_id}").status_code == 200


def test_visibility_change_applies_on_next_request(make_user, make_community):
    owner = make_user("owner")
    partner = make_user("pat", audience="partner", organization="acme")
    make_community(owner, "lab", visibility="open", audiences=["employee", "partner"])
    assert partner.get("/api/v1/communities/lab").status_code == 200
    owner.patch("/api/v1/communities/lab", json={"visibility": "private"})
    assert partner.get("/api/v1/communities/lab").status_code == 404
    owner.patch("/api/v1/communities/lab", json={"visibility": "open", "audiences": ["employee"]})
    assert partner.get("/api/v1/communities/lab").status_code == 404


def test_admin_sees_everything(make_user, space):
    slug, thread_id = space("private")
    admin = make_user("root", audience="customer", is_admin=True)
    assert admin.get(f"/api/v1/communities/{slug}").status_code == 200
    assert admin.get(f"/api/v1/threads/{thread_id}").status_code == 200
