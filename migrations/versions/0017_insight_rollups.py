"""insight roll-ups: a person's day per community (activity, replies by audience) and each
thread's first reply, so a window's insights cost its days, not its posts; the digest's index
on idea status changes by time

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-29 21:20:00

Empty on creation: fill them with `flask --app wsgi insights rebuild` (session events keep them
from then on).
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    counts = [sa.Column(name, sa.Integer(), nullable=False) for name in (
        'threads', 'posts', 'replies_to_employee', 'replies_to_partner', 'replies_to_customer',
        'replies_from_employee', 'replies_from_partner', 'replies_from_customer')]
    op.create_table(
        'insight_days',
        sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        *counts,
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_insight_days_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('community_id', 'day', 'user_id', name=op.f('pk_insight_days')))
    op.create_index('ix_insight_days_day', 'insight_days', ['day'])
    op.create_table(
        'insight_thread_facts',
        sa.Column('thread_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('first_reply_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'],
                                name=op.f('fk_insight_thread_facts_thread_id_threads'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('thread_id', name=op.f('pk_insight_thread_facts')))
    op.create_index('ix_idea_status_changes_created', 'idea_status_changes', ['created_at', 'id'])
    # Organisation-wide insights: the live threads of a window, open questions by age.
    listed = "deleted_at IS NULL AND merged_into_id IS NULL"
    open_questions = f"accepted_post_id IS NULL AND {listed}"
    op.create_index('ix_threads_live_created', 'threads', ['created_at', 'id', 'author_id'],
                    postgresql_where=sa.text(listed), sqlite_where=sa.text(listed))
    op.create_index('ix_threads_open_questions', 'threads', ['kind', 'created_at', 'author_id'],
                    postgresql_where=sa.text(open_questions),
                    sqlite_where=sa.text(open_questions))
    live_ideas = f"kind = 'idea' AND {listed}"
    op.create_index('ix_threads_live_ideas', 'threads', ['created_at', 'id', 'status', 'author_id'],
                    postgresql_where=sa.text(live_ideas), sqlite_where=sa.text(live_ideas))


def downgrade():
    op.drop_index('ix_threads_live_ideas', table_name='threads')
    op.drop_index('ix_threads_open_questions', table_name='threads')
    op.drop_index('ix_threads_live_created', table_name='threads')
    op.drop_index('ix_idea_status_changes_created', table_name='idea_status_changes')
    op.drop_table('insight_thread_facts')
    op.drop_index('ix_insight_days_day', table_name='insight_days')
    op.drop_table('insight_days')
