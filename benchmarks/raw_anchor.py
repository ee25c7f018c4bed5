"""The raw anchor of benchmarks/api_benchmark.py: minimal Flask + psycopg (pool), one SQL statement
per request, on collab's own database, so collab's figures read as a share of what the stack
underneath can do on the same machine in the same minute.

    DATABASE_URL=postgresql://... gunicorn -w 2 benchmarks.raw_anchor:app

- GET /raw/threads/<id>: the thread by primary key with its community's slug and its vote
  tallies by audience and value (the figures a thread payload carries);
- GET /raw/communities/<slug>/threads?sort=new|top|trending: 20 threads of the community in the
  order collab lists them (pinned first for `new`), each with its slug and tallies;
- GET /raw/users/<id>: a plain primary-key read, the anchor for /communities and /me.
No authentication, no permission check, no validation beyond the route: it is the floor.
"""
import os

from flask import Flask, abort, jsonify, request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

TALLIES = """(SELECT coalesce(json_object_agg(v.audience || ':' || v.value, v.n), '{}')
        FROM (SELECT audience, value, count(*) AS n FROM votes WHERE thread_id = t.id
              GROUP BY audience, value) AS v) AS votes_by_audience"""
COLUMNS = f"""t.id, c.slug AS community, t.community_id, t.kind, t.title, t.body, t.status,
    t.pinned, t.locked, t.author_id, t.created_at, t.updated_at, t.last_activity_at,
    t.reply_count, t.accepted_post_id, t.merged_into_id, t.upvotes, t.downvotes,
    t.upvotes - t.downvotes AS score, t.top_score, t.trending_score, {TALLIES}"""
THREAD = f"""SELECT {COLUMNS} FROM threads AS t JOIN communities AS c ON c.id = t.community_id
    WHERE t.id = %s AND t.deleted_at IS NULL"""
ORDERS = {  # as collab.threads.service.SORT_KEYS
    "new": "t.pinned DESC, t.created_at DESC, t.id DESC",
    "top": "t.top_score DESC, t.id DESC",
    "trending": "t.trending_score DESC, t.id DESC",
}
THREAD_LIST = {sort: f"""SELECT {COLUMNS} FROM threads AS t JOIN communities AS c
    ON c.id = t.community_id
    WHERE c.slug = %s AND t.deleted_at IS NULL AND t.merged_into_id IS NULL
    ORDER BY {order} LIMIT 20""" for sort, order in ORDERS.items()}
USER = """SELECT id, handle, display_name, email, audience, organization, is_admin, kind,
    created_at FROM users WHERE id = %s"""

app = Flask(__name__)
_pool: ConnectionPool | None = None


def pool() -> ConnectionPool:
    """One pool per worker process, opened on its first request (after gunicorn forked)."""
    global _pool
    if _pool is None:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        size = int(os.environ.get("RAW_POOL_SIZE", "4"))
        _pool = ConnectionPool(url, min_size=1, max_size=size, open=True,
                               kwargs={"row_factory": dict_row, "autocommit": True})
    return _pool


def fetch(sql: str, *params) -> list[dict]:
    with pool().connection() as connection:
        return connection.execute(sql, params).fetchall()


@app.get("/raw/threads/<int:thread_id>")
def thread(thread_id: int):
    rows = fetch(THREAD, thread_id)
    if not rows:
        abort(404)
    return jsonify(rows[0])


@app.get("/raw/communities/<slug>/threads")
def thread_list(slug: str):
    sort = request.args.get("sort", "new")
    if sort not in THREAD_LIST:
        abort(400)
    return jsonify({"items": fetch(THREAD_LIST[sort], slug)})


@app.get("/raw/users/<int:user_id>")
def user(user_id: int):
    rows = fetch(USER, user_id)
    if not rows:
        abort(404)
    return jsonify(rows[0])
