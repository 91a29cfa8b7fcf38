"""S3 URIs, as plain strings."""


def split_s3(uri):
    """("bucket", "key") of an ``s3://bucket/key`` URI."""
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    return bucket, key


def object_uri(bucket, key):
    return "s3://%s/%s" % (bucket, key)


def join_uri(prefix, *parts):
    """Join a prefix URI (with or without trailing slash) and relative parts."""
    out = prefix if prefix.endswith("/") else prefix + "/"
    return out + "/".join(p.strip("/") for p in parts if p)


def as_prefix(uri):
    return uri if uri.endswith("/") else uri + "/"


#: Characters a key may hold and still be read by Spark under its own name.
_HADOOP_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=+,@/ ")
#: File name suffixes Hadoop picks a decompression codec by (case-sensitive).
CODEC_SUFFIXES = (".gz", ".bz2", ".deflate", ".lz4", ".snappy", ".zst", ".br", ".lzo")


def hadoop_safe(path, gzip):
    """Whether Spark reads this key or local path, named explicitly, as exactly this one file.

    Spark's file listing drops names that start with ``_`` or ``.`` even when
    named; ``?*[]{}`` glob; Hadoop's ``Path`` rejects ``:`` in a relative part,
    normalizes ``//``, ``.`` and ``..`` segments and may trim spaces; and Hadoop
    picks a codec by a case-sensitive suffix. Anything outside a plain ASCII
    alphabet is treated as unsafe too, so every other key is read through a
    staged copy with a safe name. ``gzip`` says whether the content is gzip.
    """
    body = path[1:] if path.startswith("/") else path
    if not body or any(ch not in _HADOOP_SAFE for ch in body):
        return False
    segments = body.split("/")
    if any(seg in ("", ".", "..") or seg != seg.strip() for seg in segments):
        return False
    if segments[-1][0] in "_.":
        return False
    if gzip != body.endswith(".gz"):
        return False
    return gzip or not body.lower().endswith(CODEC_SUFFIXES)
