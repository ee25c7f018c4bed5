"""Drains the search outbox into Elasticsearch: claim rows, rebuild documents from the database, bulk.

Writes use `version_type=external_gte` with the thread's version, so replays are harmless and a late
write never overwrites a newer document. Two workers never process the same row: the claim is one
UPDATE (with `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time), and a
claim older than the lease is taken over (a crashed worker's rows). A cluster that cannot be
reached leaves the rows untouched for the next try; a document the cluster rejects is retried with
exponential backoff (`attempts`, `next_attempt_at`).
"""
import logging
import os
import random
import socket
import threading
import time as clock
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from elasticsearch import Elasticsearch, NotFoundError
from flask import Flask, current_app
from sqlalchemy import and_, delete, func, or_, select, update

from collab import time
from collab.communities.models import Community
from collab.db import db
from collab.outbox import OutboxEntity, OutboxRow
from search import client as search_client
from search import documents, queries
from search.client import SearchUnavailable
from search.documents import DELETED_VERSION, Document

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# Thread documents built and written together (each carries its posts).
DOCUMENT_BATCH = 200
BULK_CHUNK = 1000
ORPHAN_PAGE = 1000
LEASE = timedelta(seconds=120)
RETENTION = timedelta(hours=24)
MAX_BACKOFF_SECONDS = 3600
WORKER_NAME = f"{socket.gethostname()}-{os.getpid()}"


def backoff_seconds(attempts: int) -> float:
    """Exponential with jitter: 2, 4, 8 ... seconds, capped at an hour."""
    return min(2 ** attempts, MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)


@dataclass
class ApplyResult:
    written: int = 0
    failed_entities: dict[tuple[str, int], str] = field(default_factory=dict)


# Building and writing documents ------------------------------------------------

def _threads_for(entities: Iterable[tuple[str, int]]) -> tuple[list[int], set[int]]:
    """Threads whose documents to rebuild for these outbox entities, and vanished communities."""
    threads, communities = set(), set()
    for entity, entity_id in entities:
        if entity == OutboxEntity.COMMUNITY:
            communities.add(entity_id)
        else:
            threads.add(entity_id)
    threads |= set(documents.thread_ids_of_communities(communities))
    existing_communities = set(db.session.scalars(
        select(Community.id).where(Community.id.in_(communities)))) if communities else set()
    return sorted(threads), communities - existing_communities


def _orphans(es: Elasticsearch, index: str, community_ids: set[int],
             known: set[str]) -> list[Document]:
    """Thread documents left in the index by communities deleted with their threads (cascade)."""
    orphans: list[Document] = []
    after = None
    while community_ids:
        try:
            hits = es.search(index=index, body=queries.threads_in_communities_body(
                community_ids, after, ORPHAN_PAGE))["hits"]["hits"]
        except NotFoundError:
            break
        orphans += [Document(hit["_id"], DELETED_VERSION, None, hit["_source"].get("thread_id"))
                    for hit in hits if hit["_id"] not in known]
        if len(hits) < ORPHAN_PAGE:
            break
        after = hits[-1]["sort"][0]
    return orphans


def _action(doc: Document) -> tuple[dict, dict | None]:
    meta = {"_id": doc.id, "version": doc.version, "version_type": "external_gte"}
    if doc.is_delete:
        return {"delete": meta}, None
    return {"index": meta}, doc.source


def write(es: Elasticsearch, index: str, docs: list[Document], require_alias: bool) -> dict[str, str]:
    """Bulk-write documents; returns the ids that failed with their error (conflicts are success)."""
    failures: dict[str, str] = {}
    for start in range(0, len(docs), BULK_CHUNK):
        chunk = docs[start:start + BULK_CHUNK]
        operations: list[dict] = []
        for doc in chunk:
            action, source = _action(doc)
            operations.append(action)
            if source is not None:
                operations.append(source)
        try:
            response = es.bulk(index=index, operations=operations, require_alias=require_alias)
        except Exception as error:  # noqa: BLE001 - classified below
            if search_client.is_transport_failure(error):
                raise SearchUnavailable(str(error)) from error
            raise
        if not response.get("errors"):
            continue
        for item in response["items"]:
            op, result = next(iter(item.items()))
            status = result.get("status", 500)
            if status in (200, 201) or status == 409 or (op == "delete" and status == 404):
                continue
            if status >= 500 or status == 429:
                raise SearchUnavailable(f"{op} {result.get('_id')}: {result.get('error')}")
            failures[result["_id"]] = str(result.get("error"))[:500]
    return failures


