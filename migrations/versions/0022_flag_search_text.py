"""flag_search: the search text of every open flag, kept by triggers; a trigram index over it;
the policy types' open flags per reason

Revision ID: 0022
Revises: 0021

The queue's search read each flag's post and client to test a term, and on PostgreSQL
found rare terms through trigram indexes over the text of every post that ever had an
open flag (0019) and of every client (0004); its cost followed how many of those matched
(at 1M posts, ``q=telegram`` p95 736 ms, ``q=logo`` 3.7 s). Now:

- ``flag_search`` (flag_id primary key, a foreign key to flag that cascades; the flag's
  queue_key; text): one row per open flag, ``lower(title || US || description || US || client name)``
  (models.flag_search), backfilled set-based from the open flags, then kept by triggers on
  both databases (``models.flag_search.FLAG_SEARCH_TRIGGERS``).
- PostgreSQL: ``ix_flag_search_text_trgm``, a GIN trigram index on ``flag_search.text``:
  the search's second path (a term rare in the head of the queue) reads only the open
  flags matching it.
- PostgreSQL: the trigram indexes the search no longer reads are dropped
  (``ix_job_post_flagged_title_trgm``, ``ix_job_post_flagged_description_trgm`` of 0019,
  ``ix_client_name_trgm`` of 0004); the downgrade creates them again.

And ``ix_flag_open_policy_<type>_reason`` (reason, queue_key, id) WHERE open AND the type,
one per policy type: the capped counts per reason beside the policy filter read each
reason's flags of the type; through the type's (queue_key, id) index, each reason that has
none (all but ``policy``: only policy flags carry types) walked every open flag of the type
to find none (at 1M posts, tens of thousands of rows, three times, at every recount).

New tables and indexes only: no batch rebuild of ``flag`` on SQLite, so the triggers of 0019 and
0021 stay.

Create Date: 2026-12-08 03:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: the indexes dropped on PostgreSQL: (name, table, expression, predicate)
OLD_TRIGRAM = (
    ("ix_job_post_flagged_title_trgm", "job_post", "lower(title)", " WHERE flagged"),
    ("ix_job_post_flagged_description_trgm", "job_post", "lower(description)", " WHERE flagged"),
    ("ix_client_name_trgm", "client", "lower(name)", ""),
)
US = "{chr}(31)"
#: as models.flag_search was at this revision
TEXT = ("lower(coalesce((SELECT title || {us} || description FROM job_post "
        "WHERE id = {post}), {us}) || {us} || "
        "coalesce((SELECT name FROM client WHERE id = {client}), ''))")
CHANGED_FLAG = ("NEW.status IS DISTINCT FROM OLD.status OR NEW.post_id IS DISTINCT FROM "
                "OLD.post_id OR NEW.client_id IS DISTINCT FROM OLD.client_id")
CHANGED_POST = ("NEW.title IS DISTINCT FROM OLD.title OR NEW.description IS DISTINCT FROM "
                "OLD.description")
QUEUE_KEY = "UPDATE flag_search SET queue_key = NEW.queue_key WHERE flag_id = NEW.id"
REWRITE = ("UPDATE flag_search SET text = (SELECT {text} FROM flag f WHERE f.id = "
           "flag_search.flag_id) WHERE flag_id IN (SELECT id FROM flag WHERE {where} "
           "AND status = 'open')")


def _text(post: str, client: str, chr_fn: str) -> str:
    return TEXT.format(us=US.format(chr=chr_fn), post=post, client=client)


def _pg_rewrite(name: str, table: str, columns: str, changed: str, where: str) -> tuple[str, str]:
    text = _text("f.post_id", "f.client_id", "chr")
    return (f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {REWRITE.format(text=text, where=where)};
    RETURN NULL;
END $$""", f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {table} FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION {name}()")


