"""The runner's acceptance cases, judged from the outside.

Each case is computed from what was uploaded (every version's key, ETag and bytes, parsed
here with Python's own ``json`` and ``csv``) and from what the pipeline left behind (the
table's rows grouped by ``_source_file``, the quarantine's reason files, the ledger), never
from the job's own row counts. The job's per-run stats say only which run took which
object version (the burst's runs), and which versions were superseded before a run took
them (an object overwritten before any run read it: its rows are not expected).

A pipeline with a transform or row rules (``Outcome.cleaned``) writes other values than it
reads, and may filter or reject rows on purpose: its table is then judged per ingestion, not
per record. Every uploaded version must be one ingestion of its source file (one
``_ingested_at`` among the file's rows), never two, with no more rows than the version holds.

A case with nothing to check is ``not run``, with the reason; it is never ``ok``.
"""
from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import decimal
import gzip
import io
import json
import math
from typing import Any, Iterable

OK, FAILED, NOT_RUN = "ok", "FAILED", "not run"


@dataclasses.dataclass
class Upload:
    """One uploaded object version that the pipeline's rule matched."""

    key: str
    uri: str
    etag: str
    body: bytes
    note: str = ""


@dataclasses.dataclass
class Outcome:
    """What one pipeline was given and what it left behind."""

    name: str
    uploads: list[Upload]
    #: One dict per job run: its rounds' stats combined ("files": [{key, etag, status, ...}]).
    runs: list[dict[str, Any]]
    #: The job runs that failed, as error lines.
    failures: list[str]
    #: The table's rows, or None when it could not be read (``table_error`` says why).
    table: list[dict[str, Any]] | None
    table_error: str | None = None
    #: The quarantine's reason files: {"source_file", "etag", "reason"}.
    quarantined: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: The sources of the rejected records the pipeline wrote (``rejected/records/``).
    rejected_sources: set[str] = dataclasses.field(default_factory=set)
    #: Messages left in the ledger and its dead-letter queue at the end.
    ledger_left: int = 0
    batch_size: int = 100
    input_format: str = "AUTO"
    csv: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Whether the job transforms or checks rows (a transform or row rules): judged per ingestion.
    cleaned: bool = False


@dataclasses.dataclass(frozen=True)
class Case:
    title: str
    status: str
    detail: str


# --- what an upload holds ---------------------------------------------------------------

def records(upload: Upload, input_format: str = "AUTO", csv_options: dict[str, Any] | None = None) -> list[dict]:
    """The records of an upload the job must accept: JSON objects of JSON Lines, or CSV rows
    with as many fields as the header. Anything else in the file is a rejected record."""
    data = upload.body
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode((csv_options or {}).get("encoding", "utf-8")).lstrip("\ufeff")
    name = upload.key.lower().removesuffix(".gz")
    is_csv = input_format == "CSV" or (input_format == "AUTO" and name.endswith(".csv"))
    if is_csv:
        options = csv_options or {}
        rows = list(csv.reader(io.StringIO(text), delimiter=options.get("delimiter", ","),
                               quotechar=options.get("quote", '"')))
        if not rows:
            return []
        header = [h.strip() for h in rows[0]]
        return [dict(zip(header, row)) for row in rows[1:] if len(row) == len(header) and any(c.strip() for c in row)]
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def canonical(value: Any) -> Any:
    """A value as both sides can agree on it: numbers as floats, text stripped, empties as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        number = float(value)
        return None if math.isnan(number) else round(number, 9)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return tuple(sorted((str(k).lower(), canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    text = str(value).strip()
    if text == "":
        return None
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        return round(float(text), 9)
    except ValueError:
        return text


def fingerprint(record: dict[str, Any], columns: Iterable[str] | None = None) -> tuple:
    """A record's values by lower-case column name; ``columns`` picks them from a table row."""
    lowered = {str(k).lower(): v for k, v in record.items()}
    names = sorted(lowered) if columns is None else sorted(columns)
    return tuple((name, canonical(lowered.get(name))) for name in names)


