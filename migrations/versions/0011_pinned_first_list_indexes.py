"""thread lists: indexes for the pinned-first orders (new, active), on live listed threads only

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LISTED = sa.text('deleted_at IS NULL AND merged_into_id IS NULL')


def upgrade():
    # Plain CREATE INDEX (no batch): a batch "move and copy" on SQLite would drop the full-text
    # triggers of threads (migration 0002).
    op.create_index('ix_threads_listed_pinned_created', 'threads',
                    ['community_id', 'pinned', 'created_at', 'id'],
                    postgresql_where=LISTED, sqlite_where=LISTED)
    op.create_index('ix_threads_listed_pinned_active', 'threads',
                    ['community_id', 'pinned', 'last_activity_at', 'id'],
                    postgresql_where=LISTED, sqlite_where=LISTED)


def downgrade():
    op.drop_index('ix_threads_listed_pinned_active', table_name='threads')
    op.drop_index('ix_threads_listed_pinned_created', table_name='threads')
