"""job_post.flagged dropped; the flag triggers read the post and client they copy from
under a lock (PostgreSQL), so a concurrent retitle, rename or recategorisation is not lost

Revision ID: 0023
Revises: 0022

- ``job_post.flagged`` and its triggers (``flag_marks_post_on_insert`` / ``_on_update``,
  PostgreSQL function ``flag_marks_post``, migration 0019) are dropped: since 0022 the
  search reads ``flag_search`` and nothing read the column, which every flag change still
  wrote. Its partial trigram indexes (``WHERE flagged``) were dropped by 0022; dropped
  here too if they exist. Both databases drop the column in place (``ALTER TABLE ... DROP
  COLUMN``; SQLite >= 3.35), as 0021's downgrade does: a SQLite batch rebuild of
  ``job_post`` would drop the triggers on it (0021's and 0022's) and copy every row. The
  downgrade adds the column back, backfills it (as 0019 did: every post with any flag) and
  creates the triggers again.
- PostgreSQL, READ COMMITTED: each trigger read only committed rows, so a flag inserted
  while another transaction retitled its post, renamed its client or recategorised the
  post kept the old text in ``flag_search`` (or the old ``flag.category``): the flag's
  trigger read the old row, and the other's trigger did not see the uncommitted flag.
  Now (models.flag_search / models.moderation, docs/concurrency.md):

  - ``flag_takes_post_category`` and ``flag_search_sync`` read the post ``FOR SHARE``:
    a locking read waits for a concurrent updater of the post to commit and then returns
    the row's new version; an updater that comes second waits for the flag's commit, and
    its own trigger's statement (a new snapshot) then sees the flag.
  - the client's name: ``flag_search_sync`` first takes a shared transaction-level
    advisory lock on (``CLIENT_NAME_LOCK``, client id) and ``client_name_to_flag_search``
    an exclusive one before it rewrites: a rename and a flag write of one client are
    serialised, and nothing else waits (a row lock on the client would make every
    flag write wait for every moderator's client action, and take a client lock after the
    posts' locks, against the lock order). Post scoring takes the shared locks of the
    clients it may flag before its post locks (``locks.hold_client_names``).

Create Date: 2026-12-08 05:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0023'
down_revision: Union[str, Sequence[str], None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: the first key of the advisory locks on a client's name (as models.flag_search.CLIENT_NAME_LOCK)
CLIENT_NAME_LOCK = 1718378855  # b"flag"
US = "chr(31)"

#: as models.moderation.FLAGGED_POST_TRIGGERS was at 0019-0022
FLAGGED_TRIGGERS = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION flag_marks_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_post SET flagged = true WHERE id = NEW.post_id AND NOT flagged;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER flag_marks_post_on_insert AFTER INSERT ON flag FOR EACH ROW "
        "WHEN (NEW.status = 'open' AND NEW.post_id IS NOT NULL) "
        "EXECUTE FUNCTION flag_marks_post()",
        "CREATE TRIGGER flag_marks_post_on_update AFTER UPDATE OF status, post_id ON flag "
        "FOR EACH ROW WHEN (NEW.status = 'open' AND NEW.post_id IS NOT NULL) "
        "EXECUTE FUNCTION flag_marks_post()",
    ),
    "sqlite": tuple(
        f"CREATE TRIGGER flag_marks_post_on_{event} AFTER {clause} ON flag FOR EACH ROW "
        "WHEN NEW.status = 'open' AND NEW.post_id IS NOT NULL BEGIN "
        "UPDATE job_post SET flagged = 1 WHERE id = NEW.post_id AND NOT flagged; END"
        for event, clause in (("insert", "INSERT"), ("update", "UPDATE OF status, post_id"))),
}
FLAGGED_TRIGGER_NAMES = ("flag_marks_post_on_insert", "flag_marks_post_on_update")
FLAGGED_TRIGRAM = ("ix_job_post_flagged_title_trgm", "ix_job_post_flagged_description_trgm")

#: PostgreSQL trigger functions at this revision (as models.flag_search / models.moderation)
LOCKED_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION flag_takes_post_category() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.post_id IS NULL THEN
        NEW.category := NULL;
    ELSE
        SELECT category INTO NEW.category FROM job_post WHERE id = NEW.post_id FOR SHARE;
    END IF;
    RETURN NEW;
END $$""",
    f"""CREATE OR REPLACE FUNCTION flag_search_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    post_text text;
    client_name text;
BEGIN
    IF NEW.status = 'open' THEN
        PERFORM pg_advisory_xact_lock_shared({CLIENT_NAME_LOCK}, NEW.client_id);
        SELECT title || {US} || description INTO post_text FROM job_post
            WHERE id = NEW.post_id FOR SHARE;
        SELECT name INTO client_name FROM client WHERE id = NEW.client_id;
        INSERT INTO flag_search (flag_id, queue_key, text)
        VALUES (NEW.id, NEW.queue_key,
                lower(coalesce(post_text, {US}) || {US} || coalesce(client_name, '')))
        ON CONFLICT (flag_id) DO UPDATE SET queue_key = EXCLUDED.queue_key, text = EXCLUDED.text;
    ELSE
        DELETE FROM flag_search WHERE flag_id = NEW.id;
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE OR REPLACE FUNCTION client_name_to_flag_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({CLIENT_NAME_LOCK}, NEW.id);
    UPDATE flag_search SET text = (SELECT lower(coalesce((SELECT title || {US} || description
        FROM job_post WHERE id = f.post_id), {US}) || {US} || coalesce((SELECT name FROM client
        WHERE id = f.client_id), '')) FROM flag f WHERE f.id = flag_search.flag_id)
    WHERE flag_id IN (SELECT id FROM flag WHERE client_id = NEW.id AND status = 'open');
    RETURN NULL;
END $$""",
)

