"""Thread and post rules: who reads, writes, moderates; how lists sort; answers to questions.

Vote tallies and idea status history are read here too, because every thread payload carries
them; the rules that change them live in collab.ideas.service.
"""
from dataclasses import dataclass, field

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased, undefer
from sqlalchemy.orm.attributes import set_committed_value

from collab import outbox, time
from collab.answers.models import PostVote
from collab.audit import service as audit
from collab.concerns import remembered as concerns
from collab.communities.models import Community, Membership
from collab.db import commit_keeping, db, read_connection
from collab.errors import Conflict, Forbidden, InvalidInput, NotFound
from collab.ideas import ranking
from collab.ideas.models import IdeaStatusChange, Vote
from collab.pagination import (
    Page,
    SortKey,
    cursor_values,
    ordered,
    page_of,
    page_parameters,
    page_shape,
    page_statement,
    paginate,
)
from collab.people.models import Audience, User
from collab.permissions import (
    bound_viewer,
    find_visible_community,
    is_moderator,
    remember_membership,
    require_can_contribute,
    viewer_parameters,
    viewer_shape,
    visible_communities,
)
from collab.threads import written
from collab.threads.models import Post, Thread, ThreadKind, ThreadStatus, ThreadTag
from collab.webhooks import subscribers

INITIAL_STATUS = {
    ThreadKind.DISCUSSION: ThreadStatus.OPEN,
    ThreadKind.QUESTION: ThreadStatus.OPEN,
    ThreadKind.ANNOUNCEMENT: ThreadStatus.OPEN,
    ThreadKind.IDEA: ThreadStatus.NEW,
}


SORT_KEYS = {
    "new": [SortKey(Thread.pinned), SortKey(Thread.created_at), SortKey(Thread.id)],
    "active": [SortKey(Thread.pinned), SortKey(Thread.last_activity_at), SortKey(Thread.id)],
    "top": [SortKey(Thread.top_score), SortKey(Thread.id)],
    "trending": [SortKey(Thread.trending_score), SortKey(Thread.id)],
}


@dataclass
class ThreadView:
    """A thread with what the caller should see beside it."""

    thread: Thread
    my_vote: int | None
    votes_by_audience: dict
    status_history: list = field(default_factory=list)
    read_tags: list[str] | None = None  # the tags, when read with the thread (no tag_rows load)

    @property
    def tags(self) -> list[str]:
        return self.thread.tags if self.read_tags is None else self.read_tags

    def __getattr__(self, name):
        return getattr(self.thread, name)


POST_SORT_KEYS = {
    # Answers: the accepted one first, then by votes, then oldest first.
    "votes": [SortKey(Post.is_accepted), SortKey(Post.score),
              SortKey(Post.created_at, descending=False), SortKey(Post.id, descending=False)],
    "time": [SortKey(Post.created_at, descending=False), SortKey(Post.id, descending=False)],
}


@dataclass
class PostView:
    post: Post
    accepted: bool
    my_vote: int | None = None

    def __getattr__(self, name):
        return getattr(self.post, name)


# Reading -------------------------------------------------------------------

def _empty_tallies() -> dict:
    return {a.value: {"up": 0, "down": 0} for a in Audience}


def thread_views(viewer: User, threads: list[Thread], *, history: bool = False) -> list[ThreadView]:
    """Views for a page of threads: one grouped query for the tallies and the caller's votes."""
    ids = [t.id for t in threads]
    tallies = {t: _empty_tallies() for t in ids}
    mine: dict[int, int] = {}
    if ids:
        for thread_id, audience, value, count, is_mine in db.session.execute(
                select(Vote.thread_id, Vote.audience, Vote.value, func.count(),
                       func.max(case((Vote.user_id == viewer.id, 1), else_=0)))
                .where(Vote.thread_id.in_(ids))
                .group_by(Vote.thread_id, Vote.audience, Vote.value)):
            by_value = tallies[thread_id].setdefault(audience, {"up": 0, "down": 0})
            by_value["up" if value > 0 else "down"] += count
            if is_mine:
                mine[thread_id] = value
    views = [ThreadView(t, mine.get(t.id), tallies[t.id]) for t in threads]
    if history:
        for view in views:
            view.status_history = status_history(view.thread)
    return views


