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

The test-only patches of moto that :meth:`LocalAws.enforce_iam` and
:meth:`LocalAws.enforcing` apply, and the extension that :meth:`LocalAws.start` installs,
are in :mod:`~cdk_event_driven_glue_workflow_tools.moto_patches`, each with its reason.
Resolving a role's policy from a synthesized template is in
:mod:`~cdk_event_driven_glue_workflow_tools.policy`.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .moto_patches import AUTHORIZATION_PATCHES, S3_ACTION_PATCHES, SIGNATURE_PATCHES, _extend_moto_once

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
