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