# --- the cases ----------------------------------------------------------------------------

def check(outcome: Outcome) -> list[Case]:
    """Every acceptance case of one pipeline."""
    return [
        _runs_succeeded(outcome),
        _lone_file(outcome),
        _burst(outcome),
        _reupload(outcome),
        _exactly_once(outcome),
        _nothing_waiting(outcome),
    ]


def _case(outcome: Outcome, title: str, status: str, detail: str) -> Case:
    return Case(f"{outcome.name}: {title}", status, detail)


def _superseded(outcome: Outcome) -> set[tuple[str, str]]:
    return {(f["key"], f.get("etag")) for run in outcome.runs for f in run.get("files", [])
            if f.get("status") == "skipped_superseded"}


def _expected(outcome: Outcome) -> dict[str, collections.Counter]:
    """Per source URI, the fingerprints of the records every uploaded version must leave once."""
    skipped = _superseded(outcome)
    expected: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for upload in outcome.uploads:
        if (upload.key, upload.etag) in skipped:
            continue
        for record in records(upload, outcome.input_format, outcome.csv):
            expected[upload.uri][fingerprint(record)] += 1
    return expected


def _ingestions(outcome: Outcome) -> dict[str, collections.Counter]:
    """Per source URI, the table's rows per ingestion (``_ingested_at``)."""
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in outcome.table or []:
        out[row.get("_source_file")][str(row.get("_ingested_at"))] += 1
    return out


def _versions(outcome: Outcome, source: str) -> list[Upload]:
    """The uploaded versions of a source that must be one ingestion each: all but those
    superseded, and those whose every row the cleaning filtered out or rejected (a run took
    them, and no row of theirs could show it in the table)."""
    skipped = _superseded(outcome) | _cleaned_away(outcome)
    return [u for u in outcome.uploads if u.uri == source and (u.key, u.etag) not in skipped
            and records(u, outcome.input_format, outcome.csv)]


def _cleaned_away(outcome: Outcome) -> set[tuple[str, str]]:
    """Versions a run took and wrote no row of, every one filtered or rejected (the runs' stats)."""
    if not outcome.cleaned:
        return set()
    return {(f["key"], f.get("etag")) for run in outcome.runs for f in run.get("files", [])
            if f.get("status") == "ok" and f.get("rows_out") == 0 and f.get("rows_in", 0) > 0
            and f.get("rows_filtered", 0) + f.get("rows_rejected", 0) == f.get("rows_in")}


def _in_table(outcome: Outcome, upload: Upload) -> tuple[int, int]:
    """(records of this version found in the table, records it holds).

    For a cleaned pipeline: (1, 1) when its source has one ingestion per uploaded version
    up to this one, else (0, 1)."""
    if outcome.cleaned:
        versions = _versions(outcome, upload.uri)
        if upload not in versions:
            return 0, 0
        ingested = len(_ingestions(outcome).get(upload.uri, {}))
        return (1 if ingested >= versions.index(upload) + 1 else 0), 1
    wanted = collections.Counter(fingerprint(r) for r in records(upload, outcome.input_format, outcome.csv))
    rows = _table_by_source(outcome).get(upload.uri, collections.Counter())
    found = sum(min(count, _matching(rows, fp)) for fp, count in wanted.items())
    return found, sum(wanted.values())


def _matching(rows: collections.Counter, fp: tuple) -> int:
    return rows.get(fp, 0)


def _table_by_source(outcome: Outcome) -> dict[str, collections.Counter]:
    """Table rows per ``_source_file``, each fingerprinted on the columns its upload's records have."""
    columns_of: dict[str, set[str]] = collections.defaultdict(set)
    for upload in outcome.uploads:
        for record in records(upload, outcome.input_format, outcome.csv):
            columns_of[upload.uri].update(str(k).lower() for k in record)
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in outcome.table or []:
        source = row.get("_source_file")
        columns = columns_of.get(source) or {k.lower() for k in row if not k.startswith("_") and k != "ingest_date"}
        out[source][fingerprint(row, columns)] += 1
    return out


