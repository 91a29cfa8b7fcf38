"""A local AWS endpoint over HTTP (moto's server) for S3, SQS, Glue, IAM, EventBridge, CloudWatch.

One ``ThreadedMotoServer`` on ``127.0.0.1:<free port>`` serves every service moto
implements behind one endpoint; requests are routed by the service name in the
SigV4 ``Authorization`` header, so S3 (path-style), SQS, Glue, IAM, STS, EventBridge,
CloudWatch and CloudWatch Logs all answer on :attr:`LocalAws.endpoint`. Clients talk
real HTTP to it: boto3 in this process, boto3 in child processes (``AWS_ENDPOINT_URL``),
and the JVM (Hadoop S3A, the Iceberg AWS bundle) through their own SDKs.

Usage::

    with LocalAws() as aws:
        aws.client("s3").create_bucket(Bucket="bkt-a")
        creds = aws.principal("reader", {"Version": "2012-10-17", "Statement": [...]})
        aws.enforce_iam()            # from now on every request is signed-checked and authorized
        aws.client("s3", creds).get_object(Bucket="bkt-a", Key="in/x")
        subprocess.run([...], env=aws.env(creds), check=True)

What moto's IAM enforcement checks (read in moto 5.2.6's ``moto/iam/access_control.py``,
``moto/core/authorization.py``, ``moto/s3/responses.py``; the Glue, Condition and
signature points are pinned by tests in ``test/harness/test_iam.py``):

* Switch: enforcement applies once ``ActionAuthenticatorMixin.request_count`` reaches
  ``moto.settings.INITIAL_NO_AUTH_ACTION_COUNT`` (default ``inf``: never). Both are
  process-global: they apply to every moto in this process (``mock_aws`` included).
  :meth:`LocalAws.enforce_iam` posts ``0`` to ``/moto-api/reset-auth`` (enforce from the
  next request); :meth:`LocalAws.relax_iam` posts ``inf`` (``float("inf")``) to switch it off.
* Authentication: the access key must belong to an IAM user (keys created by
  ``CreateAccessKey``) or to an STS assumed role; any other key (the default
  ``test``/``test``) gets ``InvalidAccessKeyId``/``InvalidClientTokenId`` (403). The SigV4
  signature is recomputed with the user's secret (botocore's signer): a wrong secret
  gets ``SignatureDoesNotMatch`` (403). A session token on a user key is refused.
* Which policies: the user's inline and attached policies and those of its groups
  (for an assumed role, the role's inline and attached policies). Not evaluated:
  resource policies (bucket policies, queue policies), permission boundaries, SCPs,
  session policies.
* S3 requests are authorized as ``s3:<Action>`` against an ARN: object requests against
  ``arn:aws:s3:::<bucket>/<key>`` (GET and HEAD object -> ``s3:GetObject``, PUT and
  multipart and copy -> ``s3:PutObject`` on the destination key only, DELETE ->
  ``s3:DeleteObject``), bucket requests against ``arn:aws:s3:::<bucket>`` (GET bucket,
  i.e. ListObjects/ListObjectsV2 -> ``s3:ListBucket``; HEAD bucket -> ``s3:HeadBucket``,
  an action that does not exist in real IAM, where HeadBucket needs ``s3:ListBucket``).
  The bulk delete ``POST ?delete`` is checked as ``s3:DeleteObject`` on the *bucket* ARN;
  when that is denied every key of the batch is reported as ``AccessDenied`` (real S3
  checks each object ARN). The ``s3:prefix`` condition of ``ListBucket`` is not evaluated.
* SQS requests are authorized against the queue's ARN (``sqs:ReceiveMessage`` on
  ``arn:aws:sqs:<region>:<account>:<queue>``); IAM role operations against the role ARN.
* Every other service (Glue, EventBridge, CloudWatch, Logs, ...) is authorized by the
  action only, against the literal resource ``"*"``: a statement whose ``Resource`` is a
  specific ARN (``arn:aws:glue:...:table/db/t``) never matches, so such a grant is
  *denied* by moto although AWS would allow it; only ``"Resource": "*"`` grants work.
* Matching: ``Action``/``NotAction`` and ``Resource`` patterns support ``*`` only
  (translated to a regular expression without escaping, case-sensitive: ``?`` is not a
  wildcard, ``.`` matches any character, ``s3:getobject`` does not match
  ``s3:GetObject``). ``NotResource`` is ignored (such a statement applies to every
  resource). An explicit ``Deny`` wins over ``Allow``.
* ``Condition`` blocks are not evaluated for identity policies: moto has no request
  context values there, so every condition counts as satisfied (an ``Allow`` with a
  condition always allows, a ``Deny`` with a condition always denies). Only
  ``StringEquals`` exists at all, and only for role trust policies.

The two signature patches below are TEST-ONLY changes of the emulator, applied in the
process that hosts the server (this one) by :meth:`LocalAws.enforce_iam` and removed by
:meth:`LocalAws.relax_iam`; they alter nothing but moto's signature verification (they
replace methods of moto's verifier classes; botocore's own signer and the request seen
by the S3/SQS/Glue backends are untouched). Without them, every request the AWS SDK for
Java v1 (Hadoop S3A) signs is refused with 403.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
# Credentials of the unauthenticated phase; moto accepts any key while enforcement is off.
ADMIN_ACCESS_KEY_ID = "test"
ADMIN_SECRET_ACCESS_KEY = "test"


@dataclasses.dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


ADMIN = Credentials(ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY)


# --- TEST-ONLY patches of moto's signature verification ---------------------------------

#: The moto release the patches and the extension below were written for and are tested on
#: (``test/harness/test_moto_internals.py``). The tools package pins it: moto 5.2.6 rewrote
#: its request parsing in a patch release, and a patch of private internals is only proven
#: on the release it ran on.
PROVEN_MOTO_VERSION = "5.2.6"


class MotoInternalsChanged(RuntimeError):
    """A test-only patch of moto found moto without an internal it relies on."""


def moto_internal(path: str, patch: str) -> Any:
    """The moto object at ``path`` (``"module:Class.attribute"``), which ``patch`` relies on.

    Raises :class:`MotoInternalsChanged` naming the internal, the patch and the moto
    versions (installed and proven), instead of letting the patch fail later as a 500 or
    an ``AccessDenied`` on a request that should pass."""
    import moto

    module_name, _, attributes = path.partition(":")
    try:
        import importlib

        value: Any = importlib.import_module(module_name)
        for name in filter(None, attributes.split(".")):
            value = getattr(value, name)
            if getattr(value, "__isabstractmethod__", False):  # declared, not implemented
                raise AttributeError(f"{name} is abstract")
    except (ImportError, AttributeError) as error:
        raise MotoInternalsChanged(
            f"the {patch} patch relies on moto's {path}, which moto {moto.__version__} lacks ({error}); "
            f"the patch was written for moto {PROVEN_MOTO_VERSION}: pin that version, or port the patch "
            "(cdk_event_driven_glue_workflow_tools.localaws)") from error
    return value


def _internals(*paths: str) -> Callable[[Callable[[], Callable[[], None]]], Callable[[], Callable[[], None]]]:
    """Declares the moto internals a patch relies on; they are checked before it installs."""
    def declare(patch: Callable[[], Callable[[], None]]) -> Callable[[], Callable[[], None]]:
        import functools

        @functools.wraps(patch)
        def checked() -> Callable[[], None]:
            for path in paths:
                moto_internal(path, patch.__name__)
            return patch()

        checked.moto_internals = paths  # type: ignore[attr-defined]
        return checked
    return declare


def _install(cls: type, name: str, method: Callable[..., Any], label: str) -> Callable[[], None]:
    """Sets ``cls.name`` to ``method`` (named ``cls.name[label patch]`` in tracebacks) and
    returns what restores the class's own attribute, or removes it if the class inherited
    it. Patches of one attribute stack: undo them last-in, first-out."""
    own = cls.__dict__.get(name)
    method.__qualname__ = f"{cls.__name__}.{name}[{label} patch]"
    setattr(cls, name, method)

    def remove() -> None:
        if own is None:
            delattr(cls, name)
        else:
            setattr(cls, name, own)

    return remove


@_internals("moto.iam.access_control:IAMRequest._create_auth", "moto.iam.access_control:S3IAMRequest._create_auth")
def patch_moto_to_verify_signed_user_agent() -> Callable[[], None]:
    """TEST-ONLY: let moto's signature check include ``User-Agent`` when the client signed it.

    Reason: the AWS SDK for Java v1 (used by Hadoop S3A 3.3.4) lists ``user-agent`` in
    ``SignedHeaders`` and signs it. AWS verifies exactly the headers a client lists there.
    moto recomputes the signature with botocore's signer, whose ``headers_to_sign`` always
    drops ``user-agent`` (``botocore.auth.SIGNED_HEADERS_BLACKLIST``), so every S3A request
    gets ``SignatureDoesNotMatch`` (403). This patch changes only the signer moto's verifier
    builds (``_create_auth`` of moto's ``IAMRequest`` and ``S3IAMRequest``): it adds
    ``user-agent`` back when the request moto reconstructed carries it (moto keeps only the
    headers named in ``SignedHeaders``). botocore's global blacklist, and thus how boto3
    clients sign, is left alone. Returns a function that removes the patch.
    """
    from moto.iam.access_control import IAMRequest, S3IAMRequest

    def install(cls: type) -> Callable[[], None]:
        original = getattr(cls, "_create_auth")

        def _create_auth(self: Any, credentials: Any) -> Any:
            auth = original(self, credentials)
            base_headers_to_sign = auth.headers_to_sign

            def headers_to_sign(request: Any) -> Any:
                headers = base_headers_to_sign(request)
                user_agent = request.headers.get("User-Agent")
                if user_agent is not None and "user-agent" not in headers:
                    headers["user-agent"] = user_agent
                return headers

            auth.headers_to_sign = headers_to_sign
            return auth

        return _install(cls, "_create_auth", _create_auth, "signed-user-agent")

    return _undo_all([install(cls) for cls in (IAMRequest, S3IAMRequest)])


@_internals("moto.iam.access_control:S3IAMRequest._create_aws_request")
def patch_moto_to_read_plus_as_space_in_signed_query() -> Callable[[], None]:
    """TEST-ONLY: let moto's S3 signature check read ``+`` in the query string as a space.

    Reason: for a listing whose prefix contains a space (``GET /bkt?prefix=in/a+b``), the AWS
    SDK for Java v1 sends the space as ``+`` in the URL but signs the canonical query with
    ``%20``, as SigV4 prescribes; S3 decodes ``+`` as a space and accepts the signature. moto
    canonicalizes the raw query (``+`` kept), so the signatures differ and S3A's listing of
    such a prefix gets ``SignatureDoesNotMatch`` (403). This patch rewrites ``+`` to ``%20``
    in the query of the request moto's S3 verifier reconstructs (``S3IAMRequest.
    _create_aws_request``), nothing else: the S3 backend still parses the query it received.
    A literal ``+`` is sent as ``%2B`` by every SDK and is not affected. Returns a function
    that removes the patch.
    """
    from moto.iam.access_control import S3IAMRequest

    inherited = S3IAMRequest._create_aws_request  # moto defines it on IAMRequestBase

    def _create_aws_request(self: Any) -> Any:
        request = inherited(self)
        path, sep, query = request.url.partition("?")
        if sep and "+" in query:
            request.url = path + "?" + query.replace("+", "%20")
        return request

    return _install(S3IAMRequest, "_create_aws_request", _create_aws_request, "plus-as-space")


# --- TEST-ONLY patches of moto's authorization, where it differs from IAM ----------------

@_internals("moto.iam.access_control:S3IAMRequest", "moto.s3.responses:ACTION_MAP",
            "moto.core.authorization:ActionAuthenticatorMixin._authenticate_and_authorize_s3_action")
def patch_moto_to_authorize_s3_calls_by_their_iam_action() -> Callable[[], None]:
    """TEST-ONLY: authorize an S3 call by its IAM action (``s3:ListBucket``), not its API name.

    Reason: IAM authorizes ``ListObjectsV2`` as ``s3:ListBucket``, ``HeadObject`` as
    ``s3:GetObject``, ``DeleteObjects`` as ``s3:DeleteObject``, an upload part as
    ``s3:PutObject`` (the S3 User Guide's table of actions). moto's S3 responses still
    record that IAM action in the request's data (``data["Action"]``, from moto's own
    ``moto.s3.responses.ACTION_MAP``), but since moto 5.2.6 the authorizer is given the API
    operation its new router matched (``s3:ListObjectsV2``), which no policy AWS accepts
    names: a principal with ``s3:ListBucket`` is refused every listing. moto 5.2.5 passed
    the IAM action. This patch hands moto's S3 verifier (``S3IAMRequest``) the IAM action
    moto's S3 responses recorded; other services are untouched.
    """
    from moto.iam.access_control import S3IAMRequest

    initialize = S3IAMRequest.__init__  # moto defines it on IAMRequestBase

    def __init__(self: Any, account_id: str, method: str, path: str, data: Any, body: bytes,
                 headers: Any, action: Any) -> None:
        iam_action = data.get("Action") if isinstance(data, Mapping) else None
        initialize(self, account_id, method, path, data, body, headers, iam_action or action)

    return _install(S3IAMRequest, "__init__", __init__, "s3-iam-action")


#: SQS batch calls and the IAM action that authorizes each (SQS has no batch IAM actions).
SQS_BATCH_ACTIONS = {
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:SendMessageBatch": "sqs:SendMessage",
}


def _rename_action_before_moto_checks_it(rename: Callable[[str], str], label: str) -> Callable[[], None]:
    """Wraps ``IAMRequest.check_action_permitted`` so moto checks ``rename(action)``;
    returns what undoes it (patches stack: undo them last-in, first-out)."""
    from moto.iam.access_control import IAMRequest

    inherited = IAMRequest.check_action_permitted  # moto defines it on IAMRequestBase

    def check_action_permitted(self: Any, resource: str) -> None:
        if not hasattr(self, "_action"):
            raise MotoInternalsChanged(f"the {label} patch relies on moto's IAMRequest._action, which this "
                                       f"moto lacks; it was written for moto {PROVEN_MOTO_VERSION}")
        self._action = rename(self._action)
        return inherited(self, resource)

    return _install(IAMRequest, "check_action_permitted", check_action_permitted, label)


@_internals("moto.iam.access_control:IAMRequest.check_action_permitted")
def patch_moto_to_authorize_sqs_batch_calls_by_their_iam_action() -> Callable[[], None]:
    """TEST-ONLY: authorize SQS batch calls with the action IAM uses for them.

    Reason: IAM has no ``sqs:DeleteMessageBatch`` or ``sqs:ChangeMessageVisibilityBatch``
    action; the Amazon SQS API reference says the batch calls need the permission of the
    single call (``sqs:DeleteMessage``, ``sqs:ChangeMessageVisibility``, ``sqs:SendMessage``).
    moto checks the API name, so a policy AWS accepts is refused. This patch maps the three
    names before moto's check (``IAMRequest.check_action_permitted``); nothing else changes.
    """
    return _rename_action_before_moto_checks_it(lambda action: SQS_BATCH_ACTIONS.get(action, action), "sqs-batch")


#: Services whose IAM action prefix is not the name their requests are signed with.
IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}


@_internals("moto.iam.access_control:IAMRequest.check_action_permitted")
def patch_moto_to_authorize_cloudwatch_calls_as_cloudwatch_actions() -> Callable[[], None]:
    """TEST-ONLY: authorize CloudWatch calls as ``cloudwatch:<Action>``.

    Reason: moto forms the action from the signing name of the request's credential scope;
    CloudWatch requests are signed as ``monitoring``, while IAM names CloudWatch's actions
    ``cloudwatch:PutMetricData``, ``cloudwatch:SetAlarmState``... A policy AWS accepts is
    refused (``not authorized to perform: monitoring:PutMetricData``). This patch renames
    the prefix before moto's check (``IAMRequest.check_action_permitted``); nothing else
    changes.
    """
    def rename(action: str) -> str:
        service, _, name = action.partition(":")
        return f"{IAM_PREFIX_OF_SIGNING_NAME.get(service, service)}:{name}"

    return _rename_action_before_moto_checks_it(rename, "cloudwatch-prefix")


def glue_resources(action: str, params: Mapping[str, Any], region: str, account: str) -> list[str] | None:
    """The ARNs AWS Glue authorizes a call on, as its IAM reference lists them, or None for a
    call it checks some other way (the action is then checked alone, against ``*``).

    Data Catalog calls are checked down the hierarchy: the catalog, the database and, for a
    table's calls, the table. Workflow calls are checked on the workflow."""
    catalog = str(params.get("CatalogId") or account)
    base = f"arn:aws:glue:{region}:{catalog}"
    name = action.split(":", 1)[1]
    database = params.get("DatabaseName")
    table = params.get("TableName") or (params.get("TableInput") or {}).get("Name")
    if name in ("GetDatabase", "DeleteDatabase", "UpdateDatabase"):
        return [f"{base}:catalog", f"{base}:database/{params.get('Name')}"]
    if name == "CreateDatabase":
        return [f"{base}:catalog", f"{base}:database/{(params.get('DatabaseInput') or {}).get('Name')}"]
    if name in ("GetTable", "DeleteTable"):
        return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/{params.get('Name')}"]
    if name in ("CreateTable", "UpdateTable", "BatchCreatePartition", "CreatePartition", "GetPartition",
                "GetPartitions", "BatchGetPartition", "CreateTableOptimizer", "UpdateTableOptimizer",
                "GetTableOptimizer", "DeleteTableOptimizer"):
        return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/{table}"]
    if name == "GetTables":
        return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/*"]
    if name in ("GetWorkflowRun", "GetWorkflowRunProperties", "PutWorkflowRunProperties", "NotifyEvent",
                "StartWorkflowRun", "GetWorkflow"):
        return [f"arn:aws:glue:{region}:{account}:workflow/{params.get('Name')}"]
    return None


@_internals("moto.iam.access_control:IAMRequest.check_action_permitted")
def patch_moto_to_authorize_glue_calls_on_their_resources() -> Callable[[], None]:
    """TEST-ONLY: authorize an AWS Glue call on the ARNs Glue checks, not on ``*``.

    Reason: moto does not derive a Glue call's resources and checks the action against ``*``,
    so a least-privilege policy (the job role's: the catalog, its database and its table) is
    refused, and a policy that names another table would pass once the action is allowed. AWS
    Glue checks Data Catalog calls on the catalog, the database and the table, each of which
    the policy must allow (its IAM reference, "Resource types defined by AWS Glue"), and a
    workflow's calls on the workflow. This patch reads the call's parameters from its JSON
    body and checks each of those ARNs with moto's own check (:func:`glue_resources`). Calls
    it does not know are left to the action-only check.
    """
    from moto.iam.access_control import IAMRequest

    inherited = IAMRequest.check_action_permitted

    def check_action_permitted(self: Any, resource: str) -> None:
        action = getattr(self, "_action", "")
        if resource == "*" and action.startswith("glue:"):
            try:
                params = json.loads(self._body or b"{}")
            except (ValueError, TypeError):
                params = {}
            arns = glue_resources(action, params if isinstance(params, dict) else {}, self._region,
                                  self.account_id)
            if arns:
                for arn in arns:
                    inherited(self, arn)
                return None
        return inherited(self, resource)

    return _install(IAMRequest, "check_action_permitted", check_action_permitted, "glue-resources")


@_internals("moto.iam.access_control:IAMPolicyStatement._check_element_matches")
def patch_moto_to_check_only_the_action_of_a_call_without_a_resource() -> Callable[[], None]:
    """TEST-ONLY: where moto does not know a call's resource, check the action only.

    Reason: moto authorizes every non-S3 call (SQS, Glue, CloudWatch, ...) against the
    resource ``*`` because it does not derive the call's resource ARN; a statement that
    names ARNs (a least-privilege policy, such as the job role's) then never matches, so
    every such call is refused. This patch lets a statement's ``Resource`` match that
    unknown ``*``: moto then checks these calls by action only. S3 calls carry real bucket
    and object ARNs and are still checked against ``Resource``, SQS calls the queue's ARN,
    and Glue calls the catalog, database, table or workflow ARNs
    (:func:`patch_moto_to_authorize_glue_calls_on_their_resources`). What an enforced run
    proves for the other services (CloudWatch, CloudWatch Logs, STS) is therefore: the
    action is in the policy, not the resource.
    """
    from moto.iam.access_control import IAMPolicyStatement

    original = IAMPolicyStatement.__dict__["_check_element_matches"]

    def _check_element_matches(self: Any, statement_element: Any, value: str) -> bool:
        if statement_element == "Resource" and value == "*":
            return True
        return original(self, statement_element, value)

    return _install(IAMPolicyStatement, "_check_element_matches", _check_element_matches, "unknown-resource")


@_internals("moto.s3.responses:S3Response._bucket_response_post", "moto.s3.responses:S3Response._get_path",
            "moto.s3.responses:S3Response.is_delete_keys", "moto.s3.responses:S3Response._bucket_response_delete_keys",
            "moto.s3.responses:S3Response._authenticate_and_authorize_s3_action",
            "moto.s3.exceptions:BucketAccessDeniedError", "moto.s3.exceptions:S3AccessDeniedError")
def patch_moto_to_authorize_a_bulk_delete_per_object() -> Callable[[], None]:
    """TEST-ONLY: authorize S3's multi-object delete (``POST /bucket?delete``) per object.

    Reason: S3 checks ``s3:DeleteObject`` on each object named in a DeleteObjects request;
    moto checks it on the bucket's ARN, so a policy granting deletes on a prefix
    (``arn:aws:s3:::bucket/_pipeline/*``, as the job role's does) refuses every bulk delete,
    which S3A issues to clean up its temporary files. This patch checks each key against its
    object ARN with moto's own check and, when every key is allowed, lets moto delete them;
    any other request goes to moto's handling unchanged.
    """
    import xmltodict
    from moto.s3.exceptions import BucketAccessDeniedError, S3AccessDeniedError
    from moto.s3.responses import S3Response

    original = S3Response.__dict__["_bucket_response_post"]

    def _bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        if request.headers.get("Content-Length"):
            self.path = self._get_path(request)
            if self.is_delete_keys():
                objects = xmltodict.parse(self.body, strip_whitespace=False)["Delete"].get("Object", [])
                keys = [o["Key"] for o in (objects if isinstance(objects, list) else [objects])]
                try:
                    for key in keys:
                        self.data["Action"] = "DeleteObject"
                        self._authenticate_and_authorize_s3_action(bucket_name=bucket_name, key_name=key)
                except (BucketAccessDeniedError, S3AccessDeniedError):
                    return original(self, request, bucket_name)
                return self._bucket_response_delete_keys(bucket_name)
        return original(self, request, bucket_name)

    return _install(S3Response, "_bucket_response_post", _bucket_response_post, "bulk-delete")


def _undo_all(undo: list[Callable[[], None]]) -> Callable[[], None]:
    """One function that undoes several installs, last-in, first-out."""
    def remove() -> None:
        for step in reversed(undo):
            step()

    return remove


SIGNATURE_PATCHES: tuple[Callable[[], Callable[[], None]], ...] = (
    patch_moto_to_verify_signed_user_agent,
    patch_moto_to_read_plus_as_space_in_signed_query,
)
#: What every enforced request needs for moto to authorize S3 calls as IAM does.
S3_ACTION_PATCHES: tuple[Callable[[], Callable[[], None]], ...] = (
    patch_moto_to_authorize_s3_calls_by_their_iam_action,
)
#: Where moto's authorization differs from IAM's for calls the job makes.
AUTHORIZATION_PATCHES: tuple[Callable[[], Callable[[], None]], ...] = (
    patch_moto_to_authorize_glue_calls_on_their_resources,
    patch_moto_to_authorize_sqs_batch_calls_by_their_iam_action,
    patch_moto_to_authorize_cloudwatch_calls_as_cloudwatch_actions,
    patch_moto_to_check_only_the_action_of_a_call_without_a_resource,
    patch_moto_to_authorize_a_bulk_delete_per_object,
)


# --- what moto lacks ------------------------------------------------------------------

#: The table optimizers of the extension below, per (account, region, catalog, database,
#: table, type): the ``TableOptimizerConfiguration`` last created or updated.
GLUE_TABLE_OPTIMIZERS: dict[tuple[str, ...], dict[str, Any]] = {}


@_internals("moto.glue.responses:GlueResponse.glue_backend", "moto.core.responses:ActionResult",
            "moto.core.responses:EmptyResult", "moto.glue.exceptions:AlreadyExistsException",
            "moto.glue.exceptions:EntityNotFoundException", "moto.glue.models:GlueBackend.get_table")
def extend_moto_with_glue_table_optimizers() -> Callable[[], None]:
    """TEST-ONLY EXTENSION: Glue's ``CreateTableOptimizer``, ``UpdateTableOptimizer`` and
    ``GetTableOptimizer`` on moto's server, which does not implement them.

    Reason: the default job turns the Data Catalog's optimizers on for an Iceberg table
    right after it creates the table; without these calls a local Iceberg run with
    maintenance fails with moto's "not yet implemented". The extension keeps each
    optimizer's configuration in :data:`GLUE_TABLE_OPTIMIZERS`, answers as Glue documents
    (``AlreadyExistsException`` on a second create, ``EntityNotFoundException`` for an
    unknown optimizer) and, like Glue, refuses an optimizer for a table that does not
    exist (moto's own ``get_table``). It reads the request's JSON body itself, as the Glue
    API sends it, not moto's parsed parameters (their attribute changed name in moto 5.2.6).
    It runs nothing: compaction, snapshot retention and orphan-file deletion are Glue's
    service side. Requests still pass moto's IAM check (``glue:CreateTableOptimizer``...)
    when enforcement is on.
    """
    from moto.core.responses import ActionResult, EmptyResult
    from moto.glue.exceptions import AlreadyExistsException, EntityNotFoundException
    from moto.glue.responses import GlueResponse

    def request(self: Any) -> dict[str, Any]:
        body = getattr(self, "body", None)
        if body is None:
            raise MotoInternalsChanged("the table-optimizer extension relies on moto's BaseResponse.body "
                                       f"(the raw request body); it was written for moto {PROVEN_MOTO_VERSION}")
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)

    def key(self: Any, params: dict[str, Any]) -> tuple[str, ...]:
        self.glue_backend.get_table(params["DatabaseName"], params["TableName"])  # the table must exist
        return (self.current_account, self.region, params.get("CatalogId") or self.current_account,
                params["DatabaseName"], params["TableName"], params["Type"])

    def create_table_optimizer(self: Any) -> Any:
        params = request(self)
        k = key(self, params)
        if k in GLUE_TABLE_OPTIMIZERS:
            raise AlreadyExistsException(f"Table optimizer {k[-1]}")
        GLUE_TABLE_OPTIMIZERS[k] = params["TableOptimizerConfiguration"]
        return EmptyResult()

    def existing(self: Any, params: dict[str, Any]) -> tuple[str, ...]:
        k = key(self, params)
        if k not in GLUE_TABLE_OPTIMIZERS:
            raise EntityNotFoundException(f"Table optimizer {k[-1]} not found")
        return k

    def update_table_optimizer(self: Any) -> Any:
        params = request(self)
        GLUE_TABLE_OPTIMIZERS[existing(self, params)] = params["TableOptimizerConfiguration"]
        return EmptyResult()

    def get_table_optimizer(self: Any) -> Any:
        k = existing(self, request(self))
        return ActionResult({"CatalogId": k[2], "DatabaseName": k[3], "TableName": k[4], "TableOptimizer": {
            "type": k[5], "configuration": GLUE_TABLE_OPTIMIZERS[k]}})

    return _undo_all([_install(GlueResponse, name, method, "table-optimizer extension") for name, method in (
        ("create_table_optimizer", create_table_optimizer), ("update_table_optimizer", update_table_optimizer),
        ("get_table_optimizer", get_table_optimizer))])


#: Every test-only patch and extension of moto, each declaring the internals it relies on.
ALL_PATCHES: tuple[Callable[[], Callable[[], None]], ...] = (
    SIGNATURE_PATCHES + S3_ACTION_PATCHES + AUTHORIZATION_PATCHES + (extend_moto_with_glue_table_optimizers,))


_EXTENDED: list[Callable[[], None]] = []


def _extend_moto_once() -> None:
    """Installs the extensions above on the first start in this process, for its life
    (they only add calls moto lacks, so servers started later share them)."""
    if not _EXTENDED:
        _EXTENDED.append(extend_moto_with_glue_table_optimizers())


# --- the endpoint -----------------------------------------------------------------------

class LocalAws:
    """moto's server on 127.0.0.1 with a free port, for the length of a ``with`` block."""

    def __init__(self, region: str = DEFAULT_REGION, quiet: bool = True):
        """``quiet`` raises the ``werkzeug`` logger (the request log) to WARNING."""
        self._region = region
        self._quiet = quiet
        self._server: Any = None
        self._endpoint: str | None = None
        self._unpatch: list[Callable[[], None]] = []
        self._patches: tuple[Callable[[], Callable[[], None]], ...] = ()
        self._enforced = False
        self._lock = threading.Lock()
        self.start_seconds: float | None = None

    # lifecycle
    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        import botocore.exceptions
        import botocore.session
        from moto.server import ThreadedMotoServer

        # The server runs in this process and its backends build boto3 sessions from this
        # process's environment: a profile that does not exist turns requests into 500s.
        try:
            botocore.session.Session().get_scoped_config()
        except botocore.exceptions.ProfileNotFound as error:
            raise RuntimeError(f"moto's in-process server cannot start its backends: {error} "
                               "(unset AWS_PROFILE / AWS_DEFAULT_PROFILE)") from error
        if self._quiet:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        started = time.perf_counter()
        _extend_moto_once()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint = f"http://{host}:{port}"
        self.start_seconds = time.perf_counter() - started

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            # Enforcement is process-global in moto: never leave it on for whatever runs next.
            self.relax_iam()
        finally:
            self._server.stop()
            self._server = None

    # where and who
    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("LocalAws is not started")
        return self._endpoint

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    @property
    def region(self) -> str:
        return self._region

    @property
    def account_id(self) -> str:
        return DEFAULT_ACCOUNT_ID

    @property
    def enforced(self) -> bool:
        return self._enforced

    def client(self, service: str, credentials: Credentials | None = None, **kwargs: Any) -> Any:
        """A boto3 client bound to the endpoint, isolated from the caller's AWS setup.

        Explicit keys and region, no session token, and a botocore session that reads no
        config or credentials file: ``AWS_PROFILE``, ``AWS_SESSION_TOKEN`` or a profile's
        ``endpoint_url`` in the environment cannot change what the client sends."""
        import boto3
        import botocore.session
        from botocore.configprovider import ConstantProvider

        creds = credentials or ADMIN
        core = botocore.session.Session()
        core.set_config_variable("config_file", os.devnull)
        core.set_config_variable("credentials_file", os.devnull)
        core.get_component("config_store").set_config_provider("profile", ConstantProvider(None))
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=None,
            region_name=self._region,
            botocore_session=core,
        )
        return session.client(service, endpoint_url=self.endpoint, **kwargs)

    def env(self, credentials: Credentials | None = None,
            base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The complete environment for a CHILD process that must reach this endpoint.

        A copy of ``base`` (default ``os.environ``) without any ``AWS_*`` variable (a
        session token, a profile, a web identity, a service-specific endpoint such as
        ``AWS_ENDPOINT_URL_S3`` would each change which credentials or endpoint the child
        uses), plus ``AWS_ENDPOINT_URL`` (honoured by botocore >= 1.31 for every service),
        the keys, ``AWS_DEFAULT_REGION``/``AWS_REGION`` and ``AWS_EC2_METADATA_DISABLED``.
        Pass it as ``env=`` to ``subprocess``.
        """
        creds = credentials or ADMIN
        child = {k: v for k, v in (os.environ if base is None else base).items()
                 if not k.startswith("AWS_")}
        child.update({
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
            "AWS_DEFAULT_REGION": self._region,
            "AWS_REGION": self._region,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return child

    # IAM
    def principal(self, name: str, policy_document: dict[str, Any]) -> Credentials:
        """An IAM user whose only policy is ``policy_document`` (inline), with an access key.

        Created with enforcement off (switched off for the calls if it is on)."""
        with self.relaxed():
            iam = self.client("iam")
            iam.create_user(UserName=name)
            iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy",
                                PolicyDocument=json.dumps(policy_document))
            key = iam.create_access_key(UserName=name)["AccessKey"]
        return Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def enforce_iam(self, signature_patches: Sequence[Callable[[], Callable[[], None]]]
                    = SIGNATURE_PATCHES,
                    s3_patches: Sequence[Callable[[], Callable[[], None]]] = S3_ACTION_PATCHES) -> None:
        """From the next request on, authenticate and authorize every request (process-wide).

        ``signature_patches``: the test-only patches of moto's signature check to apply,
        by default both (Hadoop S3A needs them); ``()`` runs moto's check as shipped, the
        negative control that shows they are needed. ``s3_patches``: the patch that makes
        moto authorize S3 calls by their IAM action (:data:`S3_ACTION_PATCHES`); ``()``
        shows moto as shipped refusing an ``s3:ListBucket`` principal its listings."""
        with self._lock:
            self._remove_patches()
            self._patches = tuple(s3_patches) + tuple(signature_patches)
            self._unpatch = [patch() for patch in self._patches]
            self._reset_auth("0")
            self._enforced = True

    def relax_iam(self) -> None:
        """Stop authenticating and authorizing (``INITIAL_NO_AUTH_ACTION_COUNT = inf``) and
        remove the signature patches."""
        with self._lock:
            self._reset_auth("inf")
            self._enforced = False
            self._remove_patches()

    @contextmanager
    def relaxed(self) -> Iterator[None]:
        """Enforcement off inside the block, restored (with the same patches) after it."""
        was_enforced, patches = self._enforced, self._patches
        if was_enforced:
            self.relax_iam()
        try:
            yield
        finally:
            if was_enforced:
                self.enforce_iam(patches, s3_patches=())

    @contextmanager
    def enforcing(self) -> Iterator[None]:
        """Enforcement on inside the block, off after it, with the signature patches and
        the authorization patches (see each patch for what it changes and why)."""
        self.enforce_iam(SIGNATURE_PATCHES + AUTHORIZATION_PATCHES)
        try:
            yield
        finally:
            self.relax_iam()

    def _remove_patches(self) -> None:
        while self._unpatch:
            self._unpatch.pop()()

    def _reset_auth(self, count: str) -> None:
        # A form content type (urllib's default) would make Flask consume the body as a form.
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=count.encode(),
                                         headers={"Content-Type": "text/plain"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        if body.get("status") != "ok":
            raise RuntimeError(f"moto refused reset-auth {count}: {body}")

    def reset(self) -> None:
        """Empty every backend of the server (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


# --- policies of a synthesized template ----------------------------------------------

_PSEUDO_DEFAULTS = {
    "AWS::Partition": "aws",
    "AWS::Region": DEFAULT_REGION,
    "AWS::AccountId": DEFAULT_ACCOUNT_ID,
    "AWS::URLSuffix": "amazonaws.com",
}

# Attributes that follow from a resource's physical name, the way AWS forms them. Each
# function gets (ref_value, pseudo) where ref_value is names[logical_id] (what Ref returns).
_DERIVED_ATTRIBUTES: dict[str, dict[str, Callable[[str, dict[str, str]], str]]] = {
    "AWS::S3::Bucket": {
        "Arn": lambda name, p: f"arn:{p['AWS::Partition']}:s3:::{name}",
    },
    "AWS::SQS::Queue": {  # Ref is the queue URL
        "QueueUrl": lambda url, p: url,
        "QueueName": lambda url, p: url.rstrip("/").rsplit("/", 1)[-1],
        "Arn": lambda url, p: (f"arn:{p['AWS::Partition']}:sqs:{p['AWS::Region']}:"
                               f"{p['AWS::AccountId']}:{url.rstrip('/').rsplit('/', 1)[-1]}"),
    },
    "AWS::IAM::Role": {
        "Arn": lambda name, p: f"arn:{p['AWS::Partition']}:iam::{p['AWS::AccountId']}:role/{name}",
    },
    "AWS::Logs::LogGroup": {
        "Arn": lambda name, p: (f"arn:{p['AWS::Partition']}:logs:{p['AWS::Region']}:"
                                f"{p['AWS::AccountId']}:log-group:{name}:*"),
    },
    "AWS::SNS::Topic": {  # Ref is the topic ARN
        "TopicArn": lambda arn, p: arn,
        "TopicName": lambda arn, p: arn.rsplit(":", 1)[-1],
    },
}


def resolve_policy(template: dict[str, Any], role_logical_id: str, names: Mapping[str, str], *,
                   region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID,
                   partition: str = "aws", url_suffix: str = "amazonaws.com") -> dict[str, Any]:
    """The identity policy of a role in a synthesized CloudFormation template, as one document.

    Merges, in template order, the statements of every ``AWS::IAM::Policy`` and
    ``AWS::IAM::ManagedPolicy`` whose ``Roles`` contain ``{"Ref": role_logical_id}`` and of the
    role's own inline ``Policies``. AWS managed policies (``ManagedPolicyArns``) are not
    included: their text is not in the template.

    Intrinsics are resolved the way CloudFormation would, from ``names``:

    * ``{"Ref": id}`` -> ``names[id]`` (the physical name; for a queue its URL);
    * ``{"Fn::GetAtt": [id, attr]}`` -> ``names["id.attr"]``, else derived from ``names[id]``
      for a few types where AWS forms the attribute from the name (``AWS::S3::Bucket.Arn``,
      ``AWS::SQS::Queue.Arn/QueueName/QueueUrl``, ``AWS::IAM::Role.Arn``,
      ``AWS::Logs::LogGroup.Arn``, ``AWS::SNS::Topic.TopicName``);
    * pseudo parameters ``AWS::Partition``, ``AWS::Region``, ``AWS::AccountId``
      (moto's default account), ``AWS::URLSuffix``; ``AWS::NoValue`` drops the element;
    * ``Fn::Join``, ``Fn::Sub`` (both forms, ``${!Literal}``), ``Fn::Select``, ``Fn::Split``.

    A ``Ref``/``GetAtt`` without a value raises ``KeyError`` naming it; any other intrinsic
    (``Fn::If``, ``Fn::ImportValue``, ...) raises ``ValueError``.
    """
    resources = template.get("Resources", {})
    if role_logical_id not in resources:
        raise KeyError(f"no resource {role_logical_id!r} in the template")
    context = _Context(resources, dict(names), {
        "AWS::Partition": partition, "AWS::Region": region,
        "AWS::AccountId": account_id, "AWS::URLSuffix": url_suffix,
    })
    statements: list[Any] = []
    role = resources[role_logical_id]
    for inline in role.get("Properties", {}).get("Policies", []) or []:
        statements.extend(_statements(inline["PolicyDocument"]))
    for resource in resources.values():
        if resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        roles = resource.get("Properties", {}).get("Roles", []) or []
        if {"Ref": role_logical_id} in roles:
            statements.extend(_statements(resource["Properties"]["PolicyDocument"]))
    return {"Version": "2012-10-17", "Statement": context.resolve(statements)}


def without_conditions(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The policy with every ``Condition`` removed, and the Sids (or indexes) rewritten.

    moto evaluates no ``Condition`` on ordinary calls: a statement with one never
    matches there, so an action the real policy allows under a condition would be
    refused locally. Removing the condition makes moto allow it without checking it:
    the rewrite is visible (callers print the returned Sids) and only ever widens a
    statement, so what an enforced run proves is that nothing outside the policy's
    actions and resources was needed, not that the conditions hold.
    """
    rewritten, statements = [], []
    for index, statement in enumerate(_statements(document)):
        if "Condition" in statement:
            statement = {k: v for k, v in statement.items() if k != "Condition"}
            rewritten.append(str(statement.get("Sid", index)))
        statements.append(statement)
    return dict(document, Statement=statements), rewritten


def _statements(document: dict[str, Any]) -> list[Any]:
    statement = document.get("Statement", [])
    return list(statement) if isinstance(statement, list) else [statement]


_NO_VALUE = object()


@dataclasses.dataclass
class _Context:
    resources: dict[str, Any]
    names: dict[str, str]
    pseudo: dict[str, str]

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.names:
            return self.names[name]
        raise KeyError(f"no value for Ref {name!r}: pass names[{name!r}]")

    def get_att(self, logical_id: str, attribute: str) -> str:
        key = f"{logical_id}.{attribute}"
        if key in self.names:
            return self.names[key]
        resource_type = self.resources.get(logical_id, {}).get("Type", "")
        derive = _DERIVED_ATTRIBUTES.get(resource_type, {}).get(attribute)
        if derive is not None and logical_id in self.names:
            return derive(self.names[logical_id], self.pseudo)
        raise KeyError(f"no value for Fn::GetAtt {key!r} ({resource_type or 'not in template'}): "
                       f"pass names[{key!r}]" + (f" or names[{logical_id!r}]" if derive else ""))

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))
        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(logical_id, self.resolve(attribute))
            if key == "Fn::Join":
                separator, parts = arg
                return self.resolve(separator).join(str(p) for p in self.resolve(parts))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(text, variables)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = arg
                return self.resolve(text).split(self.resolve(separator))
            if key.startswith("Fn::"):
                raise ValueError(f"resolve_policy does not evaluate {key}: {json.dumps(value)}")
        items = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _NO_VALUE}