def thread_view(viewer: User, thread: Thread, *, history: bool = True) -> ThreadView:
    return thread_views(viewer, [thread], history=history)[0]


def status_history(thread: Thread) -> list[IdeaStatusChange]:
    """An idea's status changes, oldest first (only ideas change status: others have none)."""
    if thread.kind != ThreadKind.IDEA:
        return []
    return list(db.session.scalars(select(IdeaStatusChange).where(
        IdeaStatusChange.thread_id == thread.id).order_by(IdeaStatusChange.id)))


def find_visible_thread(viewer: User, thread_id: int) -> Thread:
    """A live thread in a community `viewer` may see, or 404 exactly as if it did not exist."""
    thread = db.session.scalar(
        select(Thread).join(Community, Community.id == Thread.community_id)
        .where(Thread.id == thread_id, Thread.deleted_at.is_(None), visible_communities(viewer)))
    if thread is None:
        raise NotFound(f"No thread {thread_id}.")
    return thread


def find_visible_post(viewer: User, post_id: int) -> Post:
    post = db.session.scalar(
        select(Post).join(Thread, Thread.id == Post.thread_id)
        .join(Community, Community.id == Thread.community_id)
        .where(Post.id == post_id, Post.deleted_at.is_(None), Thread.deleted_at.is_(None),
               visible_communities(viewer)))
    if post is None:
        raise NotFound(f"No post {post_id}.")
    return post


def _tally_columns(viewer) -> list:
    """Per audience, the up and down votes, and the caller's vote, as aggregates over votes."""
    columns = []
    one, zero = literal_column("1"), literal_column("0")  # constants: nothing to bind per execution
    for audience in Audience:
        is_audience = Vote.audience == literal_column(f"'{audience.value}'")
        columns += [func.sum(case((and_(is_audience, Vote.value > zero), one), else_=zero)),
                    func.sum(case((and_(is_audience, Vote.value <= zero), one), else_=zero))]
    return columns + [func.max(case((Vote.user_id == viewer.id, Vote.value)))]


# GET /threads/{id}'s statement per shape of caller (permissions.viewer_shape), built once.
_THREAD_STATEMENTS: dict[tuple, Select] = {}


def _thread_statement(viewer: User) -> Select:
    """A list page's row for one thread (_listed_view reads it), then its community's slug."""
    shape = viewer_shape(viewer)
    statement = _THREAD_STATEMENTS.get(shape)
    if statement is None:
        bound = bound_viewer(viewer)
        thread_id = bindparam("thread_id", type_=Integer)
        threads = Thread.__table__
        tally = (select(Vote.thread_id, *_tally_columns(bound)).where(Vote.thread_id == thread_id)
                 .group_by(Vote.thread_id).subquery())
        tags = (select(func.aggregate_strings(ThreadTag.tag, literal_column("','")))
                .where(ThreadTag.thread_id == threads.c.id).scalar_subquery())
        author, verifier = aliased(User, name="a"), aliased(User, name="v")
        statement = _THREAD_STATEMENTS[shape] = (
            select(*(threads.c[name] for name in _LISTED_COLUMNS),
                   *(getattr(author, name) for name in _USER_REF_COLUMNS),
                   *(getattr(verifier, name) for name in _USER_REF_COLUMNS),
                   tags, *tally.c[1:], Community.slug)
            .join(Community, Community.id == threads.c.community_id)
            .join(author, author.id == threads.c.author_id)
            .outerjoin(verifier, verifier.id == threads.c.answer_verified_by_id)
            .outerjoin(tally, tally.c.thread_id == threads.c.id)
            .where(threads.c.id == thread_id, threads.c.deleted_at.is_(None),
                   visible_communities(bound)))
    return statement


def get_thread(viewer: User, thread_id: int) -> ThreadView:
    """One statement: the visible thread, its community's slug, author, tags, tallies and the
    caller's vote, as plain columns (no ORM object; an idea's status history is one more);
    nothing of the community's rules. Core statements on the request's read connection
    (collab.db.read_connection): no ORM session (collab.auth.READS_WITHOUT_SESSION)."""
    connection = read_connection()
    row = connection.execute(
        _thread_statement(viewer), {"thread_id": thread_id, **viewer_parameters(viewer)}).first()
    if row is None:
        raise NotFound(f"No thread {thread_id}.")
    view = _listed_view(row, Columns(id=row.community_id, slug=row[-1]))
    view.status_history = _read_status_history(connection, view.thread)
    return view


