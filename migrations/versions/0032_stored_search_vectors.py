"""search, database engine on PostgreSQL: stored search vectors for threads and posts

Threads and posts get a `search_vector` tsvector column, GENERATED ALWAYS AS the expressions of
migration 0002's GIN expression indexes (threads: the title weighted A over the body weighted B;
posts: the body), with GIN indexes on the columns in place of the expression indexes. The
expression indexes found matches, but every rank (`ts_rank_cd`) and every re-check of a heap row
still parsed the text again at query time: half a million posts per word at 1M posts.

PostgreSQL only: SQLite's fallback has its FTS5 tables (0002), which store their index already.

Adding a stored generated column rewrites the table (an ACCESS EXCLUSIVE lock for the rewrite);
at 1M posts it takes minutes (README, "Search on the database engine"). Run VACUUM ANALYZE after.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-30 11:55:00
"""
from alembic import op


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

# The same expressions as 0002's indexes (and search/queries.py before this migration), so the
# matches and ranks are the same.
THREAD_VECTOR = ("setweight(to_tsvector('english'::regconfig, title), 'A')"
                 " || setweight(to_tsvector('english'::regconfig, body), 'B')")
POST_VECTOR = "to_tsvector('english'::regconfig, body)"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE threads ADD COLUMN search_vector tsvector "
               f"GENERATED ALWAYS AS ({THREAD_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_threads_search ON threads USING gin (search_vector)")
    op.execute("DROP INDEX ix_threads_search_vector")
    op.execute(f"ALTER TABLE posts ADD COLUMN search_vector tsvector "
               f"GENERATED ALWAYS AS ({POST_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_posts_search ON posts USING gin (search_vector)")
    op.execute("DROP INDEX ix_posts_search_vector")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_posts_search_vector ON posts USING gin (({POST_VECTOR}))")
    op.execute("ALTER TABLE posts DROP COLUMN search_vector")
    op.execute(f"CREATE INDEX ix_threads_search_vector ON threads USING gin (({THREAD_VECTOR}))")
    op.execute("ALTER TABLE threads DROP COLUMN search_vector")
