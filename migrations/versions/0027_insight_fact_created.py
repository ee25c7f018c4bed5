"""insights, organisation-wide: each thread fact (first reply) stores its thread's creation time,
indexed, so a window's response times join only the facts of threads started in the window (a
range of this index) instead of hashing every thread's fact; the idea funnel's middle stays read
at their ranks in an index of stays per status, less the stays of removed (deleted or merged)
threads, found by a partial index

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 06:10:00

Filled here from the threads; `flask --app wsgi insights rebuild` recomputes every fact with it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

threads = sa.table('threads', sa.column('id', sa.Integer()), sa.column('created_at', sa.DateTime()))
facts = sa.table('insight_thread_facts', sa.column('thread_id', sa.Integer()),
                 sa.column('thread_created_at', sa.DateTime()))


def upgrade():
    with op.batch_alter_table('insight_thread_facts') as batch:
        batch.add_column(sa.Column('thread_created_at', sa.DateTime(), nullable=True))
    op.execute(facts.update().values(thread_created_at=(
        sa.select(threads.c.created_at).where(threads.c.id == facts.c.thread_id)
        .scalar_subquery())))
    op.create_index('ix_insight_thread_facts_created', 'insight_thread_facts',
                    ['thread_created_at', 'thread_id', 'first_reply_at'])
    op.create_index('ix_idea_status_changes_stays', 'idea_status_changes',
                    ['from_status', 'hours_in_status', 'id'])
    removed = "deleted_at IS NOT NULL OR merged_into_id IS NOT NULL"
    op.create_index('ix_threads_removed', 'threads', ['id'],
                    postgresql_where=sa.text(removed), sqlite_where=sa.text(removed))


def downgrade():
    op.drop_index('ix_threads_removed', table_name='threads')
    op.drop_index('ix_idea_status_changes_stays', table_name='idea_status_changes')
    op.drop_index('ix_insight_thread_facts_created', table_name='insight_thread_facts')
    with op.batch_alter_table('insight_thread_facts') as batch:
        batch.drop_column('thread_created_at')