#: the same functions as 0021 / 0022 created them (the downgrade)
TEXT_0022 = (f"lower(coalesce((SELECT title || {US} || description FROM job_post "
             "WHERE id = {post}), " + US + ") || " + US + " || "
             "coalesce((SELECT name FROM client WHERE id = {client}), ''))")
UNLOCKED_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION flag_takes_post_category() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.category := (SELECT category FROM job_post WHERE id = NEW.post_id);
    RETURN NEW;
END $$""",
    f"""CREATE OR REPLACE FUNCTION flag_search_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'open' THEN
        INSERT INTO flag_search (flag_id, queue_key, text)
        VALUES (NEW.id, NEW.queue_key, {TEXT_0022.format(post="NEW.post_id", client="NEW.client_id")})
        ON CONFLICT (flag_id) DO UPDATE SET queue_key = EXCLUDED.queue_key, text = EXCLUDED.text;
    ELSE
        DELETE FROM flag_search WHERE flag_id = NEW.id;
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE OR REPLACE FUNCTION client_name_to_flag_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE flag_search SET text = (SELECT {TEXT_0022.format(post="f.post_id", client="f.client_id")} FROM flag f WHERE f.id = flag_search.flag_id) WHERE flag_id IN (SELECT id FROM flag WHERE client_id = NEW.id AND status = 'open');
    RETURN NULL;
END $$""",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in FLAGGED_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON flag")
        op.execute("DROP FUNCTION IF EXISTS flag_marks_post()")
        for name in FLAGGED_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        for ddl in LOCKED_FUNCTIONS:  # the triggers keep calling them by name
            op.execute(ddl)
    else:
        for name in FLAGGED_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    # in place on both (SQLite >= 3.35: no batch rebuild, job_post's triggers stay)
    op.drop_column('job_post', 'flagged')


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column('job_post', sa.Column('flagged', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.execute("UPDATE job_post SET flagged = true WHERE id IN "
               "(SELECT post_id FROM flag WHERE post_id IS NOT NULL)")
    for ddl in FLAGGED_TRIGGERS.get(dialect, ()):
        op.execute(ddl)
    if dialect == "postgresql":
        for ddl in UNLOCKED_FUNCTIONS:
            op.execute(ddl)