def _table_missing(outcome: Outcome, title: str) -> Case | None:
    if outcome.table is None:
        return _case(outcome, title, FAILED, f"the table could not be read: {outcome.table_error}")
    return None


def _runs_succeeded(outcome: Outcome) -> Case:
    title = "every job run succeeded"
    if not outcome.runs and not outcome.failures:
        return _case(outcome, title, NOT_RUN, "no run started")
    return _case(outcome, title, FAILED if outcome.failures else OK,
                 f"{len(outcome.runs)} run(s), {len(outcome.failures)} failed")


def _lone_file(outcome: Outcome) -> Case:
    title = "a lone file is processed by the first run"
    lone = [u for u in outcome.uploads if u.note.startswith("case 1")]
    if not lone:
        return _case(outcome, title, NOT_RUN, "the trace has no lone file")
    missing = _table_missing(outcome, title)
    if missing:
        return missing
    upload = lone[0]
    found, held = _in_table(outcome, upload)
    first = outcome.runs[0] if outcome.runs else {}
    took = any(f["key"] == upload.key and f.get("etag") == upload.etag and f.get("status") == "ok"
               for f in first.get("files", []))
    ok = held > 0 and found == held and took
    return _case(outcome, title, OK if ok else FAILED,
                 f"{found} of its {held} records in the table; the first run {'took' if took else 'did not take'} it")


