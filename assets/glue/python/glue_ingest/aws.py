"""The job's AWS clients: one boto3 session, an explicit region, and the Glue model it needs.

The session's botocore loads ``sdk_models/`` on top of its own service models (botocore's
``data_path`` and its ``sdk-extras`` merge): Glue 5.0 provides botocore 1.34.131, whose Glue
model lacks the table optimizers' retention and orphan-file-deletion settings, so a request
with them would be refused before it is sent. The files are shipped in this package (a zip on
``--extra-py-files``), so they are written to a temporary folder once per process. The job
needs no internet for it, and the same code runs on every Glue version.
"""
import os
import tempfile
import threading
from importlib import resources

_LOCK = threading.RLock()
_STATE = {}

#: The model files under sdk_models/, relative to it.
MODEL_FILES = ("glue/2017-03-31/service-2.sdk-extras.json",)


def models_dir():
    """A folder holding sdk_models/ (written once per process from the package)."""
    with _LOCK:
        if "models" not in _STATE:
            folder = tempfile.mkdtemp(prefix="glue-ingest-models-")
            for relative in MODEL_FILES:
                data = resources.files(__package__).joinpath("sdk_models", *relative.split("/")).read_bytes()
                target = os.path.join(folder, *relative.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    out.write(data)
            _STATE["models"] = folder
        return _STATE["models"]


def session(region=None):
    """The process's boto3 session (one per region), whose botocore reads sdk_models/ too."""
    import boto3
    import botocore.session

    with _LOCK:
        key = ("session", region)
        if key not in _STATE:
            core = botocore.session.get_session()
            # Before any client: the data loader is created with the first one.
            existing = core.get_config_variable("data_path")
            core.set_config_variable("data_path", os.pathsep.join(p for p in (models_dir(), existing) if p))
            _STATE[key] = boto3.session.Session(botocore_session=core, region_name=region)
        return _STATE[key]


def client(name, region=None):
    """A new boto3 client of the job's session."""
    return session(region).client(name)


def region_of(queue_url=None):
    """The region of the job's resources: from the ledger's queue URL
    (https://sqs.<region>.amazonaws.com/...), else the environment Glue sets (AWS_REGION)."""
    if queue_url and "://sqs." in queue_url:
        host = queue_url.split("://", 1)[1].split("/", 1)[0]
        parts = host.split(".")
        if len(parts) > 2 and parts[0] == "sqs":
            return parts[1]
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
