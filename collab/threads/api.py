"""Thread and post endpoints."""
from collab.auth import current_caller, current_user
from collab.blueprints import Blueprint
from collab.challenges import service as challenges
from collab.freshness import service as freshness
from collab.schemas import direct_page, page_schema
from collab.threads import service
from collab.threads.schemas import (
    PostCreate,
    PostListArgs,
    PostOut,
    PostUpdate,
    ThreadCreate,
    ThreadDetailOut,
    ThreadListArgs,
    ThreadOut,
    ThreadUpdate,
)

blueprint = Blueprint("threads", __name__, description="Threads and posts")

ThreadPage = direct_page(page_schema(ThreadOut, "ThreadPage"), ThreadOut)
PostPage = page_schema(PostOut, "PostPage")


@blueprint.post("/communities/<slug>/threads")
@blueprint.arguments(ThreadCreate)
@blueprint.response(201, ThreadDetailOut)
def create_thread(fields, slug):
    """Start a thread (active members); announcements by owners and moderators only.

    An idea with `challenge_id` is submitted to that challenge in the same transaction.
    """
    if fields.get("challenge_id") is not None:
        return challenges.create_idea(current_user(), slug, fields)
    return service.create_thread(current_user(), slug, fields)


@blueprint.get("/communities/<slug>/threads")
@blueprint.arguments(ThreadListArgs, location="query")
@blueprint.response(200, ThreadPage)
def list_threads(args, slug):
    """The community's threads, filtered and sorted; `author` is a handle or a user id."""
    return service.list_threads(current_caller(), slug, args)


@blueprint.get("/threads/<int:thread_id>")
@blueprint.response(200, ThreadDetailOut)
def get_thread(thread_id):
    """A thread; a merged duplicate still answers and names its target in `merged_into`."""
    view = service.get_thread(current_caller(), thread_id)
    freshness.record_read(view.thread)  # still read: old accepted answers get reviewed
    return view


@blueprint.patch("/threads/<int:thread_id>")
@blueprint.arguments(ThreadUpdate)
@blueprint.response(200, ThreadDetailOut)
def update_thread(fields, thread_id):
    """Edit (author or moderators); pin and lock (moderators)."""
    return service.update_thread(current_user(), thread_id, fields)


@blueprint.delete("/threads/<int:thread_id>")
@blueprint.response(204)
def delete_thread(thread_id):
    """Soft delete (author or moderators): afterwards the thread is 404 for everyone."""
    service.delete_thread(current_user(), thread_id)


@blueprint.post("/threads/<int:thread_id>/posts")
@blueprint.arguments(PostCreate)
@blueprint.response(201, PostOut)
def create_post(fields, thread_id):
    """Reply (active members; moderators may still reply in a locked thread)."""
    return service.create_post(current_user(), thread_id, fields)


@blueprint.get("/threads/<int:thread_id>/posts")
@blueprint.arguments(PostListArgs, location="query")
@blueprint.response(200, PostPage)
def list_posts(args, thread_id):
    """Replies: a question's answers accepted first, then by votes; other threads oldest first."""
    return service.list_posts(current_user(), thread_id, args)


@blueprint.get("/posts/<int:post_id>")
@blueprint.response(200, PostOut)
def get_post(post_id):
    """A reply."""
    return service.get_post(current_user(), post_id)


@blueprint.patch("/posts/<int:post_id>")
@blueprint.arguments(PostUpdate)
@blueprint.response(200, PostOut)
def update_post(fields, post_id):
    """Edit a reply (author or moderators)."""
    return service.update_post(current_user(), post_id, fields)


@blueprint.delete("/posts/<int:post_id>")
@blueprint.response(204)
def delete_post(post_id):
    """Soft delete a reply (author or moderators); a deleted accepted answer reopens the question."""
    service.delete_post(current_user(), post_id)


@blueprint.post("/posts/<int:post_id>/accept")
@blueprint.response(200, PostOut)
def accept_post(post_id):
    """Accept an answer (the question's author or moderators): the question becomes answered."""
    return service.accept_post(current_user(), post_id)