def _burst(outcome: Outcome) -> Case:
    burst = [u for u in outcome.uploads if u.note.startswith("case 2")]
    limit = -(-len(burst) // max(1, outcome.batch_size)) if burst else 0
    title = f"a burst of {len(burst)} files is at most {limit} run(s), not {len(burst)}"
    if not burst:
        return _case(outcome, "a burst is batched", NOT_RUN, "the trace has no burst")
    versions = {(u.key, u.etag) for u in burst}
    runs = [i for i, run in enumerate(outcome.runs)
            if any((f["key"], f.get("etag")) in versions and f.get("status") == "ok" for f in run.get("files", []))]
    taken = {(f["key"], f.get("etag")) for i in runs for f in outcome.runs[i].get("files", [])
             if f.get("status") == "ok"} & versions
    ok = 1 <= len(runs) <= limit and taken == versions
    return _case(outcome, title, OK if ok else FAILED,
                 f"{len(runs)} run(s) took {len(taken)} of the {len(burst)} files (from the runs' stats), "
                 f"batch size {outcome.batch_size}")


def _reupload(outcome: Outcome) -> Case:
    title = "a changed re-upload is processed again, the earlier version's rows kept"
    changed = [u for u in outcome.uploads if u.note.startswith("case 3")]
    if not changed:
        return _case(outcome, title, NOT_RUN, "the trace has no changed re-upload")
    missing = _table_missing(outcome, title)
    if missing:
        return missing
    new = changed[0]
    earlier = [u for u in outcome.uploads if u.key == new.key and u.etag != new.etag]
    found, held = _in_table(outcome, new)
    kept = [_in_table(outcome, u) for u in earlier]
    ok = held > 0 and found == held and earlier and all(f == h and h > 0 for f, h in kept)
    return _case(outcome, title, OK if ok else FAILED,
                 f"new ETag {new.etag[:8]}: {found} of {held} records in the table; earlier version(s): "
                 + (", ".join(f"{f} of {h}" for f, h in kept) or "none uploaded"))


def _exactly_once(outcome: Outcome) -> Case:
    if outcome.cleaned:
        return _ingested_once(outcome)
    title = "the table holds every accepted record of every uploaded version exactly once"
    expected = _expected(outcome)
    if not any(expected.values()):
        return _case(outcome, title, NOT_RUN, "no uploaded version holds an accepted record")
    missing_table = _table_missing(outcome, title)
    if missing_table:
        return missing_table
    got = _table_by_source(outcome)
    twice = missing = unexpected = 0
    for source in set(expected) | set(got):
        want, have = expected.get(source, collections.Counter()), got.get(source, collections.Counter())
        for fp in set(want) | set(have):
            w, h = want.get(fp, 0), have.get(fp, 0)
            if h > w and w > 0:
                twice += h - w
            elif h > w:
                unexpected += h - w
            elif h < w:
                missing += w - h
    total = sum(sum(c.values()) for c in expected.values())
    ok = twice == missing == unexpected == 0
    return _case(outcome, title, OK if ok else FAILED,
                 f"{total} expected, {len(outcome.table or [])} in the table: {twice} more than once, "
                 f"{missing} missing, {unexpected} that no upload holds")


def _ingested_once(outcome: Outcome) -> Case:
    """A cleaned pipeline: each uploaded version is one ingestion of its file, none twice."""
    title = "every uploaded version is ingested exactly once (transformed: one ingestion per version)"
    sources = sorted({u.uri for u in outcome.uploads if _versions(outcome, u.uri)})
    if not sources and not _cleaned_away(outcome):
        return _case(outcome, title, NOT_RUN, "no uploaded version holds an accepted record")
    missing_table = _table_missing(outcome, title)
    if missing_table:
        return missing_table
    ingestions = _ingestions(outcome)
    wrong = []
    for source in sources:
        versions = _versions(outcome, source)
        found = ingestions.get(source, collections.Counter())
        most = max(len(records(v, outcome.input_format, outcome.csv)) for v in versions)
        if len(found) != len(versions) or any(count > most for count in found.values()):
            wrong.append(f"{source.rsplit('/', 1)[-1]}: {len(found)} ingestion(s) of {len(versions)} version(s)")
    unexpected = sorted(set(ingestions) - set(sources))
    ok = not wrong and not unexpected
    return _case(outcome, title, OK if ok else FAILED,
                 f"{len(sources)} file(s), {len(outcome.table or [])} rows in the table"
                 + (f"; wrong: {'; '.join(wrong)}" if wrong else "")
                 + (f"; rows of files no upload holds: {', '.join(unexpected)}" if unexpected else ""))


def _nothing_waiting(outcome: Outcome) -> Case:
    title = "no uploaded version is left waiting"
    if not outcome.uploads:
        return _case(outcome, title, NOT_RUN, "nothing was uploaded")
    missing_table = _table_missing(outcome, title)
    if missing_table:
        return missing_table
    quarantined = {(q["source_file"], q.get("etag")): q["reason"] for q in outcome.quarantined}
    skipped = _superseded(outcome)
    cleaned_away = _cleaned_away(outcome)
    taken, parked, superseded, waiting = [], [], [], []
    for upload in outcome.uploads:
        found, held = _in_table(outcome, upload)
        if (upload.uri, upload.etag) in quarantined:
            parked.append(f"{upload.key}: {quarantined[(upload.uri, upload.etag)]}")
        elif (upload.key, upload.etag) in skipped:
            superseded.append(upload.key)
        elif (upload.key, upload.etag) in cleaned_away and outcome.ledger_left == 0:
            taken.append(upload.key)  # every row filtered or rejected by the cleaning
        elif held > 0 and found == held:
            taken.append(upload.key)
        elif held == 0 and (upload.uri in outcome.rejected_sources or not upload.body.strip()):
            taken.append(upload.key)  # every record rejected with its reason, or an empty file
        else:
            waiting.append(upload.key)
    ok = not waiting and outcome.ledger_left == 0
    detail = (f"{len(outcome.uploads)} version(s): {len(taken)} in the table, {len(parked)} quarantined"
              + (f" ({'; '.join(parked)})" if parked else "") + f", {len(superseded)} superseded, "
              f"waiting: {', '.join(waiting) or 'none'}; {outcome.ledger_left} message(s) left in the ledger")
    return _case(outcome, title, OK if ok else FAILED, detail)