def apply(es: Elasticsearch, index: str, entities: list[tuple[str, int]],
          require_alias: bool = True) -> ApplyResult:
    """Bring the index up to date with the database for these outbox entities."""
    thread_ids, vanished_communities = _threads_for(entities)
    written, failures, known = 0, {}, set()
    # A community's threads are built and sent a slice at a time, not all in memory at once.
    for start in range(0, len(thread_ids), DOCUMENT_BATCH):
        docs = documents.thread_documents(thread_ids[start:start + DOCUMENT_BATCH])
        known.update(d.id for d in docs)
        batch_failures = write(es, index, docs, require_alias)
        failures.update(batch_failures)
        written += len(docs) - len(batch_failures)
    orphans = _orphans(es, index, vanished_communities, known)
    batch_failures = write(es, index, orphans, require_alias)
    failures.update(batch_failures)
    result = ApplyResult(written=written + len(orphans) - len(batch_failures))
    if failures:
        first = next(iter(failures.values()))
        for entity, entity_id in entities:
            if entity == OutboxEntity.COMMUNITY or documents.thread_doc_id(entity_id) in failures:
                result.failed_entities[(entity, entity_id)] = first
    return result


# The outbox ----------------------------------------------------------------------

def _claimable(now: datetime):
    return and_(OutboxRow.processed_at.is_(None), OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.claimed_at.is_(None), OutboxRow.claimed_at < now - LEASE))


