"""insights at 1M posts: each idea status change stores the hours the idea spent in the status it
left, so the funnel's medians read one column (no pairing of every change with the one before);
indexes of a window's questions (response times) and a person's newest live posts (their
significant words)

Revision ID: 0021
Revises: 0018
Create Date: 2026-11-30 00:40:00

The column is filled here from the history; rows inserted later by bulk SQL that bypasses the
application (benchmark seeding) are filled by `flask --app wsgi insights rebuild`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None

threads = sa.table('threads', sa.column('id', sa.Integer()), sa.column('created_at', sa.DateTime()))
changes = sa.table('idea_status_changes', sa.column('id', sa.Integer()),
                   sa.column('thread_id', sa.Integer()), sa.column('created_at', sa.DateTime()),
                   sa.column('hours_in_status', sa.Float()))


def upgrade():
    # A person's newest live posts (collab/expertise/service.py _sampled_words): a backward range
    # of theirs instead of a backward scan of every post filtered by author.
    op.create_index('ix_posts_author_newest', 'posts', ['author_id', 'id'],
                    postgresql_where=sa.text("deleted_at IS NULL"),
                    sqlite_where=sa.text("deleted_at IS NULL"))
    # A window's questions with what response times and the answer rate read, from the index
    # alone (collab/insights/service.py _questions).
    live_questions = "kind = 'question' AND deleted_at IS NULL AND merged_into_id IS NULL"
    op.create_index('ix_threads_live_questions', 'threads',
                    ['created_at', 'id', 'author_id', 'accepted_post_id', 'answer_accepted_at'],
                    postgresql_where=sa.text(live_questions),
                    sqlite_where=sa.text(live_questions))
    with op.batch_alter_table('idea_status_changes') as batch:
        batch.add_column(sa.Column('hours_in_status', sa.Float(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(changes.c.id, changes.c.thread_id, changes.c.created_at, threads.c.created_at)
        .join(threads, threads.c.id == changes.c.thread_id)
        .order_by(changes.c.thread_id, changes.c.id))
    updates, previous_thread, entered = [], None, None
    for change_id, thread_id, left, thread_created in rows:
        if thread_id != previous_thread:
            previous_thread, entered = thread_id, thread_created
        updates.append({"change_id": change_id,
                        "hours": (left - entered).total_seconds() / 3600})
        entered = left
    if updates:
        connection.execute(changes.update().where(changes.c.id == sa.bindparam("change_id"))
                           .values(hours_in_status=sa.bindparam("hours")), updates)


def downgrade():
    with op.batch_alter_table('idea_status_changes') as batch:
        batch.drop_column('hours_in_status')
    op.drop_index('ix_threads_live_questions', table_name='threads')
    op.drop_index('ix_posts_author_newest', table_name='posts')
