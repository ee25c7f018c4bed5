"""trust and safety: token expiry, the audit log, moderation flags and hiding, erasure

Tokens get an expiry (existing tokens expire 90 days after they were created). The audit log is
an append-only table of who changed what.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-29 15:40:00

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0006'
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
    # Plain ADD COLUMN (no batch): rebuilding threads/posts on SQLite would drop their FTS triggers.
    op.add_column('users', sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.add_column('threads', sa.Column('hidden_at', sa.DateTime(), nullable=True))
    op.add_column('posts', sa.Column('hidden_at', sa.DateTime(), nullable=True))
    op.create_table(
        'content_flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_type', sa.String(length=8), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('reporter_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolution', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE',
                                name=op.f('fk_content_flags_community_id_communities')),
        sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_content_flags_reporter_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_flags')),
        sa.UniqueConstraint('target_type', 'target_id', 'reporter_id',
                            name=op.f('uq_content_flags_target_type')),
    )
    op.create_index('ix_content_flags_queue', 'content_flags',
                    ['community_id', 'resolved_at', 'id'])
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                      sa.column('expires_at', sa.DateTime))
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        connection.execute(tokens.update().where(tokens.c.id == token_id).values(
            expires_at=created_at + LEGACY_TOKEN_LIFETIME))


def downgrade():
    op.drop_table('content_flags')
    op.drop_column('posts', 'hidden_at')
    op.drop_column('threads', 'hidden_at')
    op.drop_column('users', 'erased_at')
    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('expires_at')
