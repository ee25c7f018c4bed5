"""insights, organisation-wide: per (community or organisation, ISO week, person) sums of the day
roll-up (`insight_weeks`) and per (community or organisation, day) totals with the day's active
people (`insight_day_totals`), both kept exact by triggers on `insight_days`

Revision ID: 0030
Revises: 0027
Create Date: 2026-11-30 08:45:00

A 90-day window read 13,000 person-day rows twice (activity, audience flow); whole weeks now come
from ~150 person-week rows each and day buckets from one totals row per day. The triggers fire on
every change of an `insight_days` row (the session events' upserts, refreshes, cascades from a
deleted user, bulk SQL), so the stored rows always equal the day rows' sums; the totals' trigger
skips updates that change neither threads nor posts (replies received). `SET LOCAL
collab.insights_bulk = 'on'` (PostgreSQL) skips them for `flask insights rebuild`, which then
recomputes both tables from the day rows (collab/insights/periods.py). The posts' creation
index also covers each post's parent and deletion (PostgreSQL: INCLUDE), so a window's partial
day reads its posts from the index alone.
"""
from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0027'
branch_labels = None
depends_on = None

COUNTS = ["threads", "posts", "replies_to_employee", "replies_to_partner", "replies_to_customer",
          "replies_from_employee", "replies_from_partner", "replies_from_customer"]
WEEK = {"postgresql": "date_trunc('week', {day})::date",
        "sqlite": "date({day}, 'weekday 0', '-6 days')"}


def _postgresql():
    def key(row):
        return (f"community_id = {row}.community_id AND user_id = {row}.user_id "
                f"AND week = date_trunc('week', {row}.day)::date")
    zero = " AND ".join(f"{name} = 0" for name in COUNTS)
    moved = ("NEW.community_id <> OLD.community_id OR NEW.user_id <> OLD.user_id "
             "OR NEW.day <> OLD.day")
    active = "(CASE WHEN {row}.threads > 0 OR {row}.posts > 0 THEN 1 ELSE 0 END)"
    totals_key = "community_id = {row}.community_id AND day = {row}.day"
    return [
        f"""CREATE FUNCTION insight_days_weeks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('collab.insights_bulk', true) = 'on' THEN RETURN NULL; END IF;
            IF TG_OP = 'UPDATE' AND NOT ({moved}) THEN
                UPDATE insight_weeks SET {", ".join(f"{n} = {n} + NEW.{n} - OLD.{n}"
                                                    for n in COUNTS)}
                WHERE {key("NEW")};
                IF FOUND THEN RETURN NULL; END IF;
                INSERT INTO insight_weeks VALUES (NEW.community_id,
                    date_trunc('week', NEW.day)::date, NEW.user_id,
                    {", ".join(f"NEW.{n} - OLD.{n}" for n in COUNTS)});
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                UPDATE insight_weeks SET {", ".join(f"{n} = {n} - OLD.{n}" for n in COUNTS)}
                WHERE {key("OLD")};
                DELETE FROM insight_weeks WHERE {key("OLD")} AND {zero};
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO insight_weeks VALUES (NEW.community_id,
                    date_trunc('week', NEW.day)::date, NEW.user_id,
                    {", ".join(f"NEW.{n}" for n in COUNTS)})
                ON CONFLICT (community_id, week, user_id) DO UPDATE SET
                    {", ".join(f"{n} = insight_weeks.{n} + EXCLUDED.{n}" for n in COUNTS)};
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION insight_days_totals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('collab.insights_bulk', true) = 'on' THEN RETURN NULL; END IF;
            IF TG_OP = 'UPDATE' AND NOT ({moved}) THEN  -- a reply: one statement
                UPDATE insight_day_totals SET threads = threads + NEW.threads - OLD.threads,
                    posts = posts + NEW.posts - OLD.posts,
                    people = people + {active.format(row="NEW")} - {active.format(row="OLD")}
                WHERE {totals_key.format(row="NEW")};
                IF FOUND THEN RETURN NULL; END IF;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                UPDATE insight_day_totals SET threads = threads - OLD.threads,
                    posts = posts - OLD.posts, people = people - {active.format(row="OLD")}
                WHERE {totals_key.format(row="OLD")};
                DELETE FROM insight_day_totals WHERE {totals_key.format(row="OLD")}
                    AND threads = 0 AND posts = 0 AND people = 0;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO insight_day_totals VALUES (NEW.community_id, NEW.day, NEW.threads,
                    NEW.posts, {active.format(row="NEW")})
                ON CONFLICT (community_id, day) DO UPDATE SET
                    threads = insight_day_totals.threads + EXCLUDED.threads,
                    posts = insight_day_totals.posts + EXCLUDED.posts,
                    people = insight_day_totals.people + EXCLUDED.people;
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER insight_days_weeks AFTER INSERT OR UPDATE OR DELETE ON insight_days
        FOR EACH ROW EXECUTE FUNCTION insight_days_weeks()""",
        """CREATE TRIGGER insight_days_totals_insert_delete AFTER INSERT OR DELETE
        ON insight_days FOR EACH ROW EXECUTE FUNCTION insight_days_totals()""",
        f"""CREATE TRIGGER insight_days_totals_update AFTER UPDATE ON insight_days FOR EACH ROW
        WHEN (NEW.threads <> OLD.threads OR NEW.posts <> OLD.posts OR {moved})
        EXECUTE FUNCTION insight_days_totals()""",
    ]


