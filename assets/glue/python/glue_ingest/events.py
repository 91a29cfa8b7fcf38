"""Pure parsing of the event bodies the ledger holds and of Glue's run properties.

Every function takes text and returns plain values; nothing here does I/O.
"""
import json
from urllib.parse import unquote_plus

#: The CloudTrail calls that create an object.
OBJECT_CREATING_CALLS = ("PutObject", "CompleteMultipartUpload", "CopyObject")


def _ref(bucket, key, etag=None, version_id=None, size=None, sequencer=None):
    return {"bucket": bucket, "key": key, "etag": (etag or "").strip('"') or None,
            "version_id": version_id, "size": size, "sequencer": sequencer}


def parse_event(body):
    """S3 object references in one SQS message body.

    Accepts the EventBridge event the rule sends to SQS, in both S3 shapes:

    * "Object Created" (S3 EventBridge notification): ``detail.object.key`` is
      used verbatim; the S3 EventBridge event structure documents it as the
      object key (not the URL-encoded form of S3 notifications to SQS/SNS/Lambda);
    * "AWS API Call via CloudTrail" for PutObject, CompleteMultipartUpload and
      CopyObject: ``requestParameters.key`` verbatim, no ETag (a HEAD gives it).
      A call that failed (``errorCode`` present) created nothing and is refused.

    Classic S3 notifications (``{"Records": [...]}``) are accepted too; their
    keys are URL-encoded ('+' for space) and are decoded with ``unquote_plus``.
    Returns a list of dicts: bucket, key, etag, version_id, size, sequencer.
    Raises ValueError for a body that is not an S3 object-created event.
    """
    event = json.loads(body)
    if isinstance(event, dict) and "Records" in event:
        refs = []
        for rec in event["Records"]:
            if not str(rec.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3 = rec.get("s3") or {}
            obj = s3.get("object") or {}
            refs.append(_ref(s3["bucket"]["name"], unquote_plus(obj["key"]),
                             obj.get("eTag") or obj.get("etag"), obj.get("versionId"),
                             obj.get("size"), obj.get("sequencer")))
        return refs
    if not isinstance(event, dict) or event.get("source") != "aws.s3":
        raise ValueError("not an S3 event")
    detail = event.get("detail") or {}
    dtype = event.get("detail-type")
    if dtype == "Object Created":
        obj = detail["object"]
        return [_ref(detail["bucket"]["name"], obj["key"], obj.get("etag"),
                     obj.get("version-id"), obj.get("size"), obj.get("sequencer"))]
    if dtype == "AWS API Call via CloudTrail":
        if detail.get("eventName") not in OBJECT_CREATING_CALLS:
            raise ValueError("unsupported CloudTrail event %s" % detail.get("eventName"))
        if detail.get("errorCode"):
            raise ValueError("failed CloudTrail call %s (%s) created no object"
                             % (detail.get("eventName"), detail.get("errorCode")))
        params = detail.get("requestParameters") or {}
        response = detail.get("responseElements") or {}
        return [_ref(params["bucketName"], params["key"],
                     version_id=response.get("x-amz-version-id"))]
    raise ValueError("unsupported detail-type %r" % dtype)


def parse_event_ids(value):
    """The Glue ``aws:eventIds`` run property ("[id1,id2]" or JSON) as a list, or None."""
    if value is None:
        return None
    if isinstance(value, list):
        return value
    text = str(value).strip()
    try:
        parsed = json.loads(text)
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    except ValueError:
        pass
    text = text.strip("[]")
    return [p.strip().strip('"') for p in text.split(",") if p.strip()]
