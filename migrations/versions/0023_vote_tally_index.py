"""votes: a thread's votes by audience, value and voter in one index, so tallies read it alone

Revision ID: 0023
Revises: 0019
Create Date: 2026-11-30 03:35:00

"""
from alembic import op


revision = '0023'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # Every thread payload tallies its votes by audience with the caller's vote (list pages per
    # thread, GET /threads/{id}, and each vote's recount): on (thread_id, audience, value,
    # user_id) that is an index-only scan, where the former (thread_id, audience) visited every
    # vote's row (a top-ranked page aggregates ~2,000 votes). It replaces the narrower index,
    # whose uses it serves, so a vote still maintains three indexes.
    op.create_index('ix_votes_thread_tally', 'votes', ['thread_id', 'audience', 'value', 'user_id'])
    op.drop_index('ix_votes_thread_audience', table_name='votes')


def downgrade():
    op.create_index('ix_votes_thread_audience', 'votes', ['thread_id', 'audience'])
    op.drop_index('ix_votes_thread_tally', table_name='votes')
