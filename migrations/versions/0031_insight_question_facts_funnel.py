"""insights, organisation-wide: each thread fact (first reply) says whether its thread is a question
(`question`, set by a trigger at the fact's insert from the thread's kind, which never changes),
and a partial index of question facts by thread start replaces `ix_insight_thread_facts_created`
(0027), so a window's response times join 6,000 question facts, not the 24,000 facts of every
thread started in the window; the idea funnel: the counts per status and author read in the order of
a partial index of live ideas (status, author_id, created_at), grouped as they come (no hash of
25,000 ideas); each status's middle stays from one ordered read of a partial index of the stored
stays (from_status, hours_in_status, created_at, thread_id), which replaces the index of 0027
(from_status, hours_in_status, id) read at ranks with OFFSET

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-30 08:50:00

The migration fills `question` from the threads; the triggers keep it at every insert of a fact,
`flask --app wsgi insights rebuild` included (nothing else to run).
"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

LIVE_IDEAS = "kind = 'idea' AND deleted_at IS NULL AND merged_into_id IS NULL"
STORED = "hours_in_status IS NOT NULL"
QUESTION_OF_FACT = ("EXISTS (SELECT 1 FROM threads WHERE threads.id = NEW.thread_id "
                    "AND threads.kind = 'question')")
# After a fact's first insert only: an upsert that updates the row (a later reply) does not fire
# it, so a reply costs nothing more; a question's first fact is updated once.
POSTGRES_TRIGGER = f"""
CREATE FUNCTION insight_fact_question() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {QUESTION_OF_FACT} THEN
        UPDATE insight_thread_facts SET question = true WHERE thread_id = NEW.thread_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER insight_fact_question AFTER INSERT ON insight_thread_facts
    FOR EACH ROW EXECUTE FUNCTION insight_fact_question();
"""
SQLITE_TRIGGER = f"""
CREATE TRIGGER insight_fact_question AFTER INSERT ON insight_thread_facts
WHEN {QUESTION_OF_FACT}
BEGIN
    UPDATE insight_thread_facts SET question = 1 WHERE thread_id = NEW.thread_id;
END
"""
facts = sa.table('insight_thread_facts', sa.column('thread_id', sa.Integer()),
                 sa.column('question', sa.Boolean()))
threads = sa.table('threads', sa.column('id', sa.Integer()), sa.column('kind', sa.String()))


def upgrade():
    with op.batch_alter_table('insight_thread_facts') as batch:
        batch.add_column(sa.Column('question', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.execute(facts.update().where(facts.c.thread_id.in_(
        sa.select(threads.c.id).where(threads.c.kind == 'question'))).values(question=True))
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.execute(POSTGRES_TRIGGER if postgres else SQLITE_TRIGGER)
    op.create_index('ix_insight_thread_facts_questions', 'insight_thread_facts',
                    ['thread_created_at', 'thread_id', 'first_reply_at'],
                    postgresql_where=sa.text('question'), sqlite_where=sa.text('question'))
    op.drop_index('ix_insight_thread_facts_created', table_name='insight_thread_facts')
    op.create_index('ix_threads_live_idea_authors', 'threads',
                    ['status', 'author_id', 'created_at'],
                    postgresql_where=sa.text(LIVE_IDEAS), sqlite_where=sa.text(LIVE_IDEAS))
    op.create_index('ix_idea_status_changes_medians', 'idea_status_changes',
                    ['from_status', 'hours_in_status', 'created_at', 'thread_id'],
                    postgresql_where=sa.text(STORED), sqlite_where=sa.text(STORED))
    op.drop_index('ix_idea_status_changes_stays', table_name='idea_status_changes')


def downgrade():
    op.create_index('ix_insight_thread_facts_created', 'insight_thread_facts',
                    ['thread_created_at', 'thread_id', 'first_reply_at'])
    op.drop_index('ix_insight_thread_facts_questions', table_name='insight_thread_facts')
    op.execute('DROP TRIGGER insight_fact_question' + (
        ' ON insight_thread_facts' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION insight_fact_question()')
    with op.batch_alter_table('insight_thread_facts') as batch:
        batch.drop_column('question')
    op.create_index('ix_idea_status_changes_stays', 'idea_status_changes',
                    ['from_status', 'hours_in_status', 'id'])
    op.drop_index('ix_idea_status_changes_medians', table_name='idea_status_changes')
    op.drop_index('ix_threads_live_idea_authors', table_name='threads')
