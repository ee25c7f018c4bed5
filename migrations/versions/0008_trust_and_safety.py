"""trust and safety: token expiry

Tokens get an expiry (existing tokens expire 90 days after they were created).

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
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                      sa.column('expires_at', sa.DateTime))
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        connection.execute(tokens.update().where(tokens.c.id == token_id).values(
            expires_at=created_at + LEGACY_TOKEN_LIFETIME))


def downgrade():
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('expires_at')
