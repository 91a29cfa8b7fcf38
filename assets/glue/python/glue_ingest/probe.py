"""Small probes of a file's first bytes, without Spark: emptiness, gzip, binary, text."""
import csv
import gzip
import io
import zlib

PEEK_BYTES = 64 * 1024


def probe_file(storage, uri, size):
    """Look at the first bytes of a file, without Spark.

    Returns a dict: empty (bool), quarantine (reason or None) and sample
    (the decoded start of the text, BOM removed). Detects corrupt or
    truncated gzip, NUL bytes and invalid UTF-8 in the sample.
    """
    result = {"empty": False, "quarantine": None, "sample": ""}
    if size == 0:
        result["empty"] = True
        return result
    raw = storage.read_bytes(uri, PEEK_BYTES)
    whole = size is not None and len(raw) >= size
    if uri.lower().endswith(".gz"):
        if raw[:2] != b"\x1f\x8b":
            result["quarantine"] = "corrupt gzip: missing gzip header"
            return result
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decomp.decompress(raw, 4 * PEEK_BYTES)
        except zlib.error as err:
            result["quarantine"] = "corrupt gzip: %s" % err
            return result
        if whole and not decomp.eof and not decomp.unconsumed_tail:
            result["quarantine"] = "corrupt gzip: truncated stream"
            return result
        whole = whole and decomp.eof
    else:
        data = raw
    nul = data.find(b"\x00")
    if nul >= 0:
        result["quarantine"] = "binary content: NUL byte at offset %d" % nul
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        # A multi-byte character cut by the sample boundary is fine.
        if whole or err.start < len(data) - 4:
            result["quarantine"] = "not UTF-8 text: invalid byte at offset %d" % err.start
            return result
        text = data[:err.start].decode("utf-8")
    text = text.lstrip("\ufeff")
    result["sample"] = text
    if whole and not text.strip():
        result["empty"] = True
    return result


def csv_header(sample):
    """First CSV record of a text sample (the header), or None."""
    try:
        return next(csv.reader(io.StringIO(sample)))
    except StopIteration:
        return None


def sniff_format(sample):
    stripped = sample.lstrip()
    return "JSON" if stripped[:1] in ("{", "[") else "CSV"


def read_text(storage, uri):
    data = storage.read_bytes(uri)
    if uri.lower().endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def locate_positions(text, raw_records):
    """1-based line numbers where each raw record starts in text (in order).

    Records are searched in file order; a record not found gets None.
    """
    def find_at_line_start(needle, start):
        idx = text.find(needle, start)
        while idx > 0 and text[idx - 1] != "\n":
            idx = text.find(needle, idx + 1)
        return idx

    out, cursor = [], 0
    for raw in raw_records:
        needle = (raw or "").rstrip("\r\n")
        if not needle:
            out.append(None)
            continue
        idx = find_at_line_start(needle, cursor)
        if idx < 0:
            idx = find_at_line_start(needle, 0)
        if idx < 0:
            out.append(None)
            continue
        out.append(text.count("\n", 0, idx) + 1)
        cursor = idx + len(needle)
    return out
