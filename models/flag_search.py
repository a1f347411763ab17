"""The queue's search text: one row per *open* flag, kept by the database.

The queue's search matches a post's title or description or the flag's client's name as
a case-insensitive substring. Reading that text from ``job_post`` and ``client`` for each
flag the search looks at made its cost follow how many posts matched (issue 27). Here the
text of every open flag sits in one narrow row of its own, lower-cased and joined with a
unit separator (U+001F): ``lower(title || US || description || US || client name)`` for a
post flag, ``lower(US || US || client name)`` for a client flag. The search then either
walks the queue in order testing each flag's row (a term common in the queue fills a page
in a few rows), or, on PostgreSQL, reads the rows matching the term from a trigram index
over this table alone (``ix_flag_search_text_trgm``, migration 0022: a term rare in the
queue reads its few matches), see ``app.services.queue``.

Kept exact by triggers on both databases (``FLAG_SEARCH_TRIGGERS``), whatever writes the
tables (the scoring upsert, an undo, ingest, a bulk SQL fix): a flag inserted open, or
reopened, gets its row (with its ``queue_key``, copied again whenever it changes); a flag
that closes loses it (a deleted flag too: the foreign key
cascades); a change of a post's title or description, or of a client's name, rewrites the
rows of their open flags. Created with the table (``create_all``) and by migration 0022;
a SQLite batch migration that rebuilds ``flag``, ``job_post`` or ``client`` drops the
triggers on it and must create them again.
PostgreSQL, two transactions (READ COMMITTED; migration 0023): the flag's trigger reads its
post ``FOR SHARE`` (it waits for a concurrent retitle to commit, then reads the new row; a
retitle that comes second waits for the flag's commit, and its own trigger then sees the
flag), and takes a shared advisory lock on (``CLIENT_NAME_LOCK``, client id) before it
reads the client's name, which a rename's trigger takes exclusively before it rewrites: a
flag written while another transaction renames its client or retitles its post holds the
committed text once both have committed (tests/integration/test_trigger_races_postgres.py).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

#: what separates the title, the description and the client's name in the text (a search
#: term containing it could match across two of them; nobody types U+001F)
SEPARATOR = "\x1f"
#: PostgreSQL: the first key of the transaction-level advisory locks on a client's name,
#: ``(CLIENT_NAME_LOCK, client id)``: shared by every writer of a flag's search text (the
#: trigger; post scoring first, in the lock order: app.services.locks.hold_client_names),
#: exclusive by a rename's trigger. (The two-key space: app.services.candidates' registry
#: lock is a one-key lock, which never conflicts with it.)
CLIENT_NAME_LOCK = 1718378855  # b"flag"


class FlagSearch(SQLModel, table=True):
    __tablename__ = "flag_search"

    flag_id: int = Field(primary_key=True, foreign_key="flag.id", ondelete="CASCADE")
    #: the flag's ``queue_key``, always equal (the triggers copy every change): the matches
    #: of a term are put in queue order here, before any of their flags is read
    queue_key: float
    #: lower(title || US || description || US || client name); see the module's docstring
    text: str = Field(sa_type=sa.Text)


def _text_of(post_id: str, client_id: str, chr_fn: str) -> str:
    """The SQL expression of a flag's search text from its post and client ids (SQL)."""
    us = f"{chr_fn}(31)"
    return (f"lower(coalesce((SELECT title || {us} || description FROM job_post "
            f"WHERE id = {post_id}), {us}) || {us} || "
            f"coalesce((SELECT name FROM client WHERE id = {client_id}), ''))")


_CHANGED_FLAG = ("NEW.status IS DISTINCT FROM OLD.status OR NEW.post_id IS DISTINCT FROM "
                 "OLD.post_id OR NEW.client_id IS DISTINCT FROM OLD.client_id")
_CHANGED_POST = ("NEW.title IS DISTINCT FROM OLD.title OR NEW.description IS DISTINCT FROM "
                 "OLD.description")
_SQLITE_TEXT = _text_of("NEW.post_id", "NEW.client_id", "char")
#: the rows of ``flag_search`` of every open flag matching ``{where}``, written again
_REWRITE = ("UPDATE flag_search SET text = (SELECT {text} FROM flag f WHERE f.id = "
            "flag_search.flag_id) WHERE flag_id IN (SELECT id FROM flag WHERE {where} "
            "AND status = 'open')")
#: the open flag's queue_key, copied
_QUEUE_KEY = "UPDATE flag_search SET queue_key = NEW.queue_key WHERE flag_id = NEW.id"
_SQLITE_REWRITE_TEXT = _text_of("f.post_id", "f.client_id", "char")
_PG_REWRITE_TEXT = _text_of("f.post_id", "f.client_id", "chr")



