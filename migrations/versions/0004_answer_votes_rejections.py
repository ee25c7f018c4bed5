"""votes on posts (answers), and remembered rejections of membership requests

Posts carry their vote counts (upvotes, downvotes, score) so a question's answers sort by an
indexed column; `post_votes` holds one vote per person and post. `membership_rejections`
remembers when a request to join was rejected, for the cool-down before asking again.
Columns are added with ALTER TABLE ADD COLUMN (no table rebuild), so SQLite's full-text
triggers on `posts` stay in place.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    for name in ('upvotes', 'downvotes', 'score'):
        op.add_column('posts', sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_posts_thread_score', 'posts', ['thread_id', 'score', 'id'], unique=False)

    op.create_table('post_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_votes_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_votes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_votes')),
    sa.UniqueConstraint('post_id', 'user_id', name=op.f('uq_post_votes_post_id_user_id'))
    )
    op.create_index(op.f('ix_post_votes_user_id'), 'post_votes', ['user_id'], unique=False)

    op.create_table('membership_rejections',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rejected_by_id', sa.Integer(), nullable=True),
    sa.Column('rejected_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_membership_rejections_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_membership_rejections_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rejected_by_id'], ['users.id'], name=op.f('fk_membership_rejections_rejected_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('community_id', 'user_id', name=op.f('pk_membership_rejections'))
    )


def downgrade():
    op.drop_table('membership_rejections')
    op.drop_index(op.f('ix_post_votes_user_id'), table_name='post_votes')
    op.drop_table('post_votes')
    op.drop_index('ix_posts_thread_score', table_name='posts')
    for name in ('score', 'downvotes', 'upvotes'):
        op.drop_column('posts', name)  # native DROP COLUMN (SQLite 3.35+): no rebuild
