"""Creating the content index behind its alias, and rebuilding it from the database without downtime.

A rebuild writes a new physical index (`<prefix>-content-v<N>-<timestamp>`) while the old one keeps
serving, then swaps the alias in one atomic request. Changes made during the scan are not lost:
the outbox rows newer than the high-water mark noted before the scan (and any row created in a
safety margin before it, for transactions that were still open) are replayed into the new index
before and after the swap. External versions make every replay harmless.
"""
import time as clock
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError
from flask import Flask
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from collab import time
from collab.db import db
from collab.outbox import OutboxRow
from collab.threads.models import Thread
from search import client as search_client
from search import documents, indexer

# Threads per batch (about ten posts each in the benchmark corpus).
SCAN_BATCH = 200
# Worker threads that embed a batch (ONNX Runtime releases the GIL: one core each) and send its
# bulk request (one shard indexes them on parallel threads), while the scan reads the next batch.
BULKS_IN_FLIGHT = 2
# Transactions open longer than this when the scan starts may have changes the scan misses.
REPLAY_MARGIN = timedelta(minutes=5)


# Index settings while a new index is being built, and what they go back to before it serves.
BUILD_SETTINGS = {"refresh_interval": "-1", "translog.durability": "async"}
SERVING_SETTINGS = {"refresh_interval": "1s", "translog.durability": "request"}


def _create(es: Elasticsearch, name: str, building: bool = False) -> None:
    body = search_client.content_index_body()
    index_settings = {**body["settings"], **(BUILD_SETTINGS if building else {})}
    es.indices.create(index=name, settings=index_settings, mappings=body["mappings"])


def indices_behind_alias(es: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(es.indices.get_alias(name=alias).keys())
    except NotFoundError:
        return []


def init_index(app: Flask) -> tuple[str, bool]:
    """Creates the first physical index and its alias unless the alias exists; returns (index, created).

    The first index has a fixed name, so two processes starting at once (a drain and a request's
    wake-up) create one index between them, not two write indexes behind one alias.
    """
    current = search_client.settings(app)
    es = search_client.client(app, timeout=search_client.WRITE_TIMEOUT)
    existing = indices_behind_alias(es, current.alias)
    if existing:
        return existing[-1], False
    name = current.first_index_name()
    created = True
    try:
        _create(es, name)
    except BadRequestError as error:
        if error.error != "resource_already_exists_exception":
            raise
        created = False  # the other process created it; the alias below is the same either way
    es.indices.put_alias(index=name, name=current.alias, is_write_index=True)
    return name, created


@dataclass
class ReindexResult:
    index: str
    documents: int  # thread documents
    posts: int      # posts nested inside them
    seconds: float
    replayed: int
    deleted_indices: list[str]

    @property
    def rate(self) -> float:
        """Thread documents per second."""
        return self.documents / self.seconds if self.seconds else 0.0

    @property
    def posts_rate(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0


def _replay(es: Elasticsearch, index: str, high_water: int, since) -> tuple[int, list[int]]:
    """Rebuilds, from the database as it is now, the documents of rows the scan may have missed;
    returns how many documents and the ids of the rows (committed, hence covered)."""
    rows = db.session.execute(
        select(OutboxRow.id, OutboxRow.entity, OutboxRow.entity_id)
        .where(or_(OutboxRow.id > high_water, OutboxRow.created_at >= since))
        .order_by(OutboxRow.id)).all()
    entities = list(dict.fromkeys((row.entity, row.entity_id) for row in rows))
    for start in range(0, len(entities), indexer.BATCH_SIZE):
        indexer.apply(es, index, entities[start:start + indexer.BATCH_SIZE], require_alias=False)
        db.session.remove()
    return len(entities), [row.id for row in rows]


def _settle(high_water: int, since, replayed_ids: list[int]) -> int:
    """Marks processed the pending rows the new index covers, so the backlog is exact at once:
    rows older than the scan (id <= high_water, created before the margin) and the replayed ones.
    Rows committed after the last replay stay pending for the worker. Like the replay, this
    trusts that no transaction stays open longer than REPLAY_MARGIN."""
    stamp = time.now()
    pending = OutboxRow.processed_at.is_(None)
    settled = db.session.execute(update(OutboxRow).where(
        pending, OutboxRow.id <= high_water, OutboxRow.created_at < since)
        .values(processed_at=stamp)).rowcount
    for start in range(0, len(replayed_ids), 1000):
        settled += db.session.execute(update(OutboxRow).where(
            pending, OutboxRow.id.in_(replayed_ids[start:start + 1000]))
            .values(processed_at=stamp)).rowcount
    db.session.commit()
    return settled


def count_documents_to_build() -> int:
    """Threads to scan (the progress bar's length)."""
    return db.session.scalar(select(func.count()).select_from(Thread))


def reindex(app: Flask, progress: Callable[[int], None] | None = None,
            batch: int = SCAN_BATCH) -> ReindexResult:
    """Builds a new index from the database, swaps the alias atomically, deletes the old index."""
    current = search_client.settings(app)
    es = search_client.client(app, timeout=search_client.WRITE_TIMEOUT)
    started = clock.monotonic()
    scan_started_at = time.now()
    high_water = db.session.scalar(select(func.coalesce(func.max(OutboxRow.id), 0)))
    db.session.commit()
    name = current.new_index_name()
    _create(es, name, building=True)
    written = posts = 0
    after = 0
    engine = db.engine

    def embed_and_write(live: list) -> dict[str, str]:
        # A session of this worker thread: stored vectors reused, missing ones computed and stored.
        with Session(engine) as session:
            documents.add_embeddings(session, live)
        return indexer.write(es, name, live, False)

    with ThreadPoolExecutor(max_workers=BULKS_IN_FLIGHT) as sender:
        # Batches are read from the database while earlier ones are embedded and indexed, on as many
        # cores as there are workers; several bulk requests in flight keep every indexing thread of
        # the shard busy.
        pending: deque = deque()
        while True:
            thread_ids = documents.threads_batch(after, batch)
            if not thread_ids:
                break
            live = [d for d in documents.thread_documents(thread_ids, embed=False)
                    if not d.is_delete]
            after = thread_ids[-1]
            db.session.remove()
            if len(pending) > BULKS_IN_FLIGHT:
                _check(pending.popleft().result())
            pending.append(sender.submit(embed_and_write, live))
            written += len(live)
            posts += sum(d.posts for d in live)
            if progress:
                progress(len(thread_ids))
        while pending:
            _check(pending.popleft().result())
    es.indices.put_settings(index=name, settings=SERVING_SETTINGS)
    es.indices.refresh(index=name)
    since = scan_started_at - REPLAY_MARGIN
    replayed, _ = _replay(es, name, high_water, since)
    old = indices_behind_alias(es, current.alias)
    actions = [{"remove": {"index": index, "alias": current.alias}} for index in old]
    actions.append({"add": {"index": name, "alias": current.alias, "is_write_index": True}})
    es.indices.update_aliases(actions=actions)
    # Rows the worker sent to the old index between the first replay and the swap.
    replayed_again, replayed_ids = _replay(es, name, high_water, since)
    replayed += replayed_again
    es.indices.refresh(index=name)
    _settle(high_water, since, replayed_ids)
    for index in old:
        es.indices.delete(index=index)
    indexer.forget_alias(app)
    return ReindexResult(name, written, posts, clock.monotonic() - started, replayed, old)


def _check(failures: dict[str, str]) -> None:
    if failures:
        raise RuntimeError(f"{len(failures)} documents rejected, e.g. {next(iter(failures.items()))}")