def claim(limit: int = BATCH_SIZE, worker: str = WORKER_NAME) -> tuple[str, list[OutboxRow]]:
    """Claims up to `limit` due rows in one statement; returns the claim token and the rows."""
    now = time.now()
    token = f"{worker}-{uuid.uuid4().hex[:8]}"[:64]
    candidates = select(OutboxRow.id).where(_claimable(now)).order_by(OutboxRow.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    db.session.execute(update(OutboxRow).where(OutboxRow.id.in_(candidates.scalar_subquery()),
                                               _claimable(now))
                       .values(claimed_at=now, claimed_by=token)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    rows = list(db.session.scalars(select(OutboxRow).where(OutboxRow.claimed_by == token)
                                   .order_by(OutboxRow.id)))
    return token, rows


def _finish(token: str, rows: list[OutboxRow], result: ApplyResult) -> None:
    now = time.now()
    failed = [r for r in rows if (r.entity, r.entity_id) in result.failed_entities]
    done_ids = [r.id for r in rows if (r.entity, r.entity_id) not in result.failed_entities]
    if done_ids:
        db.session.execute(update(OutboxRow).where(OutboxRow.id.in_(done_ids),
                                                   OutboxRow.claimed_by == token)
                           .values(processed_at=now, claimed_at=None, last_error=None)
                           .execution_options(synchronize_session=False))
    for row in failed:
        db.session.execute(update(OutboxRow).where(OutboxRow.id == row.id,
                                                   OutboxRow.claimed_by == token)
                           .values(attempts=OutboxRow.attempts + 1, claimed_at=None, claimed_by=None,
                                   next_attempt_at=now + timedelta(
                                       seconds=backoff_seconds(row.attempts + 1)),
                                   last_error=result.failed_entities[(row.entity, row.entity_id)])
                           .execution_options(synchronize_session=False))
    db.session.commit()


def release(token: str, error: str) -> None:
    """Gives rows back untouched (the cluster was unreachable: the rows are not at fault)."""
    db.session.rollback()
    db.session.execute(update(OutboxRow).where(OutboxRow.claimed_by == token)
                       .values(claimed_at=None, claimed_by=None, last_error=error[:500])
                       .execution_options(synchronize_session=False))
    db.session.commit()


@dataclass
class DrainStats:
    rows: int = 0
    documents: int = 0
    failed_rows: int = 0


def drain_once(es: Elasticsearch, alias: str, limit: int = BATCH_SIZE) -> DrainStats:
    token, rows = claim(limit)
    if not rows:
        return DrainStats()
    entities = list(dict.fromkeys((r.entity, r.entity_id) for r in rows))
    try:
        result = apply(es, alias, entities, require_alias=True)
    except SearchUnavailable as error:
        release(token, str(error))
        raise
    except Exception as error:
        release(token, f"{type(error).__name__}: {error}")
        raise
    _finish(token, rows, result)
    failed_rows = sum(1 for r in rows if (r.entity, r.entity_id) in result.failed_entities)
    return DrainStats(len(rows), result.written, failed_rows)


def drain(app: Flask | None = None, limit: int = BATCH_SIZE, max_rounds: int | None = None) -> DrainStats:
    """Processes due rows until none is left (or max_rounds); raises SearchUnavailable."""
    app = app or current_app._get_current_object()
    es = search_client.client(app, timeout=search_client.WRITE_TIMEOUT)
    alias = ensure_alias(app)
    total = DrainStats()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        stats = drain_once(es, alias, limit)
        rounds += 1
        total.rows += stats.rows
        total.documents += stats.documents
        total.failed_rows += stats.failed_rows
        if stats.rows < limit:
            break
    return total


def ensure_alias(app: Flask) -> str:
    """The write alias; creates the first index when there is none (dev and first start)."""
    from search.reindex import init_index

    current = search_client.settings(app)
    known = app.extensions.setdefault("search_known_aliases", set())
    key = (current.url, current.alias)
    if key not in known:
        try:
            init_index(app)
        except Exception as error:  # noqa: BLE001
            if search_client.is_transport_failure(error):
                raise SearchUnavailable(str(error)) from error
            raise
        known.add(key)
    return current.alias


def forget_alias(app: Flask) -> None:
    app.extensions.get("search_known_aliases", set()).clear()


def purge_processed(older_than: timedelta = RETENTION) -> int:
    result = db.session.execute(delete(OutboxRow).where(
        OutboxRow.processed_at.is_not(None), OutboxRow.processed_at < time.now() - older_than))
    db.session.commit()
    return result.rowcount or 0


def backlog() -> tuple[int, float | None]:
    """Rows waiting and the age in seconds of the oldest."""
    count, oldest = db.session.execute(select(func.count(), func.min(OutboxRow.created_at))
                                       .where(OutboxRow.processed_at.is_(None))).one()
    if oldest is None:
        return count, None
    if oldest.tzinfo is None:  # aggregates bypass the column type on some dialects
        from datetime import UTC
        oldest = oldest.replace(tzinfo=UTC)
    return count, max((time.now() - oldest).total_seconds(), 0.0)


def run_worker(app: Flask, follow: bool, poll_seconds: float = 1.0,
               echo: Callable[[str], None] = print, stop: threading.Event | None = None) -> DrainStats:
    """`flask search sync`: drain once, or keep draining (`--follow`) with backoff when down."""
    stop = stop or threading.Event()
    total = DrainStats()
    delay = poll_seconds
    last_purge = 0.0
    while not stop.is_set():
        try:
            stats = drain(app)
            total.rows += stats.rows
            total.documents += stats.documents
            total.failed_rows += stats.failed_rows
            if stats.rows:
                echo(f"synced {stats.rows} outbox rows ({stats.documents} documents, "
                     f"{stats.failed_rows} to retry)")
            delay = poll_seconds
            if clock.monotonic() - last_purge > 300:
                purge_processed()
                last_purge = clock.monotonic()
        except SearchUnavailable as error:
            forget_alias(app)
            if not follow:
                raise
            echo(f"search unavailable, retrying in {delay:.0f}s: {str(error)[:200]}")
            delay = min(delay * 2, 30.0)
        finally:
            db.session.remove()
        if not follow:
            break
        stop.wait(delay)
    return total


# Draining inside the web process (development and the embedded default) -----------

class InProcessSync:
    """A daemon thread woken after each commit that wrote outbox rows."""

    def __init__(self, app: Flask):
        self.app = app
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.idle = threading.Event()
        self.idle.set()

    def enabled(self) -> bool:
        config = self.app.config
        return bool(config.get("SEARCH_SYNC_IN_PROCESS") and config.get("ELASTICSEARCH_URL"))

    def wake(self) -> None:
        if not self.enabled():
            return
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="search-outbox-sync",
                                               daemon=True)
                self.thread.start()
        self.idle.clear()
        self.event.set()

    def _run(self) -> None:
        retry_in: float | None = None
        while True:
            if retry_in is None:
                self.event.wait()
            else:
                # Backing off: commits made meanwhile do not cut the pause short (their rows
                # wait in the outbox), so an outage costs one attempt per pause, not per commit.
                clock.sleep(retry_in)
            self.event.clear()
            if not self.enabled():  # switched off meanwhile: the rows wait for whoever drains now
                retry_in = None
                self.idle.set()
                continue
            with self.app.app_context():
                try:
                    drain(self.app)
                    retry_in = None
                except SearchUnavailable:
                    forget_alias(self.app)
                    retry_in = min((retry_in or 0.25) * 2, 30.0)
                except Exception:  # noqa: BLE001 - a daemon must survive; the rows stay queued
                    log.exception("in-process search sync failed")
                    retry_in = min((retry_in or 0.25) * 2, 30.0)
                finally:
                    db.session.remove()
            if retry_in is None and not self.event.is_set():
                self.idle.set()


def install_in_process_sync(app: Flask) -> None:
    sync = InProcessSync(app)
    app.extensions["search_in_process_sync"] = sync
    app.extensions["search_outbox_wake"] = sync.wake