def _sqlite():
    def key(row):
        return (f"community_id = {row}.community_id AND user_id = {row}.user_id "
                f"AND week = date({row}.day, 'weekday 0', '-6 days')")
    zero = " AND ".join(f"{name} = 0" for name in COUNTS)
    active = "(CASE WHEN {row}.threads > 0 OR {row}.posts > 0 THEN 1 ELSE 0 END)"
    totals_key = "community_id = {row}.community_id AND day = {row}.day"

    def remove(row):
        return [f"""UPDATE insight_weeks SET {", ".join(f"{n} = {n} - {row}.{n}" for n in COUNTS)}
                    WHERE {key(row)};""",
                f"DELETE FROM insight_weeks WHERE {key(row)} AND {zero};",
                f"""UPDATE insight_day_totals SET threads = threads - {row}.threads,
                    posts = posts - {row}.posts, people = people - {active.format(row=row)}
                    WHERE {totals_key.format(row=row)};""",
                f"""DELETE FROM insight_day_totals WHERE {totals_key.format(row=row)}
                    AND threads = 0 AND posts = 0 AND people = 0;"""]

    def add(row):
        # Not INSERT OR IGNORE: an upsert's trigger would abort on the conflict.
        return [f"""INSERT INTO insight_weeks SELECT {row}.community_id,
                    date({row}.day, 'weekday 0', '-6 days'), {row}.user_id,
                    {", ".join("0" for _ in COUNTS)}
                    WHERE NOT EXISTS (SELECT 1 FROM insight_weeks WHERE {key(row)});""",
                f"""UPDATE insight_weeks SET {", ".join(f"{n} = {n} + {row}.{n}" for n in COUNTS)}
                    WHERE {key(row)};""",
                f"""INSERT INTO insight_day_totals SELECT {row}.community_id, {row}.day, 0, 0, 0
                    WHERE NOT EXISTS (SELECT 1 FROM insight_day_totals
                                      WHERE {totals_key.format(row=row)});""",
                f"""UPDATE insight_day_totals SET threads = threads + {row}.threads,
                    posts = posts + {row}.posts, people = people + {active.format(row=row)}
                    WHERE {totals_key.format(row=row)};"""]
    return [f"CREATE TRIGGER insight_days_periods_insert AFTER INSERT ON insight_days BEGIN "
            f"{' '.join(add('NEW'))} END",
            f"CREATE TRIGGER insight_days_periods_delete AFTER DELETE ON insight_days BEGIN "
            f"{' '.join(remove('OLD'))} END",
            f"CREATE TRIGGER insight_days_periods_update AFTER UPDATE ON insight_days BEGIN "
            f"{' '.join(remove('OLD') + add('NEW'))} END"]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        'insight_weeks',
        sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.PrimaryKeyConstraint('community_id', 'week', 'user_id',
                                name=op.f('pk_insight_weeks')))
    op.create_table(
        'insight_day_totals',
        sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('threads', sa.Integer(), nullable=False),
        sa.Column('posts', sa.Integer(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('community_id', 'day', name=op.f('pk_insight_day_totals')))
    for statement in _postgresql() if dialect == 'postgresql' else _sqlite():
        op.execute(statement)
    week = WEEK[dialect].format(day="day")
    op.execute(f"INSERT INTO insight_weeks SELECT community_id, {week}, user_id, "
               f"{', '.join(f'sum({n})' for n in COUNTS)} FROM insight_days "
               f"GROUP BY community_id, {week}, user_id ORDER BY 1, 2, 3")  # pages by key
    op.execute("INSERT INTO insight_day_totals SELECT community_id, day, sum(threads), "
               "sum(posts), sum(CASE WHEN threads > 0 OR posts > 0 THEN 1 ELSE 0 END) "
               "FROM insight_days GROUP BY community_id, day ORDER BY 1, 2")
    # A window's partial day reads its posts from this index alone (PostgreSQL: index-only).
    op.drop_index('ix_posts_created', table_name='posts')
    op.create_index('ix_posts_created', 'posts', ['created_at', 'thread_id', 'author_id'],
                    postgresql_include=['parent_id', 'deleted_at'])


def downgrade():
    op.drop_index('ix_posts_created', table_name='posts')
    op.create_index('ix_posts_created', 'posts', ['created_at', 'thread_id', 'author_id'])
    if op.get_bind().dialect.name == 'postgresql':
        for trigger in ('insight_days_weeks', 'insight_days_totals_insert_delete',
                        'insight_days_totals_update'):
            op.execute(f"DROP TRIGGER {trigger} ON insight_days")
        op.execute("DROP FUNCTION insight_days_weeks()")
        op.execute("DROP FUNCTION insight_days_totals()")
    else:
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER insight_days_periods_{name}")
    op.drop_table('insight_day_totals')
    op.drop_table('insight_weeks')
