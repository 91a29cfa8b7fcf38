"""Small probes of a file's first bytes, without Spark: emptiness, gzip, binary, text.

Gzip is recognised by its magic bytes, whatever the name says."""
import csv
import gzip
import io
import zlib

PEEK_BYTES = 64 * 1024


GZIP_MAGIC = b"\x1f\x8b"


def looks_gzipped(name):
    """Whether the name says gzip (``.gz`` in any case)."""
    return name.lower().endswith(".gz")


def probe_file(storage, uri, size, encoding="utf-8"):
    """Look at the first bytes of a file, without Spark.

    Returns a dict: ``empty`` (bool), ``quarantine`` (reason or None), ``gzip``
    (the content starts with gzip's magic bytes, whatever the name says),
    ``sample`` (the decoded start of the text, BOM removed), ``lines`` (the
    sample's complete lines) and ``whole`` (the sample is the whole file). Detects corrupt or truncated gzip, a ``.gz`` name
    without gzip content, NUL bytes and text that is not in ``encoding``.
    """
    result = {"empty": False, "quarantine": None, "gzip": False, "sample": "", "lines": [], "whole": False}
    if size == 0:
        result["empty"] = True
        return result
    raw = storage.read_bytes(uri, PEEK_BYTES)
    whole = size is not None and len(raw) >= size
    result["gzip"] = raw[:2] == GZIP_MAGIC
    if looks_gzipped(uri) and not result["gzip"]:
        result["quarantine"] = "corrupt gzip: missing gzip header"
        return result
    if result["gzip"]:
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decomp.decompress(raw, 4 * PEEK_BYTES)
        except zlib.error as err:
            result["quarantine"] = "corrupt gzip: %s" % err
            return result
        if whole and not decomp.eof and not decomp.unconsumed_tail:
            result["quarantine"] = "corrupt gzip: truncated stream"
            return result
        whole = whole and decomp.eof and not decomp.unconsumed_tail
    else:
        data = raw
    wide = encoding.lower().replace("-", "").replace("_", "") in ("utf16", "utf16le", "utf16be", "utf32")
    nul = -1 if wide else data.find(b"\x00")
    if nul >= 0:
        result["quarantine"] = "binary content: NUL byte at offset %d" % nul
        return result
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        # A multi-byte character cut by the sample boundary is fine.
        if whole or err.start < len(data) - 4:
            result["quarantine"] = "not %s text: invalid byte at offset %d" % (encoding, err.start)
            return result
        text = data[:err.start].decode(encoding)
    text = text.lstrip("\ufeff")
    result["sample"] = text
    result["whole"] = whole
    if whole and not text.strip():
        result["empty"] = True
    complete = text if whole else text[:text.rfind("\n") + 1]
    result["lines"] = [line for line in complete.splitlines() if line.strip()]
    return result


def csv_header(sample, options=None):
    """First CSV record of a text sample (the header, or the first row), or None.

    ``options``: the job's CSV options (delimiter, quote, escape).
    """
    options = options or {}
    quote = options.get("quote", '"')
    escape = options.get("escape", quote)
    dialect = {"delimiter": options.get("delimiter", ","), "quotechar": quote,
               "doublequote": escape == quote, "escapechar": None if escape == quote else escape}
    try:
        return next(csv.reader(io.StringIO(sample), **dialect))
    except StopIteration:
        return None


def sniff_format(sample):
    stripped = sample.lstrip()
    return "JSON" if stripped[:1] in ("{", "[") else "CSV"


def read_text(storage, uri, encoding="utf-8"):
    """The whole file as text, gunzipped when its content is gzip."""
    data = storage.read_bytes(uri)
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    return data.decode(encoding, errors="replace").lstrip("\ufeff")


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