class Columns:
    """Columns read as plain attributes (no ORM object), e.g. a user reference (UserRef's)."""

    def __init__(self, **columns):
        self.__dict__.update(columns)


class ListedThread(Columns):
    """A thread as a list page or GET /threads/{id} reads it: the columns its payload reads
    (`_LISTED_COLUMNS`), with `community` (its id and slug), `author` and `answer_verified_by` (Columns of a
    user reference, or None). Its tags travel in the ThreadView (`read_tags`)."""

    @property
    def score(self) -> int:
        return self.upvotes - self.downvotes


_USER_REF_COLUMNS = ("id", "handle", "display_name", "audience", "organization", "deactivated_at")
# The thread columns a list item's payload reads (ThreadOut, its answer freshness, the cursor).
_LISTED_COLUMNS = ("id", "community_id", "kind", "title", "body", "status", "pinned", "locked",
                   "merged_into_id", "accepted_post_id", "reply_count", "upvotes", "downvotes",
                   "top_score", "trending_score", "created_at", "updated_at", "last_activity_at",
                   "answer_checked_at", "answer_verified_at", "answer_obsolete_at", "last_read_at")
_LIST_FILTERS = ("kind", "status", "author", "tag")
# list_threads' statements per (shape of caller, sort, filters, pagination.page_shape), built once.
_LIST_STATEMENTS: dict[tuple, Select] = {}


def _list_statement(viewer: User, sort: str, filters: tuple, after: list | None,
                    dialect: str) -> Select:
    """The page with everything its payloads carry, in one statement: the page of threads (the
    visible community's id computed inside it, so the index of the order serves it), then per
    thread its author, the answer's verifier, its tags and its tallies by audience with the
    caller's vote (from the thread's own votes). Values are bound at execution (`slug`, the
    page's (pagination.page_parameters), the filters and `permissions.viewer_parameters`); the
    statement is built once per shape of caller, sort, set of filters and shape of page."""
    key = (dialect, viewer_shape(viewer), sort, filters, page_shape(after))
    statement = _LIST_STATEMENTS.get(key)
    if statement is not None:
        return statement
    bound = bound_viewer(viewer)
    keys = SORT_KEYS[sort]
    community_id = select(Community.id).where(
        Community.slug == bindparam("slug", type_=Community.slug.type),
        visible_communities(bound)).scalar_subquery()
    threads = Thread.__table__
    inner = select(*(threads.c[name] for name in _LISTED_COLUMNS)).where(
        threads.c.community_id == community_id,
        threads.c.deleted_at.is_(None), threads.c.merged_into_id.is_(None))
    for name in filters:
        if name == "author":  # a user id, or a handle (an unknown handle matches nothing)
            inner = inner.where(threads.c.author_id == bindparam("author", type_=Integer))
        elif name == "author_handle":
            inner = inner.where(threads.c.author_id.in_(select(User.id).where(
                User.handle == bindparam("author", type_=User.handle.type))))
        elif name == "tag":
            inner = inner.where(threads.c.id.in_(select(ThreadTag.thread_id).where(
                ThreadTag.tag == bindparam("tag", type_=ThreadTag.tag.type))))
        else:
            inner = inner.where(threads.c[name] == bindparam(name, type_=threads.c[name].type))
    # The authors and verifiers joined inside the page: the planner then looks them up by key
    # for the page's rows (outside, it hashed the whole users table).
    author, verifier = aliased(User, name="a"), aliased(User, name="v")
    page = page_statement(
        inner.add_columns(
            *(getattr(author, name).label(f"a_{name}") for name in _USER_REF_COLUMNS),
            *(getattr(verifier, name).label(f"v_{name}") for name in _USER_REF_COLUMNS))
        .join(author, author.id == threads.c.author_id)
        .outerjoin(verifier, verifier.id == threads.c.answer_verified_by_id),
        keys, after).cte("page")
    tags = (select(func.aggregate_strings(ThreadTag.tag, literal_column("','")))
            .where(ThreadTag.thread_id == page.c.id).scalar_subquery())
    # Each thread's tallies from its own votes (by index), whatever the plan: a generic plan does
    # not know the page's size, and joining the votes of "the page's threads" then read them all.
    if dialect == "postgresql":
        tally = select(*_tally_columns(bound)).where(Vote.thread_id == page.c.id).lateral()
        statement = select(page, tags.label("tag_list"), *(
            column.label(f"t{i}") for i, column in enumerate(tally.c))).outerjoin(
            tally, true())
    else:  # no LATERAL (SQLite): one correlated subquery per tally
        statement = select(page, tags.label("tag_list"), *(
            select(column).where(Vote.thread_id == page.c.id).scalar_subquery()
            .label(f"t{i}") for i, column in enumerate(_tally_columns(bound))))
    statement = _LIST_STATEMENTS[key] = statement.order_by(*ordered(keys, page.c))
    return statement


