"""The console benchmark's data: N posts written by the demo marketplace generator
(scripts/generate_demo_data.py) and loaded through the product's own import path
(``flask import clients|posts|feedback``, every chunk scored as it is committed: the
flags are the classifiers' own, about one post in seven flagged), kept as a PostgreSQL
*template database* so the next run clones it in seconds instead of importing again.

A template is named ``tdbench_tpl_<posts>_<schema>``: ``<schema>`` is a hash of the
migration files, so a new migration makes a new template. It is built by cloning an older
template of the same size and running ``alembic upgrade head`` on the clone when there is
one (a new index costs its build, not a re-import), else from nothing. Templates (older
schemas' too, for measuring an older checkout) are kept between runs;
``bench/console_latency.py --drop-templates`` removes them all.

The generator writes its posts in slices of ``SLICE`` posts (one seed each, external ids
prefixed by the slice) so that a million posts never sit in memory at once; one client per
``POSTS_PER_CLIENT`` posts, each with the generator's feedback history.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from harness import PG_ADMIN, ROOT, Stack, migrate

SLICE = 50_000
POSTS_PER_CLIENT = 20
PASSWORD = "benchmark password 0123"
ADMIN_EMAIL = "bench@example.com"
TEMPLATE_PREFIX = "tdbench_tpl_"


def schema_key() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def template_name(posts: int) -> str:
    return f"{TEMPLATE_PREFIX}{posts}_{schema_key()}"


def _admin() -> sa.engine.Engine:
    return sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def url_of(name: str) -> str:
    return sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def _databases(conn, prefix: str) -> list[str]:  # noqa: ANN001
    names = conn.execute(sa.text("SELECT datname FROM pg_database ORDER BY datname")).scalars()
    return [name for name in names if name.startswith(prefix)]


def write_slices(tmp: Path, posts: int) -> list[tuple[Path, Path, Path]]:
    """(clients, posts, feedback) JSONL files per slice of the generator's output."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from generate_demo_data import generate

    anchor = datetime.now(timezone.utc).replace(microsecond=0)
    files = []
    for index, start in enumerate(range(0, posts, SLICE)):
        n = min(SLICE, posts - start)
        data = generate(seed=1000 + index, anchor=anchor, clients=max(n // POSTS_PER_CLIENT, 30),
                        posts=n)
        tag = f"s{index}-"
        for client in data["clients"]:
            client["external_id"] = tag + client["external_id"]
        for item in data["posts"] + data["feedback"]:
            item["external_id"] = tag + item["external_id"]
            item["client_id"] = tag + item["client_id"]
        paths = tuple(tmp / f"{kind}-{index}.jsonl" for kind in ("clients", "posts", "feedback"))
        for path, kind in zip(paths, ("clients", "posts", "feedback")):
            with path.open("w") as fh:
                fh.writelines(json.dumps(item) + "\n" for item in data[kind])
        files.append(paths)
        del data
    return files


def _import(url: str, posts: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tdbench-data-") as tmpdir:
        tmp = Path(tmpdir)
        stack = Stack(url, tmp)
        stack.env.pop("REDIS_URL", None)  # scored in line, chunk by chunk
        started = time.perf_counter()
        slices = write_slices(tmp, posts)
        print(f"  generated {posts:,} posts in {len(slices)} slice(s) "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
        for clients, post_file, feedback in slices:
            for path in (clients, post_file, feedback):
                t = time.perf_counter()
                out = stack.flask("import", path.name.split("-")[0], str(path), "--no-progress")
                print(f"  {path.name}: {out.strip().splitlines()[-1] if out.strip() else ''} "
                      f"({time.perf_counter() - t:.0f} s)", flush=True)
        stack.flask("users", "create", ADMIN_EMAIL, "--role", "admin",
                    "--password-stdin", input=PASSWORD + "\n")


def _finish(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def ensure_template(posts: int) -> str:
    """The template database for ``posts`` (built if missing); its name."""
    name = template_name(posts)
    admin = _admin()
    with admin.connect() as conn:
        if name in _databases(conn, name):
            return name
        older = [db for db in _databases(conn, f"{TEMPLATE_PREFIX}{posts}_")
                 if not db.endswith("_building")]
        building = f"{name}_building"
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
        started = time.perf_counter()
        if older:
            print(f"template {name}: from {older[0]} + alembic upgrade head", flush=True)
            conn.execute(sa.text(f'CREATE DATABASE "{building}" TEMPLATE "{older[0]}"'))
        else:
            print(f"template {name}: generating and importing {posts:,} posts", flush=True)
            conn.execute(sa.text(f'CREATE DATABASE "{building}"'))
    try:
        migrate(url_of(building))
        if not older:
            _import(url_of(building), posts)
        _finish(url_of(building))
    except BaseException:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
        raise
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
    admin.dispose()
    print(f"template {name} ready in {time.perf_counter() - started:.0f} s", flush=True)
    return name


def clone(template: str, name: str) -> str:
    """A fresh database ``name`` copied from ``template``; its URL."""
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return url_of(name)


def drop(name: str) -> None:
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def drop_templates() -> list[str]:
    admin = _admin()
    with admin.connect() as conn:
        names = _databases(conn, TEMPLATE_PREFIX)
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return names


if __name__ == "__main__":  # build (or find) the templates: console_data.py 20000 200000
    for size in sys.argv[1:] or ["20000"]:
        print(ensure_template(int(size)))
