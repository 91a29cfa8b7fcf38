"""IAM harness: moto's server enforces the policy of a principal, for boto3 and for Hadoop S3A.

The principal is an IAM user whose only policy is the one under test. Every check that
something is allowed sits next to one that shows the same request denied, and the signature
patches are shown to be necessary by running S3A without them.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from cdk_event_driven_glue_workflow_tools.localaws import Credentials
from cdk_event_driven_glue_workflow_tools.moto_patches import (
    SIGNATURE_PATCHES,
    patch_moto_to_verify_signed_user_agent,
)
from harness_fixtures import hadoop_overrides, running_local_aws, s3_spark_session

READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt-a/in/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bkt-a"},
    ],
}


def _writer_policy(put: bool) -> dict:
    actions = ["s3:GetObject", "s3:DeleteObject"] + (["s3:PutObject"] if put else [])
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "arn:aws:s3:::bkt-a/out/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bkt-a"},
            # moto checks the bulk delete (POST ?delete, used by S3A to drop directory
            # markers) as s3:DeleteObject on the bucket ARN, where AWS checks each object ARN.
            {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::bkt-a"},
        ],
    }


OBJECTS = {
    ("bkt-a", "in/x"): b'{"k": "in"}\n',
    ("bkt-a", "in/a b.json"): b'{"k": "space"}\n',
    ("bkt-a", "other/x"): b'{"k": "other"}\n',
    ("bkt-b", "in/x"): b'{"k": "b"}\n',
}


@pytest.fixture(scope="module")
def aws():
    with running_local_aws() as aws:
        s3 = aws.client("s3")
        for bucket in ("bkt-a", "bkt-b"):
            s3.create_bucket(Bucket=bucket)
        for (bucket, key), body in OBJECTS.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        aws.queue_url = aws.client("sqs").create_queue(QueueName="ledger")["QueueUrl"]
        aws.reader = aws.principal("reader", READER_POLICY)
        aws.writer = aws.principal("writer", _writer_policy(put=True))
        aws.writer_without_put = aws.principal("writer-no-put", _writer_policy(put=False))
        aws.enforce_iam()
        yield aws


@pytest.fixture(scope="module")
def spark(aws):
    with s3_spark_session(aws, aws.reader) as spark:
        yield spark


@pytest.fixture
def enforced(aws):
    """Enforcement with both signature patches, also after a test that changed it."""
    aws.enforce_iam()
    yield aws
    aws.enforce_iam()


@pytest.fixture
def signature_failures(monkeypatch):
    """Records the requests whose signature moto's verifier rejects (then rejects them).

    S3A's first request is a HEAD, whose 403 has no body: the client sees "403 FORBIDDEN"
    either way, this tells a bad signature from a denied action."""
    from moto.iam.access_control import IAMRequestBase

    failures: list[str] = []
    check = IAMRequestBase.check_signature

    def recording_check(self):
        try:
            check(self)
        except Exception:
            failures.append(f"{self._method} {self._path}")
            raise

    monkeypatch.setattr(IAMRequestBase, "check_signature", recording_check)
    return failures


def _status(error: ClientError) -> int:
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


def _read(spark, path: str) -> list[str]:
    return sorted(r["k"] for r in spark.read.json(path).collect())


def _as(spark, creds: Credentials):
    return hadoop_overrides(spark, {"fs.s3a.access.key": creds.access_key_id,
                                    "fs.s3a.secret.key": creds.secret_access_key})


# --- boto3 -----------------------------------------------------------------------------

def test_boto3_allowed_read_and_list(enforced):
    s3 = enforced.client("s3", enforced.reader)
    assert s3.get_object(Bucket="bkt-a", Key="in/x")["Body"].read() == OBJECTS[("bkt-a", "in/x")]
    listed = s3.list_objects_v2(Bucket="bkt-a", Prefix="in/")["Contents"]
    assert sorted(o["Key"] for o in listed) == ["in/a b.json", "in/x"]


def test_moto_as_shipped_refuses_a_list_bucket_principal_its_listing(aws, enforced):
    """Negative control of the S3 action patch: moto 5.2.6 authorizes ListObjectsV2 by its API
    name, which no IAM policy names; with the patch it is s3:ListBucket, as IAM authorizes it."""
    aws.enforce_iam(s3_patches=())
    with pytest.raises(ClientError) as denied:
        aws.client("s3", aws.reader).list_objects_v2(Bucket="bkt-a", Prefix="in/")
    assert _status(denied.value) == 403
    aws.enforce_iam()
    assert aws.client("s3", aws.reader).list_objects_v2(Bucket="bkt-a", Prefix="in/")["KeyCount"] == 2


@pytest.mark.parametrize("bucket,key", [("bkt-a", "other/x"), ("bkt-b", "in/x")])
def test_boto3_denied_outside_the_policy(enforced, bucket, key):
    with pytest.raises(ClientError) as denied:
        enforced.client("s3", enforced.reader).get_object(Bucket=bucket, Key=key)
    assert _status(denied.value) == 403
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_boto3_denied_with_a_wrong_secret(enforced):
    wrong = Credentials(enforced.reader.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as denied:
        enforced.client("s3", wrong).get_object(Bucket="bkt-a", Key="in/x")
    assert _status(denied.value) == 403
    assert denied.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_boto3_default_credentials_are_not_a_principal(enforced):
    with pytest.raises(ClientError) as denied:
        enforced.client("s3").list_buckets()
    assert _status(denied.value) == 403
    assert denied.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_sqs_receive_denied_without_the_action(enforced):
    with pytest.raises(ClientError) as denied:
        enforced.client("sqs", enforced.reader).receive_message(QueueUrl=enforced.queue_url)
    assert _status(denied.value) == 403
    # moto answers SQS's JSON protocol with an XML error body; the code is in the text
    assert "is not authorized to perform: sqs:ReceiveMessage" in str(denied.value)


def test_sqs_receive_allowed_with_the_action_on_the_queue_arn(enforced):
    arn = f"arn:aws:sqs:{enforced.region}:{enforced.account_id}:ledger"
    consumer = enforced.principal("consumer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": arn}]})
    assert enforced.enforced  # principal() restored enforcement
    reply = enforced.client("sqs", consumer).receive_message(QueueUrl=enforced.queue_url)
    assert reply.get("Messages", []) == []


def test_moto_authorizes_glue_against_star_not_the_resource_arn(enforced):
    """Pins the limit documented in localaws: a Glue grant on a specific ARN is denied."""
    enforced.relax_iam()
    enforced.client("glue").create_database(DatabaseInput={"Name": "db"})
    catalog = f"arn:aws:glue:{enforced.region}:{enforced.account_id}:catalog"
    specific = enforced.principal("glue-specific", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "glue:GetDatabase",
         "Resource": [catalog, f"arn:aws:glue:{enforced.region}:{enforced.account_id}:database/db"]}]})
    star = enforced.principal("glue-star", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "glue:GetDatabase", "Resource": "*"}]})
    enforced.enforce_iam()
    with pytest.raises(ClientError) as denied:
        enforced.client("glue", specific).get_database(Name="db")
    assert _status(denied.value) == 403
    assert enforced.client("glue", star).get_database(Name="db")["Database"]["Name"] == "db"


# --- Hadoop S3A (AWS SDK for Java v1) ----------------------------------------------------

def test_s3a_allowed_read(enforced, spark):
    assert _read(spark, "s3://bkt-a/in/x") == ["in"]
    # a key with a space: S3A lists prefix "in/a b.json/" first (the '+' patch)
    assert _read(spark, "s3://bkt-a/in/a b.json") == ["space"]


@pytest.mark.parametrize("path", ["s3://bkt-a/other/x", "s3://bkt-b/in/x"])
def test_s3a_denied_outside_the_policy(enforced, spark, signature_failures, path):
    with pytest.raises(Exception, match=r"AccessDeniedException.*403"):
        spark.read.json(path).collect()
    assert signature_failures == []  # signed right, refused by the policy


def test_s3a_denied_with_a_wrong_secret(enforced, spark, signature_failures):
    with _as(spark, Credentials(enforced.reader.access_key_id, "not-the-secret")):
        with pytest.raises(Exception, match=r"AccessDeniedException.*403"):
            spark.read.json("s3://bkt-a/in/x").collect()
    assert "HEAD /bkt-a/in/x" in signature_failures, signature_failures


def test_s3a_is_refused_without_the_signature_patches(aws, enforced, spark, signature_failures):
    aws.enforce_iam(signature_patches=())
    with hadoop_overrides(spark, {}):  # fresh S3A clients
        with pytest.raises(Exception, match=r"AccessDeniedException.*403"):
            spark.read.json("s3://bkt-a/in/x").collect()
    assert "HEAD /bkt-a/in/x" in signature_failures, signature_failures
    # boto3 does not sign User-Agent: the same principal passes, so it is the Java signing
    assert aws.client("s3", aws.reader).get_object(Bucket="bkt-a", Key="in/x")["Body"].read()


def test_s3a_with_only_the_user_agent_patch_fails_listing_a_key_with_a_space(
        aws, enforced, spark, signature_failures):
    aws.enforce_iam(signature_patches=(patch_moto_to_verify_signed_user_agent,))
    with hadoop_overrides(spark, {}):
        assert _read(spark, "s3://bkt-a/in/x") == ["in"]
        assert signature_failures == []
        with pytest.raises(Exception, match=r"AccessDeniedException.*403"):
            spark.read.json("s3://bkt-a/in/a b.json").collect()
    # what failed is the listing S3A sends for the key: "+" in the URL, "%20" in the signature
    assert signature_failures, "expected moto to reject a signature"
    assert all(f.startswith("GET /bkt-a/?list-type=2") and "prefix=in%2Fa+b.json%2F" in f
               for f in signature_failures), signature_failures


def test_s3a_write_allowed_with_put_and_refused_without(enforced, spark):
    df = spark.createDataFrame([("w",)], "k string")
    with _as(spark, enforced.writer):
        df.write.mode("overwrite").json("s3://bkt-a/out/ok/")
        assert _read(spark, "s3://bkt-a/out/ok/") == ["w"]
    with _as(spark, enforced.writer_without_put):
        with pytest.raises(Exception, match=r"AccessDenied|403"):
            df.write.mode("overwrite").json("s3://bkt-a/out/refused/")
    keys = enforced.client("s3", enforced.writer).list_objects_v2(Bucket="bkt-a", Prefix="out/")
    assert not [o["Key"] for o in keys.get("Contents", []) if o["Key"].startswith("out/refused/")]


def test_moto_does_not_evaluate_conditions_of_identity_policies(enforced):
    """Pins the limit documented in localaws: a condition that cannot hold is ignored."""
    never = {"StringEquals": {"aws:username": "somebody-else"}}
    allow = enforced.principal("conditional-allow", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt-a/in/*",
         "Condition": never}]})
    deny = enforced.principal("conditional-deny", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt-a/in/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*", "Condition": never}]})
    # AWS would deny the first (the Allow does not apply) and allow the second
    assert enforced.client("s3", allow).get_object(Bucket="bkt-a", Key="in/x")["Body"].read()
    with pytest.raises(ClientError) as denied:
        enforced.client("s3", deny).get_object(Bucket="bkt-a", Key="in/x")
    assert _status(denied.value) == 403


def test_cloudwatch_calls_are_authorized_as_cloudwatch_actions_only_with_the_patch(aws):
    """moto checks CloudWatch calls as monitoring:<Action> (the signing name); IAM's prefix
    is cloudwatch. As shipped, a policy AWS accepts is refused; with the patch it is not,
    and a policy without the action is still refused."""
    from cdk_event_driven_glue_workflow_tools.moto_patches import (
        patch_moto_to_authorize_cloudwatch_calls_as_cloudwatch_actions as cloudwatch_prefix,
        patch_moto_to_check_only_the_action_of_a_call_without_a_resource as action_only)

    metrics = aws.principal("metrics", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]})
    datum = {"Namespace": "HarnessIamCheck", "MetricData": [{"MetricName": "Probe", "Value": 1.0}]}
    try:
        aws.enforce_iam(SIGNATURE_PATCHES + (action_only,))
        with pytest.raises(ClientError, match="not authorized to perform: monitoring:PutMetricData"):
            aws.client("cloudwatch", metrics).put_metric_data(**datum)
        aws.enforce_iam(SIGNATURE_PATCHES + (action_only, cloudwatch_prefix))
        aws.client("cloudwatch", metrics).put_metric_data(**datum)
        with pytest.raises(ClientError, match="not authorized to perform: cloudwatch:PutMetricData"):
            aws.client("cloudwatch", aws.reader).put_metric_data(**datum)
    finally:
        aws.enforce_iam()


def test_glue_catalog_calls_are_checked_on_the_catalog_database_and_table_arns(aws):
    """With the authorization patches (as every enforced job run has them), a Glue Data Catalog
    call needs the catalog, the database and the table, as AWS Glue checks them; another table
    of the same database, or a policy without the catalog, is refused."""
    from cdk_event_driven_glue_workflow_tools.moto_patches import AUTHORIZATION_PATCHES

    aws.relax_iam()
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "shop"})
    for table in ("orders", "customers"):
        glue.create_table(DatabaseName="shop", TableInput={"Name": table})
    arn = f"arn:aws:glue:{aws.region}:{aws.account_id}"
    hierarchy = [f"{arn}:catalog", f"{arn}:database/shop", f"{arn}:table/shop/orders"]
    reader = aws.principal("orders-reader", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "glue:GetTable", "Resource": hierarchy}]})
    no_catalog = aws.principal("orders-reader-no-catalog", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "glue:GetTable", "Resource": hierarchy[1:]}]})
    try:
        aws.enforce_iam(SIGNATURE_PATCHES + AUTHORIZATION_PATCHES)
        assert aws.client("glue", reader).get_table(DatabaseName="shop", Name="orders")["Table"]["Name"] == "orders"
        with pytest.raises(ClientError, match="not authorized to perform: glue:GetTable"):
            aws.client("glue", reader).get_table(DatabaseName="shop", Name="customers")
        with pytest.raises(ClientError, match="not authorized to perform: glue:GetTable"):
            aws.client("glue", no_catalog).get_table(DatabaseName="shop", Name="orders")
    finally:
        aws.enforce_iam()