# Where list_statement's columns sit in a row: the thread's, the author's, the verifier's, the
# tags, then per audience its up and down votes, then the caller's vote.
_AUTHOR_AT = len(_LISTED_COLUMNS)
_VERIFIER_AT = _AUTHOR_AT + len(_USER_REF_COLUMNS)
_TAGS_AT = _VERIFIER_AT + len(_USER_REF_COLUMNS)
_TALLIES = tuple((audience.value, _TAGS_AT + 1 + 2 * i, _TAGS_AT + 2 + 2 * i)
                 for i, audience in enumerate(Audience))
_MY_VOTE_AT = _TAGS_AT + 1 + 2 * len(Audience)


def _listed_user(row, at: int) -> Columns | None:
    if row[at] is None:
        return None
    user = Columns()
    user.__dict__.update(zip(_USER_REF_COLUMNS, row[at:at + len(_USER_REF_COLUMNS)]))
    return user


def _listed_view(row, community: Columns) -> ThreadView:
    """A page's row (by position: a list page reads 20 of them per request) as a ThreadView."""
    thread = ListedThread()
    thread.__dict__.update(zip(_LISTED_COLUMNS, row))
    thread.community = community
    thread.author = _listed_user(row, _AUTHOR_AT)
    thread.answer_verified_by = _listed_user(row, _VERIFIER_AT)
    tallies = {audience: {"up": row[up] or 0, "down": row[down] or 0}
               for audience, up, down in _TALLIES}
    tag_text = row[_TAGS_AT]
    return ThreadView(thread, row[_MY_VOTE_AT], tallies,
                      read_tags=sorted(tag_text.split(",")) if tag_text else [])


def list_threads(viewer: User, slug: str, args: dict) -> Page:
    """One statement for the page with its authors, tags and tallies (_list_statement), read as
    plain rows; an empty page checks the community (404 when hidden or unknown)."""
    sort = args["sort"]
    after = cursor_values(SORT_KEYS[sort], args["cursor"])
    filters, parameters = [], {"slug": slug, **viewer_parameters(viewer),
                               **page_parameters(SORT_KEYS[sort], args["limit"], after)}
    for name in _LIST_FILTERS:
        if name in args:
            value = parameters[name] = args[name]
            filters.append("author_handle" if name == "author" and isinstance(value, str)
                           else name)
    # Core execution on the request's read connection (collab.db.read_connection): a list
    # page needs no ORM session (collab.auth.READS_WITHOUT_SESSION).
    connection = read_connection()
    statement = _list_statement(viewer, sort, tuple(filters), after, connection.dialect.name)
    rows = connection.execute(statement, parameters).all()
    if not rows:
        find_visible_community(viewer, slug)
    community = Columns(id=rows[0].community_id if rows else None, slug=slug)
    limit = args["limit"]
    # The row after the page only tells page_of there is more: no view of it.
    return page_of([_listed_view(row, community) for row in rows[:limit]] + rows[limit:],
                   SORT_KEYS[sort], limit)


_STATUS_CHANGE_COLUMNS = ("id", "from_status", "to_status", "note", "created_at")
# status_history's rows as columns (StatusChangeOut's), with the actor's user reference.
_STATUS_HISTORY = (
    select(*(IdeaStatusChange.__table__.c[name] for name in _STATUS_CHANGE_COLUMNS),
           *(User.__table__.c[name] for name in _USER_REF_COLUMNS))
    .join(User.__table__, User.__table__.c.id == IdeaStatusChange.__table__.c.actor_id)
    .where(IdeaStatusChange.__table__.c.thread_id == bindparam("thread_id", type_=Integer))
    .order_by(IdeaStatusChange.__table__.c.id))


