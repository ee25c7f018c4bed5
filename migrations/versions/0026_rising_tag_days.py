"""rising topics at 1M posts: the tag roll-up `insight_tag_days` (live threads per community or
the organisation, UTC day, tag and author or everyone; collab/insights/tag_days.py), filled here
from the history, and a covering index of live threads' titles by time (the title samples of
rising words read it alone)

Revision ID: 0026
Revises: 0024
Create Date: 2026-11-30 06:10:00

Rows inserted later by bulk SQL that bypasses the application (benchmark seeding) are rebuilt by
`flask --app wsgi insights rebuild`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0024'
branch_labels = None
depends_on = None

LIVE = "t.deleted_at IS NULL AND t.merged_into_id IS NULL"
TAGGED = ("SELECT t.community_id AS community_id, t.author_id AS author_id, "
          "date(t.created_at) AS day, g.tag AS tag FROM threads t "
          f"JOIN thread_tags g ON g.thread_id = t.id WHERE {LIVE}")


def upgrade():
    op.create_table(
        'insight_tag_days',
        sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('tag', sa.String(length=40), nullable=False),
        sa.Column('threads', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('community_id', 'user_id', 'day', 'tag',
                                name=op.f('pk_insight_tag_days')))
    op.create_index('ix_insight_tag_days_tag', 'insight_tag_days',
                    ['community_id', 'tag', 'day', 'user_id'])
    # Each (community, day, tag)'s authors and everyone (0), and the organisation's (0) rows.
    for community, person, group in (("community_id", "author_id", "community_id, author_id, "),
                                     ("community_id", "0", "community_id, "),
                                     ("0", "author_id", "author_id, "), ("0", "0", "")):
        op.execute(f"INSERT INTO insight_tag_days (community_id, user_id, day, tag, threads) "
                   f"SELECT {community}, {person}, day, tag, count(*) FROM ({TAGGED}) tagged "
                   f"GROUP BY {group}day, tag")
    live = "deleted_at IS NULL AND merged_into_id IS NULL"
    op.create_index('ix_threads_live_titles', 'threads', ['created_at', 'id', 'author_id', 'title'],
                    postgresql_where=sa.text(live), sqlite_where=sa.text(live))


def downgrade():
    op.drop_index('ix_threads_live_titles', table_name='threads')
    op.drop_index('ix_insight_tag_days_tag', table_name='insight_tag_days')
    op.drop_table('insight_tag_days')
