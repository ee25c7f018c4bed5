"""`flask search init | reindex | sync [--follow] | status | embed`."""
import json

import click
from flask import current_app
from flask.cli import AppGroup

from search import client as search_client
from search import indexer, reindex

search_cli = AppGroup("search", help="Elasticsearch index: create, rebuild, sync, inspect.")


def _require_cluster() -> None:
    if not search_client.is_configured():
        raise click.ClickException("ELASTICSEARCH_URL is not set; search answers from the database.")


@search_cli.command("init")
def init_command():
    """Create the content index and its alias (no-op when the alias exists)."""
    _require_cluster()
    index, created = reindex.init_index(current_app)
    alias = search_client.settings().alias
    click.echo(f"{'created' if created else 'exists'}: {alias} -> {index}")


@search_cli.command("reindex")
@click.option("--batch", default=reindex.SCAN_BATCH, show_default=True, help="Threads per batch.")
def reindex_command(batch):
    """Build a new index from the database, swap the alias atomically, delete the old index."""
    _require_cluster()
    total = reindex.count_documents_to_build()
    with click.progressbar(length=total, label="indexing threads", show_pos=True) as bar:
        result = reindex.reindex(current_app, progress=bar.update, batch=batch)
    click.echo(f"{search_client.settings().alias} -> {result.index}: {result.documents} threads "
               f"with {result.posts} posts in {result.seconds:.1f}s ({result.rate:.0f} threads/s, "
               f"{result.posts_rate:.0f} posts/s); replayed {result.replayed} "
               f"outbox entities; deleted {', '.join(result.deleted_indices) or 'no old index'}")


@search_cli.command("sync")
@click.option("--follow", is_flag=True, help="Keep draining the outbox (the production worker).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls when idle.")
def sync_command(follow, poll):
    """Drain the search outbox into Elasticsearch."""
    _require_cluster()
    try:
        stats = indexer.run_worker(current_app, follow=follow, poll_seconds=poll, echo=click.echo)
    except search_client.SearchUnavailable as error:
        raise click.ClickException(f"Elasticsearch unavailable: {error}") from None
    except KeyboardInterrupt:
        return
    click.echo(f"done: {stats.rows} outbox rows, {stats.documents} documents, "
               f"{stats.failed_rows} scheduled for retry")


@search_cli.command("status")
def status_command():
    """Engine, alias, index, document count and outbox backlog, as JSON."""
    from collab.people.models import User
    from collab.search import service

    click.echo(json.dumps(service.status(User(is_admin=True)), indent=2, default=str))


@search_cli.command("embed")
@click.option("--batch", default=256, show_default=True, help="Threads per batch.")
@click.option("--rebuild", is_flag=True, help="Drop every stored vector first and compute all again.")
@click.option("--shard", default="0/1", show_default=True,
              help="K/N: only threads whose id is K modulo N (run N processes, one per core).")
def embed_command(batch, rebuild, shard):
    """Store the sentence embedding of every thread that lacks one (the similarity backfill).

    Works without Elasticsearch: the database fallback reads these vectors, and a reindex reuses them.
    """
    from collab.similarity import vectors
    from search import documents, embeddings

    if not embeddings.available():
        raise click.ClickException("the embedding model is not installed (see requirements.txt)")
    try:
        k, n = (int(part) for part in shard.split("/"))
        if not 0 <= k < n:
            raise ValueError
    except ValueError:
        raise click.BadParameter("K/N with 0 <= K < N, e.g. 0/2", param_hint="--shard") from None
    total, _ = documents.count_threads_and_posts()
    with click.progressbar(length=-(-total // n), label=f"embedding threads ({k}/{n})",
                           show_pos=True) as bar:
        scanned, computed = vectors.backfill(progress=bar.update, batch=batch, rebuild=rebuild,
                                             shard=(k, n))
    click.echo(f"{scanned} threads scanned, {computed} embedded, {scanned - computed} already stored "
               f"or deleted")