def _read_status_history(connection, thread) -> list[Columns]:
    """status_history() as plain columns (what StatusChangeOut reads), by a Core statement."""
    if thread.kind != ThreadKind.IDEA:
        return []
    history = []
    for row in connection.execute(_STATUS_HISTORY, {"thread_id": thread.id}):
        change = Columns(**dict(zip(_STATUS_CHANGE_COLUMNS, row)))
        change.actor = _listed_user(row, len(_STATUS_CHANGE_COLUMNS))
        history.append(change)
    return history


# Write rules -----------------------------------------------------------------

def require_contributor(actor: User, community: Community) -> bool:
    """Writing needs a live community and an active membership (moderators and admins pass).

    Returns whether `actor` moderates the community.
    """
    if community.archived:
        raise Forbidden("The community is archived and read-only.")
    moderator = is_moderator(actor, community)
    if not moderator:
        require_can_contribute(actor, community)
    return moderator


def require_not_merged(thread: Thread) -> None:
    if thread.merged_into_id is not None:
        raise Conflict(f"This idea was merged into thread {thread.merged_into_id} and is read-only.")


def require_can_write(actor: User, thread: Thread) -> bool:
    """Contributing to a thread: a contributor, not a merged duplicate, unlocked unless moderating.

    Returns whether `actor` moderates the thread's community.
    """
    moderator = require_contributor(actor, thread.community)
    require_not_merged(thread)
    if thread.locked and not moderator:
        raise Forbidden("The thread is locked.")
    return moderator


def require_thread_moderator(actor: User, thread: Thread) -> None:
    """Moderation of a thread: owners, moderators and admins; never on a read-only duplicate."""
    if not require_contributor(actor, thread.community):
        raise Forbidden("Only the community's owners and moderators may do this.")
    require_not_merged(thread)


THREAD_COLUMNS = tuple(attr.key for attr in Thread.__mapper__.column_attrs)


def row_locks() -> bool:
    """Whether the engine locks rows (PostgreSQL); SQLite serialises writers at their first write."""
    return db.session.get_bind().dialect.name != "sqlite"


# What a reply and a vote read of their thread (the write rules, the counters, the answer) under
# the lock, as plain columns (find_thread_columns); with the community's and the membership's.
REPLY_COLUMNS = ("id", "community_id", "locked", "merged_into_id", "reply_count",
                 "trending_score")
VOTE_COLUMNS = ("id", "community_id", "author_id", "deleted_at", "kind", "status", "locked",
                "merged_into_id", "upvotes", "downvotes", "top_score", "trending_score")
_COMMUNITY_COLUMNS = ("id", "slug", "visibility", "archived")
_MEMBERSHIP_COLUMNS = ("user_id", "community_id", "status", "role")
# find_thread_columns' statements per (shape of caller, columns), built once.
_COLUMNS_STATEMENTS: dict[tuple, Select] = {}


def _columns_statement(actor: User, columns: tuple) -> Select:
    key = (viewer_shape(actor), columns)
    statement = _COLUMNS_STATEMENTS.get(key)
    if statement is None:
        bound = bound_viewer(actor)
        threads, communities = Thread.__table__, Community.__table__
        mine = Membership.__table__.alias("mine")  # the visibility filter's subqueries stay apart
        statement = _COLUMNS_STATEMENTS[key] = (
            select(*(threads.c[name] for name in columns),
                   *(communities.c[name] for name in _COMMUNITY_COLUMNS),
                   *(mine.c[name] for name in _MEMBERSHIP_COLUMNS),
                   subscribers.active_column(), *concerns.COLUMNS)
            .select_from(threads)
            .join(communities, communities.c.id == threads.c.community_id)
            .outerjoin(mine, and_(mine.c.community_id == threads.c.community_id,
                                  mine.c.user_id == bound.id))
            .outerjoin(concerns.TABLE, concerns.join_condition(threads.c.id))
            .where(threads.c.id == bindparam("thread_id", type_=Integer),
                   threads.c.deleted_at.is_(None), visible_communities(bound))
            .with_for_update(of=threads))
    return statement


class LockedThread(Columns):
    """A thread's columns read under its row lock (find_thread_columns), with `community`."""

    @property
    def score(self) -> int:
        return self.upvotes - self.downvotes