def _triggers(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return (
            f"""CREATE OR REPLACE FUNCTION flag_search_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'open' THEN
        INSERT INTO flag_search (flag_id, queue_key, text)
        VALUES (NEW.id, NEW.queue_key, {_text("NEW.post_id", "NEW.client_id", "chr")})
        ON CONFLICT (flag_id) DO UPDATE SET queue_key = EXCLUDED.queue_key, text = EXCLUDED.text;
    ELSE
        DELETE FROM flag_search WHERE flag_id = NEW.id;
    END IF;
    RETURN NULL;
END $$""",
            "CREATE TRIGGER flag_search_on_insert AFTER INSERT ON flag FOR EACH ROW "
            "WHEN (NEW.status = 'open') EXECUTE FUNCTION flag_search_sync()",
            "CREATE TRIGGER flag_search_on_update AFTER UPDATE OF status, post_id, client_id "
            f"ON flag FOR EACH ROW WHEN ({CHANGED_FLAG}) EXECUTE FUNCTION flag_search_sync()",
            f"""CREATE OR REPLACE FUNCTION flag_search_queue_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {QUEUE_KEY};
    RETURN NULL;
END $$""",
            "CREATE TRIGGER flag_search_queue_key AFTER UPDATE OF queue_key ON flag FOR EACH ROW "
            "WHEN (NEW.queue_key IS DISTINCT FROM OLD.queue_key AND NEW.status = 'open') "
            "EXECUTE FUNCTION flag_search_queue_key()",
            *_pg_rewrite("post_text_to_flag_search", "job_post", "title, description",
                         CHANGED_POST, "post_id = NEW.id"),
            *_pg_rewrite("client_name_to_flag_search", "client", "name",
                         "NEW.name IS DISTINCT FROM OLD.name", "client_id = NEW.id"),
        )
    text, rewrite = _text("NEW.post_id", "NEW.client_id", "char"), _text("f.post_id", "f.client_id", "char")
    return (
        "CREATE TRIGGER flag_search_on_insert AFTER INSERT ON flag FOR EACH ROW "
        "WHEN NEW.status = 'open' BEGIN INSERT OR REPLACE INTO flag_search "
        f"(flag_id, queue_key, text) VALUES (NEW.id, NEW.queue_key, {text}); END",
        "CREATE TRIGGER flag_search_on_update AFTER UPDATE OF status, post_id, client_id "
        f"ON flag FOR EACH ROW WHEN {CHANGED_FLAG.replace('IS DISTINCT FROM', 'IS NOT')} "
        "BEGIN DELETE FROM flag_search WHERE flag_id = NEW.id; "
        f"INSERT INTO flag_search (flag_id, queue_key, text) SELECT NEW.id, NEW.queue_key, "
        f"{text} WHERE NEW.status = 'open'; END",
        "CREATE TRIGGER flag_search_queue_key AFTER UPDATE OF queue_key ON flag FOR EACH ROW "
        "WHEN NEW.queue_key IS NOT OLD.queue_key AND NEW.status = 'open' "
        f"BEGIN {QUEUE_KEY}; END",
        "CREATE TRIGGER post_text_to_flag_search AFTER UPDATE OF title, description "
        f"ON job_post FOR EACH ROW WHEN {CHANGED_POST.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN {REWRITE.format(text=rewrite, where='post_id = NEW.id')}; END",
        "CREATE TRIGGER client_name_to_flag_search AFTER UPDATE OF name ON client "
        "FOR EACH ROW WHEN NEW.name IS NOT OLD.name BEGIN "
        f"{REWRITE.format(text=rewrite, where='client_id = NEW.id')}; END",
    )


#: models.enums.PolicyType at this revision
POLICY_TYPES = ("off_platform", "unpaid_work", "academic_dishonesty", "fake_reviews",
                "account_rental")


def _open_with_policy(value: str) -> sa.TextClause:
    return sa.text(f"""status = 'open' AND CAST(policy_types AS VARCHAR) LIKE '%"{value}"%'""")


TRIGGER_TABLES = {"flag_search_on_insert": "flag", "flag_search_on_update": "flag",
                  "flag_search_queue_key": "flag",
                  "post_text_to_flag_search": "job_post",
                  "client_name_to_flag_search": "client"}
FUNCTIONS = ("flag_search_sync", "flag_search_queue_key", "post_text_to_flag_search", "client_name_to_flag_search")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'flag_search',
        sa.Column('flag_id', sa.Integer(), nullable=False),
        sa.Column('queue_key', sa.Float(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_flag_search_flag_id_flag'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('flag_id', name=op.f('pk_flag_search')),
    )
    # set-based, before the triggers exist
    op.execute("INSERT INTO flag_search (flag_id, queue_key, text) SELECT flag.id, flag.queue_key, "
               f"{_text('flag.post_id', 'flag.client_id', 'chr' if dialect == 'postgresql' else 'char')} "
               "FROM flag WHERE flag.status = 'open'")
    for ddl in _triggers(dialect):
        op.execute(ddl)
    for value in POLICY_TYPES:
        where = _open_with_policy(value)
        op.create_index(f'ix_flag_open_policy_{value}_reason', 'flag',
                        ['reason', 'queue_key', 'id'], sqlite_where=where, postgresql_where=where)
    if dialect == "postgresql":
        op.execute("CREATE INDEX ix_flag_search_text_trgm ON flag_search "
                   "USING gin (text gin_trgm_ops)")
        for name, _table, _expression, _where in OLD_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("ANALYZE flag_search")
        op.execute("ANALYZE flag")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for value in POLICY_TYPES:
        where = _open_with_policy(value)
        op.drop_index(f'ix_flag_open_policy_{value}_reason', table_name='flag',
                      sqlite_where=where, postgresql_where=where)
    for name, table in TRIGGER_TABLES.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if dialect == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgresql":
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        for name, table, expression, where in OLD_TRIGRAM:
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                       f"USING gin ({expression} gin_trgm_ops){where}")
    op.drop_table('flag_search')  # its trigram index with it
