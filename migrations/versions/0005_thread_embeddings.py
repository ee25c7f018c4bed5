"""thread embeddings: cached sentence vectors for the database similarity fallback

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-29 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'thread_embeddings',
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('thread_id'),
    )


def downgrade():
    op.drop_table('thread_embeddings')
