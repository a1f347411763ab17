"""``flask import clients|posts|feedback FILE`` and ``flask demo load``.

Bulk import streams the file (constant memory), validates each row with the API's own
models (``app/api/schemas.py``), and writes chunks of rows through
``services.ingest.import_chunk`` (one commit, one scoring job per chunk; without Redis
each job runs in a child process beside the next chunk's import, see ``app.jobs.inline``).
It is resumable: rows are upserted by external id, so a re-run skips what is unchanged
and never duplicates. Rejected rows are reported on stderr with their line numbers; the
good rows are still imported, and the exit code is 1 if anything was rejected.

Formats, by extension: ``.jsonl``/``.ndjson`` (one JSON object per line) or ``.csv``
(header row; ``skills`` separated by ``;``; booleans ``true/false/1/0``; an empty cell
is "not given"). ``-`` reads JSONL from stdin. Import clients before the posts and
feedback that name them.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import AppGroup, with_appcontext
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from ..api.schemas import ITEM_MODELS, field_errors
from ..db import session_scope
from ..jobs.enqueue import redis_url
from ..jobs.inline import InlineRunner, inline_in_background
from ..services import ingest
from ..services.audit import CLI

CHUNK_SIZE = 500
#: without Redis, how many chunks' scoring jobs may wait for the scoring processes: the
#: import runs ahead while they load the models (~3 s) instead of leaving a core idle; on
#: Ctrl-C, what they had not scored yet is left for the sweep (a job is ids, not rows)
SCORING_AHEAD = 16
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
CSV_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
CSV_TYPES: dict[str, Callable[[str], Any]] = {
    "payment_verified": lambda v: CSV_BOOLEANS.get(v.lower(), v),
    "phone_verified": lambda v: CSV_BOOLEANS.get(v.lower(), v),
    "identity_verified": lambda v: CSV_BOOLEANS.get(v.lower(), v),
    "skills": lambda v: [s.strip() for s in v.split(";") if s.strip()],
    "budget": lambda v: _number(v, float),
    "rating": lambda v: _number(v, int),
}
DEMO_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_demo_data.py"

#: a parsed row: (line number, fields) or (line number, why it could not be read)
Row = tuple[int, dict[str, Any] | str]

log = logging.getLogger(__name__)

import_cli = AppGroup("import", help="Bulk-import marketplace data (JSONL or CSV).")
demo_cli = AppGroup("demo", help="Demo marketplace data.")


def _number(value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        return value  # left as text: validation reports it with the field's name


# --- reading files ---------------------------------------------------------------------------

def read_jsonl(stream: IO[bytes]) -> Iterator[Row]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield number, "not valid UTF-8"
            continue
        except (ValueError, RecursionError) as exc:
            yield number, f"invalid JSON: {exc}"[:200]
            continue
        yield number, data if isinstance(data, dict) else "must be a JSON object"


def read_csv(stream: IO[bytes], kind: ingest.Kind) -> Iterator[Row]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    model = ITEM_MODELS[kind]
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in model.model_fields]
    missing = [n for n, f in model.model_fields.items() if f.is_required() and n not in header]
    if unknown or missing:
        problems = ([f"unknown columns: {', '.join(unknown)}"] if unknown else []) + \
                   ([f"missing columns: {', '.join(missing)}"] if missing else [])
        raise click.ClickException(f"{'; '.join(problems)} (expected some of: "
                                   f"{', '.join(model.model_fields)})")
    start = reader.line_num + 1
    for row in reader:
        if None in row:
            yield start, "more cells than columns"
        else:
            yield start, {k: CSV_TYPES.get(k, str)(v) for k, v in row.items()
                          if v not in ("", None)}
        start = reader.line_num + 1


def _open(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


def count_records(stream: IO[bytes], *, is_csv: bool) -> int:
    """How many records the file holds (the progress bar's total), then back to its start:
    a CSV's rows as the csv module reads them (a quoted cell may hold newlines), less the
    header; a JSONL file's non-blank lines (blank ones are skipped, not rows)."""
    if is_csv:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        try:
            records = max(sum(1 for _ in csv.reader(text)) - 1, 0)
        except csv.Error:
            records = 0  # the import itself reports the malformed row
        text.detach()  # leave the byte stream open for the import
    else:
        records = sum(1 for line in stream if line.strip())
    stream.seek(0)
    return records


def read_file(path: str, kind: ingest.Kind) -> tuple[Iterator[Row], IO[bytes], int | None]:
    """Rows of a JSONL or CSV file (by extension; ``-`` is JSONL on stdin), the byte
    stream, and the number of records (None for stdin)."""
    suffix = Path(path).suffix.lower()
    if path != "-" and suffix not in JSONL_SUFFIXES | {".csv"}:
        raise click.ClickException(f"{path}: unknown format {suffix or '(none)'!r}; "
                                   "use .jsonl, .ndjson or .csv (or - for JSONL on stdin)")
    stream = _open(path)
    total = None if path == "-" else count_records(stream, is_csv=suffix == ".csv")
    if suffix == ".csv":
        return read_csv(stream, kind), stream, total
    return read_jsonl(stream), stream, total


# --- the import loop (shared by `flask import` and `flask demo load`) ----------------------------

@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    #: scoring jobs that failed or were lost beside the import (logged; the sweep retries them)
    jobs_failed: int = 0

    def line(self) -> str:
        return (f"imported {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {len(self.rejected)}")


def _describe(fields: dict[str, str]) -> str:
    return "; ".join(f"{name}: {message}" for name, message in fields.items())


def run_import(kind: ingest.Kind, rows: Iterable[Row], *, source: str, total: int | None = None,
               chunk_size: int = CHUNK_SIZE, progress: bool = True,
               report: Callable[[str], None] | None = None) -> Summary:
    """Validate ``rows`` and write them in chunks; returns the counts and rejections."""
    model = ITEM_MODELS[kind]
    summary = Summary()

    def reject(number: int, reason: str) -> None:
        summary.rejected.append((number, reason))
        if report is not None:
            report(f"line {number}: {reason}")

    # without Redis, each chunk's scoring job runs beside the import of the next chunk
    # (in child processes: see app.jobs.inline), and all of them before this returns
    with inline_in_background(SCORING_AHEAD, prepare=_scoring_models(kind)) as runner, \
            session_scope() as session, \
            tqdm(total=total, unit=" rows", desc=f"import {kind}", file=sys.stderr,
                 disable=not progress, dynamic_ncols=True) as bar:
        chunk: list[ingest.Record] = []
        ids: set[str] = set()

        def flush() -> None:
            if not chunk:
                return
            outcome = ingest.import_chunk(session, kind=kind, records=chunk)
            for number, fields in sorted(outcome.rejected.items()):
                reject(int(number), _describe(fields))
            counts = outcome.counts()
            summary.created += counts["created"]
            summary.updated += counts["updated"]
            summary.unchanged += counts["unchanged"]
            bar.update(len(chunk))
            chunk.clear()
            ids.clear()

        for number, data in rows:
            if isinstance(data, str):
                reject(number, data)
                bar.update(1)
                continue
            try:
                item = model.model_validate(data).model_dump()
            except ValidationError as exc:
                reject(number, _describe(field_errors(exc)))
                bar.update(1)
                continue
            if item["external_id"] in ids:  # a later version of a row in this chunk
                flush()
            chunk.append((number, item))
            ids.add(item["external_id"])
            if len(chunk) >= chunk_size:
                flush()
        flush()
        ingest.record_import(session, kind=kind, source=source, actor=CLI, counts={
            "created": summary.created, "updated": summary.updated,
            "unchanged": summary.unchanged, "rejected": len(summary.rejected)})
        bar.close()
        if runner is not None:  # the scoring still running beside it: shown, not silent
            _wait_for_scoring(runner, progress)
    summary.jobs_failed = runner.failed + runner.unfinished if runner is not None else 0
    _refresh_statistics(kind, summary.created + summary.updated)
    return summary


def _refresh_statistics(kind: ingest.Kind, written: int) -> None:
    """After the import and the scoring beside it (their rows too): the planner statistics
    of the tables they wrote. The rows are committed by then, so a failure here (a lock that
    did not come in time, say) is logged and the import still succeeds."""
    try:
        with session_scope() as session:
            ingest.refresh_statistics(session, kind=kind, written=written)
    except SQLAlchemyError as exc:
        log.warning("imported, but the planner statistics were not refreshed (%s); the "
                    "database's own maintenance will, or run ANALYZE", exc.__class__.__name__)


def _wait_for_scoring(runner: InlineRunner, progress: bool) -> None:
    """Wait for the scoring jobs still running beside the import, with a bar of their own
    (the rows are all written; without it the import's bar would sit at 100% meanwhile)."""
    with tqdm(total=runner.submitted, unit=" jobs", desc="scoring", file=sys.stderr,
              disable=not progress, dynamic_ncols=True) as bar:
        runner.wait(lambda ended, _submitted: bar.update(ended - bar.n))


def _scoring_models(kind: ingest.Kind) -> Callable[[], object] | None:
    """What a process scoring this import's jobs loads first: the models its jobs read (the
    post models for posts, the feedback model alone for feedback; a clients import rescores
    posts only where a client's scored facts changed)."""
    if kind == "clients":
        return None
    from ..services.scoring import get_feedback_scorer, get_scorer

    return get_feedback_scorer if kind == "feedback" else get_scorer


def _import_command(kind: ingest.Kind) -> click.Command:
    @click.command(kind, help=f"Import {kind} from FILE (.jsonl, .ndjson, .csv; - for JSONL on "
                              "stdin). Rejected rows go to stderr; exit code 1 if any.")
    @click.argument("file")
    @click.option("--chunk-size", default=CHUNK_SIZE, show_default=True, type=click.IntRange(1, 10_000),
                  help="Rows per transaction (and per scoring job).")
    @click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
    @with_appcontext
    def command(file: str, chunk_size: int, progress: bool) -> None:
        rows, stream, total = read_file(file, kind)
        try:
            summary = run_import(kind, rows, source=file, total=total, chunk_size=chunk_size,
                                 progress=progress,
                                 report=lambda m: tqdm.write(m, file=sys.stderr))
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        click.echo(summary.line())
        if summary.jobs_failed:
            click.echo(f"{summary.jobs_failed} scoring job(s) failed or were lost with their "
                       "process (see the log above); the rows are imported, and `flask sweep` "
                       "scores them again (`flask sweep --delay 0`: now)", err=True)
        if summary.rejected:
            sys.exit(1)

    return command


for _kind in ingest.KINDS:
    import_cli.add_command(_import_command(_kind))


# --- demo data --------------------------------------------------------------------------------

def load_demo_generator():
    """``scripts/generate_demo_data.py`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("trustdesk_demo_data", DEMO_SCRIPT)
    if spec is None or spec.loader is None:
        raise click.ClickException(f"demo generator not found at {DEMO_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only when there are no clients yet (first run).")
@click.option("--seed", default=7, show_default=True, help="Random seed of the generator.")
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
def demo_load(if_empty: bool, seed: int, progress: bool) -> None:
    """Generate the demo marketplace and import it (scored inline when Redis is not set).

    Dates are laid out backwards from today, so the data always looks recent; the
    generator is deterministic for a given seed and date."""
    with session_scope() as session:
        if if_empty and ingest.has_clients(session):
            click.echo("Demo data not loaded: the database already has clients.")
            return
    if redis_url() is None:  # scored in line, in processes forked from this one
        from ..services.scoring import get_scorer

        get_scorer()  # loaded once here for the posts and the feedback, not once per import
    generator = load_demo_generator()
    anchor = datetime.combine(datetime.now(timezone.utc).date(), time(), tzinfo=timezone.utc)
    data = generator.generate(seed=seed, anchor=anchor)
    failed = False
    for kind in ingest.KINDS:
        records = data[kind]
        summary = run_import(kind, enumerate(records, start=1), source=f"demo seed {seed}",
                             total=len(records), progress=progress,
                             report=lambda m: tqdm.write(m, file=sys.stderr))
        click.echo(f"{kind}: {summary.line()}")
        failed = failed or bool(summary.rejected)
    if failed:
        sys.exit(1)
