"""Arrival traces and sample data for the local runner and the planner."""
from __future__ import annotations

import csv
import gzip
import json
import math
import random
from typing import Sequence


def bursty_trace(bursts: int = 6, files_per_burst: int = 10, burst_seconds: float = 120.0,
                 hours: float = 24.0, seed: int = 1) -> list[float]:
    """The seed scenario: bursts of ~10 files within ~2 minutes, then hours of nothing.

    Burst starts are spread irregularly over `hours`; returns sorted arrival seconds.
    """
    rng = random.Random(seed)
    span = hours * 3600.0
    slot = span / bursts
    arrivals = []
    for b in range(bursts):
        start = b * slot + rng.uniform(0.0, slot - burst_seconds)
        arrivals.extend(start + rng.uniform(0.0, burst_seconds) for _ in range(files_per_burst))
    return sorted(arrivals)


def friday_trace(days: int = 5, bursts_per_day: int = 3, files_per_burst: int = 10, last_burst_files: int = 40,
                 burst_seconds: float = 600.0, seed: int = 2) -> list[float]:
    """A working week, then nothing: bursts in office hours (08:00-18:00) on `days` days, the last
    day ending with one bigger burst at 17:00 of `last_burst_files` files in `burst_seconds`.

    Nothing is uploaded after it (the weekend): whatever that burst leaves behind must be
    picked up without a later upload. Returns sorted arrival seconds from Monday 00:00.
    """
    rng = random.Random(seed)
    day = 24 * 3600.0
    arrivals = []
    for d in range(days):
        for _ in range(bursts_per_day):
            start = d * day + rng.uniform(8 * 3600.0, 16 * 3600.0)
            arrivals.extend(start + rng.uniform(0.0, burst_seconds) for _ in range(files_per_burst))
    last = (days - 1) * day + 17 * 3600.0
    arrivals.extend(last + rng.uniform(0.0, burst_seconds) for _ in range(last_burst_files))
    return sorted(arrivals)


def random_trace(seed: int, max_files: int = 80, max_bursts: int = 4, hours: float = 6.0,
                 max_burst_seconds: float = 900.0) -> list[float]:
    """A random bursty trace for property tests: 1..max_bursts bursts at random times within `hours`,
    each of random length up to `max_burst_seconds`, 1..max_files files in all. Sorted seconds."""
    rng = random.Random(seed)
    files = rng.randint(1, max_files)
    bursts = [(rng.uniform(0.0, hours * 3600.0), rng.uniform(0.0, max_burst_seconds))
              for _ in range(rng.randint(1, max_bursts))]
    arrivals = []
    for _ in range(files):
        start, length = rng.choice(bursts)
        arrivals.append(start + rng.uniform(0.0, length))
    return sorted(arrivals)


def arrival_seconds(cell: str) -> float | None:
    """An arrival time: seconds (a finite number) or an ISO-8601 timestamp ("Z" for UTC), as
    seconds since the epoch for a timestamp; None when `cell` is neither."""
    from datetime import datetime

    try:
        value = float(cell)
    except ValueError:
        try:
            return datetime.fromisoformat(cell.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def read_trace(path: str) -> list[float]:
    """A CSV with one arrival per row: seconds (a number) or an ISO-8601 timestamp in the first column.

    Blank rows are skipped, and so is a header: a first row whose first cell is not a time (such as
    ``arrival``). Any later row that is not a time is an error that names its line and value.
    Returns the arrivals sorted, in seconds from the first."""
    values, first_row = [], True
    with open(path, newline="", encoding="utf-8-sig") as fh:    # -sig: a byte order mark is not a header
        reader = csv.reader(fh)
        for row in reader:
            cell = row[0].strip() if row else ""
            if not cell:
                continue
            value = arrival_seconds(cell)
            if value is None and not first_row:
                raise ValueError(f"{path}, line {reader.line_num}: {cell!r} is neither seconds nor an "
                                 "ISO-8601 time")
            first_row = False
            if value is not None:
                values.append(value)
    if not values:
        raise ValueError(f"{path}: no arrival times found")
    first = min(values)
    return sorted(v - first for v in values)


PRODUCT_NAMES = ["kettle", "lamp", "chair", "desk", "mug", "rug", "shelf", "clock", "vase", "fan"]


def product_json(file_index: int, rows: int = 20, seed: int = 0) -> bytes:
    """JSON Lines of products, like the AWS blog's sample data."""
    rng = random.Random(seed * 1000 + file_index)
    lines = []
    for r in range(rows):
        pid = file_index * 1000 + r
        lines.append(json.dumps({
            "product_id": pid,
            "name": f"{rng.choice(PRODUCT_NAMES)} {pid}",
            "category": rng.choice(["home", "office", "garden"]),
            "price": round(rng.uniform(2, 300), 2),
            "in_stock": rng.random() > 0.2,
        }))
    return ("\n".join(lines) + "\n").encode("utf-8")


def customer_csv(file_index: int, rows: int = 20, bad_rows: Sequence[int] = (), gz: bool = False) -> bytes:
    """Customer CSV like the Lambda guide's, with optional malformed rows (wrong field count)."""
    lines = ["id,name,email,date,amount,status"]
    for r in range(rows):
        cid = file_index * 1000 + r
        if r in bad_rows:
            lines.append(f'{cid},"Broken, Row"')
            continue
        lines.append(f'{cid},Customer {cid},c{cid}@example.com,2026-11-{1 + r % 28:02d},{10 + r * 1.5:.2f},'
                     f'{["active", "pending", "inactive"][r % 3]}')
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return gzip.compress(data) if gz else data
