"""insights at scale: when an answer was accepted, and indexes for the insight reads

Revision ID: 0015
Revises: 0011
Create Date: 2026-11-29 18:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch "move and copy" on SQLite would drop the threads full-text
    # triggers (migration 0002).
    op.add_column('threads', sa.Column('answer_accepted_at', sa.DateTime(), nullable=True))
    # Answers accepted before this migration: the moment was not recorded; the answer's creation
    # is its earliest possible value (and what time to accepted answer measured until now).
    op.execute("UPDATE threads SET answer_accepted_at = (SELECT posts.created_at FROM posts "
               "WHERE posts.id = threads.accepted_post_id) WHERE accepted_post_id IS NOT NULL")
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_column('threads', 'answer_accepted_at')


# Insight reads over a time window, organisation-wide (posts by date), answers accepted in a period
# (digest, time to accepted answer), the reverse look-up from an accepted post to its question
# (expertise, digest), and new members over time.
INDEXES = [
    ('ix_posts_created', 'posts', ['created_at', 'thread_id', 'author_id']),
    ('ix_threads_accepted_post', 'threads', ['accepted_post_id']),
    ('ix_threads_community_accepted', 'threads', ['community_id', 'answer_accepted_at']),
    ('ix_memberships_community_created', 'memberships', ['community_id', 'created_at']),
]
