"""TEST-ONLY patches of moto, and an extension of it, for the local endpoint of ``localaws``.

The two signature patches are TEST-ONLY changes of the emulator, applied in the process
that hosts the server by ``LocalAws.enforce_iam`` and removed by ``LocalAws.relax_iam``
(:mod:`~cdk_event_driven_glue_workflow_tools.localaws`); they alter nothing but moto's
signature verification (they replace methods of moto's verifier classes; botocore's own
signer and the request seen by the S3/SQS/Glue backends are untouched). Without them,
every request the AWS SDK for Java v1 (Hadoop S3A) signs is refused with 403.

The authorization patches make moto authorize a call the way IAM does where moto differs
(the S3 action of a call, SQS batch calls, CloudWatch's prefix, Glue's resources, calls
without a known resource, S3's bulk delete). The extension adds Glue's table-optimizer
calls, which moto lacks; ``LocalAws.start`` installs it once per process. Each patch and
the extension says in its docstring what it changes and why, and declares the moto
internals it relies on (checked before it installs; ``test/harness/test_moto_internals.py``).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

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
            "(cdk_event_driven_glue_workflow_tools.moto_patches)") from error
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