def _pg_rewrite(name: str, table: str, columns: str, changed: str, where: str,
                lock: str = "") -> tuple[str, str]:
    """PostgreSQL: the function and trigger ``name`` on ``table`` that rewrite the text of
    the open flags matching ``where`` when ``columns`` change (after ``lock``, if any)."""
    return (f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {lock}{_REWRITE.format(text=_PG_REWRITE_TEXT, where=where)};
    RETURN NULL;
END $$""", f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {table} FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION {name}()")


FLAG_SEARCH_TRIGGERS: dict[str, tuple[str, ...]] = {
    "postgresql": (
        f"""CREATE OR REPLACE FUNCTION flag_search_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    post_text text;
    client_name text;
BEGIN
    IF NEW.status = 'open' THEN
        PERFORM pg_advisory_xact_lock_shared({CLIENT_NAME_LOCK}, NEW.client_id);
        SELECT title || chr(31) || description INTO post_text FROM job_post
            WHERE id = NEW.post_id FOR SHARE;
        SELECT name INTO client_name FROM client WHERE id = NEW.client_id;
        INSERT INTO flag_search (flag_id, queue_key, text)
        VALUES (NEW.id, NEW.queue_key,
                lower(coalesce(post_text, chr(31)) || chr(31) || coalesce(client_name, '')))
        ON CONFLICT (flag_id) DO UPDATE SET queue_key = EXCLUDED.queue_key, text = EXCLUDED.text;
    ELSE
        DELETE FROM flag_search WHERE flag_id = NEW.id;
    END IF;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER flag_search_on_insert AFTER INSERT ON flag FOR EACH ROW "
        "WHEN (NEW.status = 'open') EXECUTE FUNCTION flag_search_sync()",
        "CREATE TRIGGER flag_search_on_update AFTER UPDATE OF status, post_id, client_id "
        f"ON flag FOR EACH ROW WHEN ({_CHANGED_FLAG}) EXECUTE FUNCTION flag_search_sync()",
        f"""CREATE OR REPLACE FUNCTION flag_search_queue_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_QUEUE_KEY};
    RETURN NULL;
END $$""",
        "CREATE TRIGGER flag_search_queue_key AFTER UPDATE OF queue_key ON flag FOR EACH ROW "
        "WHEN (NEW.queue_key IS DISTINCT FROM OLD.queue_key AND NEW.status = 'open') "
        "EXECUTE FUNCTION flag_search_queue_key()",
        *_pg_rewrite("post_text_to_flag_search", "job_post", "title, description",
                     _CHANGED_POST, "post_id = NEW.id"),
        *_pg_rewrite("client_name_to_flag_search", "client", "name",
                     "NEW.name IS DISTINCT FROM OLD.name", "client_id = NEW.id",
                     lock=f"PERFORM pg_advisory_xact_lock({CLIENT_NAME_LOCK}, NEW.id);\n    "),
    ),
    "sqlite": (
        "CREATE TRIGGER flag_search_on_insert AFTER INSERT ON flag FOR EACH ROW "
        "WHEN NEW.status = 'open' BEGIN INSERT OR REPLACE INTO flag_search "
        f"(flag_id, queue_key, text) VALUES (NEW.id, NEW.queue_key, {_SQLITE_TEXT}); END",
        "CREATE TRIGGER flag_search_on_update AFTER UPDATE OF status, post_id, client_id "
        f"ON flag FOR EACH ROW WHEN {_CHANGED_FLAG.replace('IS DISTINCT FROM', 'IS NOT')} "
        "BEGIN DELETE FROM flag_search WHERE flag_id = NEW.id; "
        f"INSERT INTO flag_search (flag_id, queue_key, text) SELECT NEW.id, NEW.queue_key, "
        f"{_SQLITE_TEXT} WHERE NEW.status = 'open'; END",
        "CREATE TRIGGER flag_search_queue_key AFTER UPDATE OF queue_key ON flag FOR EACH ROW "
        "WHEN NEW.queue_key IS NOT OLD.queue_key AND NEW.status = 'open' "
        f"BEGIN {_QUEUE_KEY}; END",
        "CREATE TRIGGER post_text_to_flag_search AFTER UPDATE OF title, description "
        f"ON job_post FOR EACH ROW WHEN {_CHANGED_POST.replace('IS DISTINCT FROM', 'IS NOT')} "
        f"BEGIN {_REWRITE.format(text=_SQLITE_REWRITE_TEXT, where='post_id = NEW.id')}; END",
        "CREATE TRIGGER client_name_to_flag_search AFTER UPDATE OF name ON client "
        "FOR EACH ROW WHEN NEW.name IS NOT OLD.name BEGIN "
        f"{_REWRITE.format(text=_SQLITE_REWRITE_TEXT, where='client_id = NEW.id')}; END",
    ),
}
for _dialect, _ddls in FLAG_SEARCH_TRIGGERS.items():
    for _ddl in _ddls:  # flag_search is created after flag, job_post and client
        sa.event.listen(FlagSearch.__table__, "after_create",
                        sa.DDL(_ddl).execute_if(dialect=_dialect))
