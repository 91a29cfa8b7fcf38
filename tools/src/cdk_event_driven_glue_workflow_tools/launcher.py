"""Launch a Glue job of a synthesized cloud assembly the way AWS Glue launches it.

Glue runs a Python shell or Spark job like this, and so does ``GlueLauncher``:

1. it downloads the object ``Command.ScriptLocation`` points at, and every object
   of ``--extra-py-files``, under their **object keys**. A CDK file asset's object
   key is ``<sha256><ext>``: nothing is renamed back to its source name;
2. ``.py`` extra files land in the staging folder next to the script (importable
   only under their object name), ``.zip`` extra files go on ``PYTHONPATH``; the
   objects of ``--extra-jars``, staged the same way, go on the classpath of the
   driver and the executors (``spark.jars``);
3. it runs the script in a fresh ``python`` process of the job's Glue runtime (the
   template's ``GlueVersion``: its pyspark and boto3, in a venv of its own, ``venvs``)
   whose working folder is somewhere else, with the job's ``DefaultArguments``, then the
   starting trigger action's ``Arguments`` (which override), then the arguments Glue adds
   itself: ``--JOB_ID``, ``--JOB_RUN_ID``, ``--JOB_NAME``, ``--WORKFLOW_NAME`` and
   ``--WORKFLOW_RUN_ID`` (when a workflow started it), and ``--job-bookmark-option``.
   Every other flag comes from the template, as on Glue.

The objects are taken from the assembly's asset manifest exactly as ``cdk
deploy`` would upload them: a ``file`` asset byte for byte, a ``zip`` asset as
the zip of its staged folder. Spark's configuration (the part Glue sets up on its
workers) comes from ``SPARK_CONF_DIR``, so the script's plain
``SparkSession.builder.getOrCreate()`` gets it without a code change.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import zipfile
from typing import Any, Callable, Sequence

from . import runtimes, sparkconf, venvs
from . import template as templates

#: What the job prints last: ``[parquet-conversion] {"run_id": ...}``.
SUMMARY = re.compile(r"^\[parquet-conversion\] (\{.*\})$", re.M)


class Assembly:
    """A synthesized cloud assembly (``cdk.out``): its stacks and their staged assets."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = pathlib.Path(directory)
        manifest = json.loads((self.directory / "manifest.json").read_text(encoding="utf-8"))
        self.stacks: dict[str, pathlib.Path] = {}
        self._objects: dict[str, tuple[pathlib.Path, str]] = {}
        for name, artifact in manifest.get("artifacts", {}).items():
            properties = artifact.get("properties", {})
            if artifact.get("type") == "aws:cloudformation:stack":
                self.stacks[name] = self.directory / properties["templateFile"]
            if artifact.get("type") == "cdk:asset-manifest":
                self._read_asset_manifest(self.directory / properties["file"])

    def _read_asset_manifest(self, path: pathlib.Path) -> None:
        for asset in json.loads(path.read_text(encoding="utf-8")).get("files", {}).values():
            source = asset["source"]
            for destination in asset["destinations"].values():
                self._objects[destination["objectKey"]] = (self.directory / source["path"],
                                                           source.get("packaging", "file"))

    def template(self, stack: str | None = None) -> dict[str, Any]:
        if stack is None:
            if len(self.stacks) != 1:
                raise ValueError(f"the assembly has stacks {sorted(self.stacks)}: name one")
            stack = next(iter(self.stacks))
        return templates.load(self.stacks[stack])

    def stage_object(self, object_key: str, folder: pathlib.Path) -> pathlib.Path:
        """Writes the object a deploy uploads under ``object_key`` to ``folder/object_key``."""
        if object_key not in self._objects:
            raise FileNotFoundError(f"no asset of {self.directory} is uploaded as {object_key}")
        source, packaging = self._objects[object_key]
        target = folder / object_key
        folder.mkdir(parents=True, exist_ok=True)
        if packaging == "file":
            shutil.copyfile(source, target)
        elif packaging == "zip":
            _zip_folder(source, target)
        else:
            raise ValueError(f"asset {object_key}: unsupported packaging {packaging!r}")
        return target


def _zip_folder(folder: pathlib.Path, target: pathlib.Path) -> None:
    """The zip cdk-assets uploads for a folder asset: the folder's content at the zip's root."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())


def object_key(url: str) -> str:
    """The object key of an ``s3://bucket/key`` URL."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an S3 URL: {url!r}")
    return url[len("s3://"):].partition("/")[2]


@dataclasses.dataclass
class JobRun:
    """One launched run: the command, its outcome and what the job printed."""

    job_run_id: str
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any] | None:
        """The job's final one-line summary (run_id, files, rows...), if it printed one."""
        found = SUMMARY.findall(self.stdout)
        return json.loads(found[-1]) if found else None

    def check(self) -> "JobRun":
        if self.returncode != 0:
            raise RuntimeError(f"job run {self.job_run_id} exited with {self.returncode}:\n{self.stderr[-4000:]}")
        return self


