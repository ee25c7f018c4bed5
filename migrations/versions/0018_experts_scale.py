"""experts at scale: indexes for the expertise reads and freshness=needs_review

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
CURRENT_ANSWER = ("accepted_post_id IS NOT NULL AND answer_obsolete_at IS NULL "
                  "AND deleted_at IS NULL AND merged_into_id IS NULL")


def upgrade():
    # The newest matching threads of an expert search (search/queries.py
    # database_expert_sample) are looked for in a recent window of listed threads first: 0017's
    # ix_threads_live_created serves that.
    # A person's live posts and their threads, read from the index alone (expertise counts,
    # tags and newest posts: collab/expertise/service.py).
    op.create_index('ix_posts_author_live', 'posts', ['author_id', 'thread_id', 'id'],
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    # ... joined to what a thread's visibility and answer need, from an index too (not a scan of
    # the threads' rows): a person's counts and tags over thousands of threads.
    op.create_index('ix_threads_live_refs', 'threads',
                    ['id', 'community_id', 'accepted_post_id', 'merged_into_id'],
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    # `freshness=needs_review` (and `fresh`) on the database: listed threads with a current
    # accepted answer, by when it was last checked and read (search/queries.py
    # _database_freshness), instead of a scan of every thread per facet.
    op.create_index('ix_threads_answer_checked', 'threads', ['answer_checked_at', 'last_read_at'],
                    postgresql_where=sa.text(CURRENT_ANSWER),
                    sqlite_where=sa.text(CURRENT_ANSWER))


def downgrade():
    op.drop_index('ix_threads_answer_checked', table_name='threads')
    op.drop_index('ix_threads_live_refs', table_name='threads')
    op.drop_index('ix_posts_author_live', table_name='posts')
