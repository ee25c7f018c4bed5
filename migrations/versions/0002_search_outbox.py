"""search outbox, and the database's own full-text search for the fallback engine

The outbox queues search document changes in the transaction that makes them. The full-text
structures serve search when Elasticsearch is not configured or unreachable: FTS5 tables kept by
triggers on SQLite, GIN expression indexes over English tsvectors on PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:17:08.926120

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SQLITE_FTS = [
    # External-content FTS5 tables: the text lives in threads/posts, the index here.
    """CREATE VIRTUAL TABLE threads_fts USING fts5(
        title, body, content='threads', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE VIRTUAL TABLE posts_fts USING fts5(
        body, content='posts', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN
        INSERT INTO threads_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN
        INSERT INTO threads_fts(threads_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER threads_fts_update AFTER UPDATE OF title, body ON threads BEGIN
        INSERT INTO threads_fts(threads_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO threads_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER posts_fts_update AFTER UPDATE OF body ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    "INSERT INTO threads_fts(threads_fts) VALUES ('rebuild')",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
]

# The expressions must match search/queries.py exactly for the planner to use the indexes.
POSTGRESQL_FTS = [
    """CREATE INDEX ix_threads_search_vector ON threads USING gin ((
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, body), 'B')))""",
    """CREATE INDEX ix_posts_search_vector ON posts USING gin (
        to_tsvector('english'::regconfig, body))""",
]


def upgrade():
    op.create_table('search_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entity', sa.String(length=24), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_search_outbox_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_search_outbox_pending', ['processed_at', 'next_attempt_at', 'id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRESQL_FTS}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("threads_fts_insert", "threads_fts_delete", "threads_fts_update",
                        "posts_fts_insert", "posts_fts_delete", "posts_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS threads_fts")
        op.execute("DROP TABLE IF EXISTS posts_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_threads_search_vector")
        op.execute("DROP INDEX IF EXISTS ix_posts_search_vector")

    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_search_outbox_pending')
        batch_op.drop_index('ix_search_outbox_created_at')

    op.drop_table('search_outbox')