class GlueLauncher:
    """Runs one ``AWS::Glue::Job`` of a template the way Glue does (see the module docstring).

    ``names`` maps the template's logical IDs (and ``LogicalId.Attribute``) to
    the local physical names, as in ``template.resolve``. ``env`` is added to the
    child's environment (the local AWS endpoint and credentials); ``spark_conf``
    becomes its ``spark-defaults.conf``.
    """

    def __init__(self, assembly: Assembly, job_logical_id: str, names: dict[str, Any],
                 work: str | os.PathLike[str], env: dict[str, str] | None = None,
                 spark_conf: dict[str, str] | None = None, stack: str | None = None,
                 python: str | None = None):
        """``python``: the interpreter to run the job with; by default that of the job's Glue
        runtime (``venvs.python_for``), built on first use."""
        self.assembly = assembly
        self.template = assembly.template(stack)
        resources = self.template["Resources"]
        job = resources.get(job_logical_id)
        if job is None or job["Type"] != "AWS::Glue::Job":
            raise ValueError(f"{job_logical_id} is not an AWS::Glue::Job of the template")
        self.job_logical_id = job_logical_id
        self.properties = job["Properties"]
        self.names = names
        self.work = pathlib.Path(work)
        self.env = dict(env or {})
        self.spark_conf = dict(spark_conf or {})
        self.runtime = runtimes.for_glue_version(self.properties.get("GlueVersion", runtimes.DEFAULT_GLUE_VERSION))
        self._python = python
        self.job_name = str(self.resolve({"Ref": job_logical_id}))
        self._staged: tuple[pathlib.Path, list[pathlib.Path]] | None = None
        self.jars: list[pathlib.Path] = []

    def resolve(self, value: Any) -> Any:
        return templates.resolve(value, self.names)

    @property
    def python(self) -> str:
        if self._python is None:
            self._python = str(venvs.python_for(self.runtime))
        return self._python

    # -- staging
    def stage(self) -> tuple[pathlib.Path, list[pathlib.Path]]:
        """Stages the script, the extra Python files and the extra jars (into ``jars``);
        returns (script, PYTHONPATH entries)."""
        if self._staged is None:
            folder = self.work / "glue-staging"
            shutil.rmtree(folder, ignore_errors=True)
            script = self.assembly.stage_object(object_key(self.resolve(self.properties["Command"]["ScriptLocation"])),
                                                folder)
            path = [folder]
            extra = self.default_arguments().get("--extra-py-files", "")
            for url in filter(None, (u.strip() for u in extra.split(","))):
                staged = self.assembly.stage_object(object_key(url), folder)
                if staged.suffix == ".zip":
                    path.append(staged)
            jars = self.default_arguments().get("--extra-jars", "")
            self.jars = [self.assembly.stage_object(object_key(url), folder / "jars")
                         for url in filter(None, (u.strip() for u in jars.split(",")))]
            self._staged = (script, path)
        return self._staged

    # -- arguments
    def default_arguments(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.resolve(self.properties.get("DefaultArguments", {})).items()}

    def trigger_arguments(self, trigger_logical_id: str | None = None) -> dict[str, str]:
        """The ``Arguments`` of the trigger action that starts this job (the first one found)."""
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] != "AWS::Glue::Trigger":
                continue
            if trigger_logical_id is not None and logical_id != trigger_logical_id:
                continue
            for action in resource["Properties"].get("Actions", []):
                if action.get("JobName") == {"Ref": self.job_logical_id}:
                    return {k: str(v) for k, v in self.resolve(action.get("Arguments", {})).items()}
        return {}

    def arguments(self, job_run_id: str, workflow_name: str | None = None, workflow_run_id: str | None = None,
                  trigger_arguments: dict[str, str] | None = None,
                  extra: dict[str, str] | None = None) -> list[str]:
        """DefaultArguments, then the trigger's Arguments, then what Glue adds, as argv."""
        merged = self.default_arguments()
        merged.update(self.trigger_arguments() if trigger_arguments is None else trigger_arguments)
        merged.update(extra or {})
        glue_adds = {
            "--JOB_ID": "j_" + secrets.token_hex(32),
            "--JOB_RUN_ID": job_run_id,
            "--JOB_NAME": self.job_name,
        }
        if workflow_name:
            glue_adds["--WORKFLOW_NAME"] = workflow_name
            glue_adds["--WORKFLOW_RUN_ID"] = workflow_run_id or "wr_" + secrets.token_hex(32)
        glue_adds.setdefault("--job-bookmark-option", merged.pop("--job-bookmark-option", "job-bookmark-disable"))
        argv: list[str] = []
        for key, value in list(merged.items()) + list(glue_adds.items()):
            argv += [key, value]
        return argv

    # -- running
    def child_env(self, pythonpath: Sequence[pathlib.Path]) -> dict[str, str]:
        """This process's environment for the job's process, with ``env`` on top.

        When ``env`` brings AWS credentials, no inherited ``AWS_*`` variable is kept: an
        ``AWS_SESSION_TOKEN`` or ``AWS_PROFILE`` of the caller would otherwise be sent along
        with the launcher's keys (and the endpoint refuses the mix as an invalid token).
        ``spark_conf`` becomes ``spark-defaults.conf`` under ``SPARK_CONF_DIR``, and no
        ``PYSPARK_SUBMIT_ARGS`` of the caller applies on top of it."""
        drop_aws = "AWS_ACCESS_KEY_ID" in self.env
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYSPARK_", "SPARK_CONF_DIR")) and not (drop_aws and k.startswith("AWS_"))}
        env.pop("PYTHONPATH", None)
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        conf = dict(self.spark_conf)
        if self.jars:
            conf = sparkconf.merge(conf, {"spark.jars": ",".join(str(j) for j in self.jars)})
        if conf:
            env = sparkconf.child_env(sparkconf.write_spark_defaults(conf, self.work / "spark-conf"), env)
        return env

    def launch(self, workflow_name: str | None = None, workflow_run_id: str | None = None,
               trigger_arguments: dict[str, str] | None = None, extra: dict[str, str] | None = None,
               timeout: float | None = 900, on_output: Callable[[str], None] | None = None) -> JobRun:
        """Runs the job once in a fresh process; returns its outcome (does not raise on failure)."""
        script, pythonpath = self.stage()
        job_run_id = "jr_" + secrets.token_hex(32)
        argv = [self.python, str(script)] + self.arguments(job_run_id, workflow_name, workflow_run_id,
                                                           trigger_arguments, extra)
        cwd = self.work / "cwd"
        cwd.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(argv, cwd=cwd, env=self.child_env(pythonpath), capture_output=True, text=True,
                              timeout=timeout)
        if on_output:
            on_output(done.stdout)
        return JobRun(job_run_id, argv, done.returncode, done.stdout, done.stderr)


