"""The arrivals the runner replays: the built-in acceptance trace, or the user's own files."""
from __future__ import annotations

import gzip
import pathlib
from typing import Any

from . import scenario, template
from .local_pipeline import Arrival


def demo_scenario(pipeline: template.Pipeline, offset: float) -> list[Arrival]:
    """The acceptance cases of the Lambda guide, on the bursty arrivals of the EventBridge post:

    one lone file; a burst of 10 files in 2 minutes; later a changed re-upload of the
    first file, the same event delivered twice, and a file the rule ignores.
    """
    prefix, filtered_suffix = key_shape(pipeline.pattern)
    suffix = filtered_suffix
    csv_input = pipeline.job_arguments.get("--input_format") == "CSV" or suffix.lower().startswith(".csv")
    suffix = suffix or (".csv" if csv_input else ".json")

    def content(index: int, version: int = 0) -> bytes:
        if csv_input:
            return scenario.customer_csv(index + version * 100, rows=25, bad_rows=(3,) if index % 3 == 0 else (),
                                         gz=suffix.endswith(".gz"))
        data = scenario.product_json(index + version * 100, rows=25)
        return gzip.compress(data) if suffix.endswith(".gz") else data

    first = f"{prefix}file-000{suffix}"
    arrivals = [Arrival(offset, first, content(0), "case 1: a lone file")]
    burst_start = offset + 3600.0
    for i in range(1, 11):
        arrivals.append(Arrival(burst_start + 12.0 * (i - 1), f"{prefix}burst/file-{i:03d}{suffix}", content(i),
                                "case 2: burst of 10 files in 2 minutes"))
    later = offset + 3 * 3600.0
    arrivals.append(Arrival(later, first, content(0, version=1), "case 3: changed re-upload of file-000"))
    arrivals.append(Arrival(later + 5.0, first, None, "the same event delivered twice"))
    # A key the rule ignores: another suffix under the prefix, or a key outside the prefix;
    # a rule with neither filter ignores no key, and the trace has none.
    if filtered_suffix:
        arrivals.append(Arrival(later + 10.0, f"{prefix}notes.txt", b"not data", "a key the rule ignores"))
    elif prefix:
        arrivals.append(Arrival(later + 10.0, f"elsewhere-{prefix.strip('/').replace('/', '-')}/notes{suffix}",
                                b"not data", "a key the rule ignores"))
    return arrivals


def pick_pipeline(found: list[template.Pipeline], name: str | None) -> template.Pipeline:
    """The pipeline --files go to: the one named, or the app's only one."""
    names = [p.name for p in found]
    if name is None and len(found) == 1:
        return found[0]
    if name in names:
        return found[names.index(name)]
    raise SystemExit(f"--files needs --pipeline with one of: {', '.join(names)}" if name is None
                     else f"--pipeline {name!r} is not a pipeline of the app; it has: {', '.join(names)}")


def user_trace(pipeline: template.Pipeline, given: list[str]) -> list[Arrival]:
    """The user's files, one a second, under the pipeline's input prefix (their names kept)."""
    import glob

    prefix, _ = key_shape(pipeline.pattern)
    paths: list[pathlib.Path] = []
    for item in given:
        path = pathlib.Path(item)
        if path.is_dir():
            paths += sorted(p for p in path.rglob("*") if p.is_file())
        else:
            paths += sorted(pathlib.Path(p) for p in glob.glob(item, recursive=True) if pathlib.Path(p).is_file())
    if not paths:
        raise SystemExit(f"--files {' '.join(given)}: no file found")
    return [Arrival(float(i), f"{prefix}{path.name}", path.read_bytes(), f"your file {path}")
            for i, path in enumerate(paths)]


def key_shape(pattern: dict[str, Any]) -> tuple[str, str]:
    """The input prefix and first suffix from the rule's key filter."""
    detail = pattern.get("detail", {})
    key_filter = (detail.get("object", {}) or {}).get("key") or detail.get("requestParameters", {}).get("key") or []
    for matcher in key_filter:
        if "wildcard" in matcher:
            prefix, _, suffix = matcher["wildcard"].partition("*")
            return prefix.replace("\\", ""), suffix.replace("\\", "")
        if "prefix" in matcher:
            return matcher["prefix"], ""
        if "suffix" in matcher:
            return "", matcher["suffix"]
    return "", ""
