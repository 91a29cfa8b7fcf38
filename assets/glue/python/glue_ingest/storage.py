"""Byte-level storage: S3 through boto3, or local paths (the benchmark's local files)."""
import hashlib
import json
import os
import shutil
import uuid
from urllib.parse import unquote

from .uris import join_uri, split_s3


class Storage:
    """Byte-level storage on s3:// (boto3) or local paths / file:// URIs.

    An s3:// URI is always S3: tests and the local runner give the job an S3
    endpoint over HTTP (``AWS_ENDPOINT_URL``), never a folder standing in for it.
    """

    def __init__(self, s3_client=None):
        self._s3 = s3_client

    @property
    def s3(self):
        if self._s3 is None:
            import boto3
            self._s3 = boto3.client("s3")
        return self._s3

    # -- addressing
    def local_path(self, uri):
        """Local filesystem path of a URI, or None if it lives on S3."""
        if uri.startswith("s3://"):
            return None
        if uri.startswith("file://"):
            return unquote(uri[len("file://"):])
        return uri

    def spark_path(self, uri):
        """Path to hand to Spark: local path, or the s3:// URI on Glue."""
        local = self.local_path(uri)
        return local if local is not None else uri

    # -- reads
    def exists(self, uri):
        local = self.local_path(uri)
        if local is not None:
            return os.path.isfile(local)
        bucket, key = split_s3(uri)
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def head(self, uri):
        """(size, etag) of an object; the local ETag is the content MD5.

        Raises FileNotFoundError if the object does not exist.
        """
        local = self.local_path(uri)
        if local is not None:
            if not os.path.isfile(local):
                raise FileNotFoundError(uri)
            md5 = hashlib.md5()
            with open(local, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    md5.update(chunk)
            return os.path.getsize(local), md5.hexdigest()
        bucket, key = split_s3(uri)
        try:
            resp = self.s3.head_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(uri) from err
            raise
        return resp["ContentLength"], resp["ETag"].strip('"')

    def read_bytes(self, uri, length=None):
        local = self.local_path(uri)
        if local is not None:
            with open(local, "rb") as fh:
                return fh.read() if length is None else fh.read(length)
        bucket, key = split_s3(uri)
        kwargs = {"Bucket": bucket, "Key": key}
        if length is not None:
            kwargs["Range"] = "bytes=0-%d" % (length - 1)
        try:
            return self.s3.get_object(**kwargs)["Body"].read()
        except self.s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise

    def read_json(self, uri):
        return json.loads(self.read_bytes(uri).decode("utf-8"))

    def list(self, prefix_uri):
        """All object URIs under a prefix (recursive), sorted."""
        local = self.local_path(prefix_uri)
        if local is not None:
            out = []
            if not os.path.isdir(local):
                return out
            for root, _dirs, files in os.walk(local):
                for name in files:
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, local).replace(os.sep, "/")
                    out.append(join_uri(prefix_uri, rel))
            return sorted(out)
        bucket, key = split_s3(prefix_uri)
        if key and not key.endswith("/"):
            key += "/"
        out = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                out.append("s3://%s/%s" % (bucket, item["Key"]))
        return sorted(out)

    # -- writes
    def write_bytes(self, uri, data):
        """Atomic write: readers see the old state or the whole new object."""
        local = self.local_path(uri)
        if local is not None:
            os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
            tmp = "%s.tmp-%s" % (local, uuid.uuid4().hex[:8])
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, local)
            return
        bucket, key = split_s3(uri)
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def write_json(self, uri, obj):
        self.write_bytes(uri, json.dumps(obj, indent=1, sort_keys=True, default=str).encode("utf-8"))

    def copy(self, src_uri, dst_uri):
        src_local, dst_local = self.local_path(src_uri), self.local_path(dst_uri)
        if src_local is not None and dst_local is not None:
            os.makedirs(os.path.dirname(dst_local) or ".", exist_ok=True)
            tmp = "%s.tmp-%s" % (dst_local, uuid.uuid4().hex[:8])
            shutil.copyfile(src_local, tmp)
            os.replace(tmp, dst_local)
            return
        if src_local is None and dst_local is None:
            sb, sk = split_s3(src_uri)
            db, dk = split_s3(dst_uri)
            # Managed copy: single CopyObject, or multipart copy above 8 MB parts.
            self.s3.copy({"Bucket": sb, "Key": sk}, db, dk)
            return
        self.write_bytes(dst_uri, self.read_bytes(src_uri))

    def delete(self, uri):
        local = self.local_path(uri)
        if local is not None:
            if os.path.isfile(local):
                os.remove(local)
            return
        bucket, key = split_s3(uri)
        self.s3.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, prefix_uri):
        local = self.local_path(prefix_uri)
        if local is not None:
            shutil.rmtree(local, ignore_errors=True)
            return
        uris = self.list(prefix_uri)
        bucket, _ = split_s3(prefix_uri)
        for i in range(0, len(uris), 1000):
            chunk = [{"Key": split_s3(u)[1]} for u in uris[i:i + 1000]]
            self.s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
