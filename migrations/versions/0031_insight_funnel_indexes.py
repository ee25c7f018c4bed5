"""insights, organisation-wide idea funnel: the counts per status and author read in the order of
a partial index of live ideas (status, author_id, created_at), grouped as they come (no hash of
25,000 ideas); each status's middle stays from one ordered read of a partial index of the stored
stays (from_status, hours_in_status, created_at, thread_id), which replaces the index of 0027
(from_status, hours_in_status, id) read at ranks with OFFSET

Revision ID: 0031
Revises: 0027
Create Date: 2026-11-30 08:50:00

Indexes only: nothing to backfill (`flask --app wsgi insights rebuild` is not needed).
"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0027'
branch_labels = None
depends_on = None

LIVE_IDEAS = "kind = 'idea' AND deleted_at IS NULL AND merged_into_id IS NULL"
STORED = "hours_in_status IS NOT NULL"


def upgrade():
    op.create_index('ix_threads_live_idea_authors', 'threads',
                    ['status', 'author_id', 'created_at'],
                    postgresql_where=sa.text(LIVE_IDEAS), sqlite_where=sa.text(LIVE_IDEAS))
    op.create_index('ix_idea_status_changes_medians', 'idea_status_changes',
                    ['from_status', 'hours_in_status', 'created_at', 'thread_id'],
                    postgresql_where=sa.text(STORED), sqlite_where=sa.text(STORED))
    op.drop_index('ix_idea_status_changes_stays', table_name='idea_status_changes')


def downgrade():
    op.create_index('ix_idea_status_changes_stays', 'idea_status_changes',
                    ['from_status', 'hours_in_status', 'id'])
    op.drop_index('ix_idea_status_changes_medians', table_name='idea_status_changes')
    op.drop_index('ix_threads_live_idea_authors', table_name='threads')