def find_thread_columns(actor: User, thread_id: int, columns: tuple) -> LockedThread:
    """find_visible_thread and lock_thread in one statement, for a write whose answer needs no ORM
    Thread (a reply, a vote): the thread, locked until commit, as plain columns of one Core row
    (the ORM's loading of the Thread and its community was about a sixth of a reply's CPU).

    Its community's columns come along (`community`: what the write rules read), and the
    caller's membership of it, remembered for the transaction (permissions.remember_membership),
    so the write rules look it up no more. The active webhook subscriptions come along too, for
    the write's deliveries (webhooks.subscribers), and the thread's concern, for scoring a new
    reply (concerns.remembered). The thread is kept for the transaction
    (written.remember_locked) for the flush listeners that would have found it loaded. The
    statement is built once per shape of caller and set of columns. SQLite has no row lock:
    there the caller reads the columns again after its first write (reread_columns).
    """
    row = db.session.connection().execute(
        _columns_statement(actor, columns), {"thread_id": thread_id, **viewer_parameters(actor)}
    ).first()
    if row is None:
        raise NotFound(f"No thread {thread_id}.")
    at = len(columns)
    thread = LockedThread(**dict(zip(columns, row)))
    thread.community = Columns(**dict(zip(_COMMUNITY_COLUMNS, row[at:])))
    at += len(_COMMUNITY_COLUMNS)
    membership = None if row[at] is None else Columns(**dict(zip(_MEMBERSHIP_COLUMNS, row[at:])))
    at += len(_MEMBERSHIP_COLUMNS)
    session = db.session()
    remember_membership(actor, thread.community_id, membership)
    subscribers.remember(session, row[at])
    concerns.remember(session, thread.id, *row[at + 1:])
    written.remember_locked(session, thread)
    return thread


_REREAD_STATEMENTS: dict[tuple, Select] = {}


def reread_columns(thread: LockedThread) -> None:
    """reread_thread for find_thread_columns' thread (SQLite, after the first write)."""
    columns = tuple(name for name in thread.__dict__ if name != "community")
    statement = _REREAD_STATEMENTS.get(columns)
    if statement is None:
        table = Thread.__table__
        statement = _REREAD_STATEMENTS[columns] = select(*(table.c[name] for name in columns)).where(
            table.c.id == bindparam("thread_id", type_=Integer))
    row = db.session.connection().execute(statement, {"thread_id": thread.id}).one()
    thread.__dict__.update(zip(columns, row))


def lock_thread(thread: Thread) -> None:
    """Re-read the thread's columns under a row lock (held until commit) before changing its counters."""
    db.session.refresh(thread, attribute_names=THREAD_COLUMNS, with_for_update=True)


def reread_thread(thread: Thread) -> None:
    """Read the thread's columns again after the operation's first write, where needed.

    SQLite ignores FOR UPDATE and serialises writers at their first write instead, so only
    from there on is what we read current; on PostgreSQL the lock already gave the current row.
    """
    if not row_locks():
        db.session.refresh(thread, attribute_names=THREAD_COLUMNS)


_COUNTER_UPDATES: dict[tuple, object] = {}  # write_counters' statements, per set of columns


def write_counters(thread: Thread, **values) -> None:
    """Set the thread's counters and scores (replies, votes, activity) in one Core UPDATE of its
    row, locked by the caller, that also bumps its version for the search outbox
    (outbox.thread_versioned), instead of through the ORM's flush: the unit of work's bookkeeping
    for the thread was about a tenth of a vote's or a reply's CPU, and no flush listener watches
    these columns. The object holds the values as if loaded from the row (the answer shows them).
    """
    session = db.session()
    bump = outbox.thread_versioned(session, thread.id)
    key = (*sorted(values), bump)
    statement = _COUNTER_UPDATES.get(key)
    if statement is None:
        table = Thread.__table__
        statement = _COUNTER_UPDATES[key] = (
            update(table).where(table.c.id == bindparam("thread_id", type_=Integer))
            .values({**{name: bindparam(f"new_{name}", type_=table.c[name].type)
                        for name in key[:-1]},
                     **({"version": table.c.version + 1} if bump else {})}))
    session.connection().execute(statement, {"thread_id": thread.id,
                                             **{f"new_{name}": v for name, v in values.items()}})
    if not isinstance(thread, Thread):  # plain columns (find_thread_columns)
        thread.__dict__.update(values)
        return
    for name, value in values.items():
        set_committed_value(thread, name, value)
    if bump:
        session.expire(thread, ["version"])


