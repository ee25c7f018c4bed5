"""knowledge freshness: when a thread's accepted answer was checked, verified or made obsolete,
and when the thread was last read

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-29 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: a batch "move and copy" on SQLite would drop the full-text triggers of
    # threads (migration 0002). The foreign key is added where ALTER can add one (PostgreSQL).
    for name in ('answer_checked_at', 'answer_verified_at', 'answer_obsolete_at', 'last_read_at'):
        op.add_column('threads', sa.Column(name, sa.DateTime(), nullable=True))
    op.add_column('threads', sa.Column('answer_verified_by_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != 'sqlite':
        op.create_foreign_key(op.f('fk_threads_answer_verified_by_id_users'), 'threads', 'users',
                              ['answer_verified_by_id'], ['id'], ondelete='SET NULL')
    # Answers accepted before this migration start their clock at the answer's creation.
    op.execute("UPDATE threads SET answer_checked_at = (SELECT posts.created_at FROM posts "
               "WHERE posts.id = threads.accepted_post_id) WHERE accepted_post_id IS NOT NULL")


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_threads_answer_verified_by_id_users'), 'threads',
                           type_='foreignkey')
    for name in ('last_read_at', 'answer_obsolete_at', 'answer_verified_by_id',
                 'answer_verified_at', 'answer_checked_at'):
        op.drop_column('threads', name)