def datalake_packages(runtime: runtimes.GlueRuntime) -> dict[str, tuple[str, ...]]:
    """Maven coordinates of what ``--datalake-formats`` adds on the runtime's Glue version."""
    return {"iceberg": runtime.iceberg_packages}


def glue_spark_conf(arguments: dict[str, str],
                    runtime: runtimes.GlueRuntime = sparkconf.DEFAULT_RUNTIME) -> dict[str, str]:
    """The Spark settings Glue derives from job arguments when it starts the driver.

    ``--conf`` holds ``k=v`` pairs chained with `` --conf `` (Glue's documented way to set
    Spark configuration); ``--datalake-formats`` adds the formats' jars of the Glue
    version's runtime, given here as Maven coordinates in ``spark.jars.packages``.
    """
    conf: dict[str, str] = {}
    text = arguments.get("--conf", "").strip()
    if text:
        for pair in re.split(r"\s+--conf\s+", text):
            key, sep, value = pair.strip().partition("=")
            if not sep:
                raise ValueError(f"--conf entry without '=': {pair!r}")
            conf[key.strip()] = value.strip()
    packages = []
    for fmt in filter(None, (f.strip() for f in arguments.get("--datalake-formats", "").split(","))):
        available = datalake_packages(runtime)
        if fmt not in available:
            raise ValueError(f"--datalake-formats {fmt!r} is not supported locally")
        packages.extend(available[fmt])
    if packages:
        conf["spark.jars.packages"] = ",".join(packages)
    return conf


def local_endpoint_conf(conf: dict[str, str], endpoint: str, region: str) -> dict[str, str]:
    """What points the job's Iceberg Glue catalogs at a local endpoint instead of AWS's.

    On Glue the catalog reaches the real Glue and S3 endpoints; locally each catalog whose
    implementation is Iceberg's ``GlueCatalog`` gets the endpoint, path-style S3 and the
    region. Nothing else of the job's configuration changes.
    """
    extra = {}
    for key, value in conf.items():
        if key.endswith(".catalog-impl") and value == "org.apache.iceberg.aws.glue.GlueCatalog":
            prefix = key[: -len(".catalog-impl")]
            extra.update({f"{prefix}.glue.endpoint": endpoint, f"{prefix}.s3.endpoint": endpoint,
                          f"{prefix}.s3.path-style-access": "true", f"{prefix}.client.region": region})
    return extra


def glue_jobs(template: dict[str, Any]) -> list[str]:
    """Logical IDs of the template's Glue jobs."""
    return sorted(k for k, r in template["Resources"].items() if r["Type"] == "AWS::Glue::Job")