# Threads -------------------------------------------------------------------

def create_thread(actor: User, slug: str, fields: dict) -> ThreadView:
    thread = add_thread(actor, find_visible_community(actor, slug), fields)
    db.session.commit()
    return thread_view(actor, thread)


def add_thread(actor: User, community: Community, fields: dict) -> Thread:
    """A new thread in the session, checked but not committed (the caller's transaction)."""
    moderator = require_contributor(actor, community)
    if fields["kind"] == ThreadKind.ANNOUNCEMENT and not moderator:
        raise Forbidden("Only owners and moderators post announcements.")
    now = time.now()
    thread = Thread(
        community_id=community.id, author_id=actor.id, kind=fields["kind"],
        title=fields["title"], body=fields["body"], status=INITIAL_STATUS[fields["kind"]],
        tag_rows=[ThreadTag(tag=tag) for tag in fields["tags"]],
        created_at=now, updated_at=now, last_activity_at=now,
        trending_score=ranking.initial_trending_score(now),
    )
    db.session.add(thread)
    db.session.flush()
    return thread


def update_thread(actor: User, thread_id: int, fields: dict) -> ThreadView:
    thread = find_visible_thread(actor, thread_id)
    moderator = require_can_write(actor, thread)
    if ({"pinned", "locked"} & fields.keys()) and not moderator:
        raise Forbidden("Only owners and moderators pin or lock threads.")
    if ({"title", "body", "tags"} & fields.keys()) and not (moderator or thread.author_id == actor.id):
        raise Forbidden("Only the author and moderators edit a thread.")
    for name, verb in (("pinned", "pin"), ("locked", "lock")):
        if name in fields and fields[name] != getattr(thread, name):
            audit.record(actor, f"thread.{verb if fields[name] else 'un' + verb}", "thread",
                         thread.id, community_id=thread.community_id)
    for name in ("title", "body", "pinned", "locked"):
        if name in fields:
            setattr(thread, name, fields[name])
    if "tags" in fields and fields["tags"] != thread.tags:
        thread.tag_rows = [ThreadTag(tag=tag) for tag in fields["tags"]]
    if fields:
        thread.updated_at = time.now()
    db.session.commit()
    return thread_view(actor, thread)


def delete_thread(actor: User, thread_id: int) -> None:
    thread = find_visible_thread(actor, thread_id)
    moderator = require_can_write(actor, thread)
    if not (moderator or thread.author_id == actor.id):
        raise Forbidden("Only the author and moderators delete a thread.")
    thread.deleted_at = time.now()
    audit.record(actor, "thread.delete", "thread", thread.id, community_id=thread.community_id,
                 by_author=thread.author_id == actor.id)
    db.session.commit()


# Posts ---------------------------------------------------------------------

def post_views(viewer: User, posts: list[Post]) -> list[PostView]:
    """Views for a page of posts: whether accepted, and the caller's votes in one query."""
    ids = [p.id for p in posts]
    mine = dict(db.session.execute(select(PostVote.post_id, PostVote.value).where(
        PostVote.post_id.in_(ids), PostVote.user_id == viewer.id)).all()) if ids else {}
    return [PostView(p, p.thread.accepted_post_id == p.id, mine.get(p.id)) for p in posts]


def create_post(actor: User, thread_id: int, fields: dict) -> PostView:
    """A reply: the thread is read and locked once, and the answer is built from what was written."""
    thread = find_thread_columns(actor, thread_id, REPLY_COLUMNS)
    require_can_write(actor, thread)
    parent_id = fields.get("parent_id")
    if parent_id is not None and db.session.scalar(select(Post.id).where(
            Post.id == parent_id, Post.thread_id == thread.id, Post.deleted_at.is_(None))) is None:
        raise InvalidInput({"parent_id": ["No such post in this thread."]})
    now = time.now()
    post = insert_post(thread_id=thread.id, author_id=actor.id, parent_id=parent_id,
                       body=fields["body"], created_at=now, updated_at=now)
    set_committed_value(post, "author", actor)
    if not row_locks():  # SQLite: the counters are current only after the first write
        reread_columns(thread)
    write_counters(thread, reply_count=thread.reply_count + 1, last_activity_at=now,
                   trending_score=ranking.add_activity(thread.trending_score,
                                                       ranking.REPLY_WEIGHT, now))
    commit_keeping(actor)
    return PostView(post, accepted=False, my_vote=None)  # a new reply: not accepted, no votes


