"""trust and safety: token expiry, the audit log

Tokens get an expiry (existing tokens expire 90 days after they were created). The audit log is
an append-only table of who changed what.

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-29 15:40:00

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None

LEGACY_TOKEN_LIFETIME = timedelta(days=90)


def upgrade():
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=True),
        sa.Column('target_type', sa.String(length=24), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_audit_events_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index('ix_audit_events_community_id', 'audit_events', ['community_id', 'id'])
    op.create_index('ix_audit_events_actor_id', 'audit_events', ['actor_id', 'id'])
    op.create_index('ix_audit_events_action', 'audit_events', ['action', 'id'])
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                      sa.column('expires_at', sa.DateTime))
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        connection.execute(tokens.update().where(tokens.c.id == token_id).values(
            expires_at=created_at + LEGACY_TOKEN_LIFETIME))


def downgrade():
    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('expires_at')
