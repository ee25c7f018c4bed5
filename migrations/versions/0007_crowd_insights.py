"""crowd insights: concerns, members' concern flags, and the daily reputation ledger

Revision ID: 0007
Revises: 0009
Create Date: 2026-11-29 16:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'concerns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('flags', sa.Integer(), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('response_note', sa.Text(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'],
                                name=op.f('fk_concerns_assignee_id_users')),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE',
                                name=op.f('fk_concerns_community_id_communities')),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE',
                                name=op.f('fk_concerns_thread_id_threads')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_concerns')),
        sa.UniqueConstraint('thread_id', name=op.f('uq_concerns_thread_id')),
    )
    op.create_index('ix_concerns_community_state', 'concerns', ['community_id', 'state', 'id'])
    op.create_table(
        'concern_flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE',
                                name=op.f('fk_concern_flags_thread_id_threads')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_concern_flags_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_flags')),
        sa.UniqueConstraint('thread_id', 'user_id', name=op.f('uq_concern_flags_thread_id_user_id')),
    )
    op.create_index(op.f('ix_concern_flags_user_id'), 'concern_flags', ['user_id'])
    op.create_table(
        'reputation_days',
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('raw_points', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE',
                                name=op.f('fk_reputation_days_community_id_communities')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_reputation_days_user_id_users')),
        sa.PrimaryKeyConstraint('community_id', 'user_id', 'day', name=op.f('pk_reputation_days')),
    )
    op.create_index('ix_reputation_days_community_day', 'reputation_days', ['community_id', 'day'])


def downgrade():
    op.drop_index('ix_reputation_days_community_day', table_name='reputation_days')
    op.drop_table('reputation_days')
    op.drop_index(op.f('ix_concern_flags_user_id'), table_name='concern_flags')
    op.drop_table('concern_flags')
    op.drop_index('ix_concerns_community_state', table_name='concerns')
    op.drop_table('concerns')
