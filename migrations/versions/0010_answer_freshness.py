"""knowledge freshness: when a thread's accepted answer was checked, verified or made obsolete,
and when the thread was last read

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-29 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('threads') as batch:
        batch.add_column(sa.Column('answer_checked_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('answer_verified_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('answer_verified_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('answer_obsolete_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('last_read_at', sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f('fk_threads_answer_verified_by_id_users'), 'users',
                                 ['answer_verified_by_id'], ['id'], ondelete='SET NULL')
    # Answers accepted before this migration start their clock at the answer's creation.
    op.execute("UPDATE threads SET answer_checked_at = (SELECT posts.created_at FROM posts "
               "WHERE posts.id = threads.accepted_post_id) WHERE accepted_post_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('threads') as batch:
        batch.drop_constraint(op.f('fk_threads_answer_verified_by_id_users'), type_='foreignkey')
        batch.drop_column('last_read_at')
        batch.drop_column('answer_obsolete_at')
        batch.drop_column('answer_verified_by_id')
        batch.drop_column('answer_verified_at')
        batch.drop_column('answer_checked_at')