_INSERT_POST = insert(Post.__table__).returning(Post.__table__.c.id)  # built once
# Written by insert_post as the unit of work would (the ORM's defaults; the version as bumped by
# the search outbox for a new post).
_NEW_POST_COLUMNS = {"version": outbox.NEW_POST_VERSION, "upvotes": 0, "downvotes": 0, "score": 0,
                     "deleted_at": None, "hidden_at": None}


def insert_post(**values) -> Post:
    """A new post's row by one Core INSERT ... RETURNING, not through the unit of work (whose
    bookkeeping for one new Post was about a third of a reply's CPU); every feature that watches
    new posts in a flush is told instead (threads.written). Returns the post as a Post object
    outside the session, holding the row's values (the answer's)."""
    session = db.session()
    values = {**_NEW_POST_COLUMNS, **values}
    values["id"] = session.connection().execute(_INSERT_POST, values).scalar_one()
    post = Post()
    for name, value in values.items():
        set_committed_value(post, name, value)
    written.post_written(session, post)
    return post


def get_post(viewer: User, post_id: int) -> PostView:
    return post_views(viewer, [find_visible_post(viewer, post_id)])[0]


def list_posts(viewer: User, thread_id: int, args: dict) -> Page:
    thread = find_visible_thread(viewer, thread_id)
    statement = select(Post).where(Post.thread_id == thread.id, Post.deleted_at.is_(None))
    sort = args.get("sort") or ("votes" if thread.kind == ThreadKind.QUESTION else "time")
    if sort == "votes":
        statement = statement.options(undefer(Post.is_accepted))
    page = paginate(statement, POST_SORT_KEYS[sort], args["limit"], args["cursor"])
    page.items = post_views(viewer, page.items)
    return page


def _writable_post(actor: User, post_id: int) -> tuple[Post, bool]:
    post = find_visible_post(actor, post_id)
    moderator = require_can_write(actor, post.thread)
    if not (moderator or post.author_id == actor.id):
        raise Forbidden("Only the author and moderators change a post.")
    return post, moderator


def update_post(actor: User, post_id: int, fields: dict) -> PostView:
    post, _ = _writable_post(actor, post_id)
    post.body = fields["body"]
    post.updated_at = time.now()
    db.session.commit()
    return post_views(actor, [post])[0]


def delete_post(actor: User, post_id: int) -> None:
    """Soft delete; an accepted answer that goes away reopens its question."""
    post, _ = _writable_post(actor, post_id)
    thread = post.thread
    lock_thread(thread)
    post.deleted_at = time.now()
    audit.record(actor, "post.delete", "post", post.id, community_id=thread.community_id,
                 thread_id=thread.id, by_author=post.author_id == actor.id)
    db.session.flush()
    reread_thread(thread)
    thread.reply_count = max(thread.reply_count - 1, 0)
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
        thread.status = ThreadStatus.OPEN
        thread.answer_checked_at = thread.answer_verified_at = None
        thread.answer_verified_by_id = thread.answer_obsolete_at = None
        thread.answer_accepted_at = None
    db.session.commit()


def accept_post(actor: User, post_id: int) -> PostView:
    """The question's author or a moderator accepts one answer; accepting another switches."""
    post = find_visible_post(actor, post_id)
    thread = post.thread
    moderator = require_can_write(actor, thread)
    if thread.kind != ThreadKind.QUESTION:
        raise Conflict("Only answers to questions are accepted.")
    if not (moderator or thread.author_id == actor.id):
        raise Forbidden("Only the question's author and moderators accept an answer.")
    if thread.accepted_post_id != post.id:  # a new accepted answer: its freshness clock starts
        thread.answer_checked_at = post.created_at
        thread.answer_verified_at = thread.answer_verified_by_id = None
        thread.answer_obsolete_at = None
        thread.answer_accepted_at = time.now()
    thread.accepted_post_id = post.id
    thread.status = ThreadStatus.ANSWERED
    db.session.commit()
    return post_views(actor, [post])[0]
