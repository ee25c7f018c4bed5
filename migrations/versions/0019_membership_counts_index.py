"""community lists: memberships by community and status, so member counts read an index alone

Revision ID: 0019
Revises: 0021
Create Date: 2026-11-30 00:55:00

"""
from alembic import op


revision = '0019'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # GET /communities counts each listed community's active members and pending requests
    # (collab/communities/service.py list_communities): on (community_id, status) that is an
    # index-only count, where the former index by creation date visited every member's row
    # (2,400 heap pages for a page of 20 communities).
    op.create_index('ix_memberships_community_status', 'memberships', ['community_id', 'status'])


def downgrade():
    op.drop_index('ix_memberships_community_status', table_name='memberships')
