"""The Glue-shaped launcher: staging under object keys, argument order, and the
negative control that catches a job whose modules cannot be imported as Glue
stages them (aws/aws-cdk#20481)."""
import json
import os
import pathlib
import zipfile

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3assets

from cdk_event_driven_glue_workflow import EventDrivenGlueWorkflow
from cdk_event_driven_glue_workflow_tools.launcher import Assembly, GlueLauncher, glue_jobs

# A Glue script that imports a helper module and prints what it was given.
SCRIPT = """
import json, os, sys
import helper_mod
print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "file": __file__,
                  "helper": helper_mod.__file__, "answer": helper_mod.ANSWER}))
"""


def synth_job(tmp_path, ship_helper):
    """An app with one Glue job whose script imports `helper_mod`, shipped by `ship_helper`."""
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "script.py").write_text(SCRIPT)
    (src / "helper_mod.py").write_text("ANSWER = 42\n")
    (src / "pkg" / "helper_mod.py").write_text("ANSWER = 42\n")
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Launch")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    glue.PySparkEtlJob(stack, "Job", role=role, script=glue.Code.from_asset(str(src / "script.py")),
                       extra_python_files=[ship_helper(stack, src)], glue_version=glue.GlueVersion.V5_1,
                       default_arguments={"--answer": "default", "--only_default": "d", "--enable-metrics": ""})
    app.synth()
    assembly = Assembly(tmp_path / "cdk.out")
    [job_id] = glue_jobs(assembly.template())
    return assembly, job_id


def as_py_file(_stack, src):
    return glue.Code.from_asset(str(src / "helper_mod.py"))


def as_zip(stack, src):
    asset = s3assets.Asset(stack, "Helper", path=str(src / "pkg"))
    return glue.Code.from_bucket(asset.bucket, asset.s3_object_key)


def launcher(assembly, job_id, tmp_path):
    return GlueLauncher(assembly, job_id, {job_id: "the-job"}, tmp_path / "work")


def test_a_module_shipped_as_a_py_file_asset_cannot_be_imported(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_py_file)
    run = launcher(assembly, job_id, tmp_path).launch()
    assert run.returncode != 0
    assert "ModuleNotFoundError: No module named 'helper_mod'" in run.stderr


def test_a_module_shipped_in_a_zip_asset_is_imported(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_zip)
    run = launcher(assembly, job_id, tmp_path).launch().check()
    out = json.loads(run.stdout)
    assert out["answer"] == 42
    assert out["helper"].endswith(".zip/helper_mod.py")


def test_script_and_extra_files_are_staged_under_their_object_keys(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_py_file)
    script, _ = launcher(assembly, job_id, tmp_path).stage()
    staged = sorted(p.name for p in script.parent.iterdir())
    assert len(staged) == 2
    assert all(len(name) == 64 + len(".py") and name.endswith(".py") for name in staged)
    assert "helper_mod.py" not in staged and "script.py" not in staged


def test_zip_asset_is_staged_as_the_zip_a_deploy_uploads(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_zip)
    _, path = launcher(assembly, job_id, tmp_path).stage()
    [archive] = [p for p in path if p.suffix == ".zip"]
    assert zipfile.ZipFile(archive).namelist() == ["helper_mod.py"]


def test_script_runs_in_a_fresh_process_from_another_working_folder(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_zip)
    run = launcher(assembly, job_id, tmp_path).launch().check()
    out = json.loads(run.stdout)
    assert pathlib.Path(out["cwd"]) != pathlib.Path(out["file"]).parent
    assert pathlib.Path(out["file"]).name == pathlib.Path(run.argv[1]).name


def test_arguments_are_defaults_then_trigger_then_what_glue_adds(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_zip)
    run = launcher(assembly, job_id, tmp_path).launch(
        workflow_name="wf", workflow_run_id="wr_1", trigger_arguments={"--answer": "trigger"}).check()
    argv = json.loads(run.stdout)["argv"]
    keys = argv[0::2]
    args = dict(zip(argv[0::2], argv[1::2]))
    assert args["--answer"] == "trigger" and args["--only_default"] == "d"
    assert keys.index("--only_default") < keys.index("--JOB_ID")
    # Glue adds exactly these; every other flag is the template's own (here --enable-metrics).
    assert keys[-6:] == ["--JOB_ID", "--JOB_RUN_ID", "--JOB_NAME", "--WORKFLOW_NAME", "--WORKFLOW_RUN_ID",
                         "--job-bookmark-option"]
    assert (args["--JOB_NAME"], args["--WORKFLOW_NAME"], args["--WORKFLOW_RUN_ID"]) == ("the-job", "wf", "wr_1")
    assert args["--JOB_RUN_ID"] == run.job_run_id and run.job_run_id.startswith("jr_")
    assert args["--enable-metrics"] == "" and keys.index("--enable-metrics") < keys.index("--JOB_ID")
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    defaults = launcher(assembly, job_id, tmp_path).default_arguments()
    glue_adds = set(keys[-6:])
    assert set(args) == set(defaults) | glue_adds  # nothing invented: no --TempDir the template lacks
    assert {k: v for k, v in args.items() if k not in glue_adds | {"--answer"}} == {
        k: v for k, v in defaults.items() if k != "--answer"}


def test_the_job_runs_on_the_python_of_its_glue_versions_runtime(tmp_path):
    """The script's process is the runtime venv of the template's GlueVersion: its pyspark and boto3."""
    from cdk_event_driven_glue_workflow_tools import runtimes, venvs

    assembly, job_id = synth_job(tmp_path, as_zip)
    launched = launcher(assembly, job_id, tmp_path)
    assert launched.runtime == runtimes.RUNTIMES["5.1"]
    assert launched.python == str(venvs.python_for(runtimes.RUNTIMES["5.1"]))
    run = launched.launch().check()
    assert run.argv[0] == launched.python


def test_a_glue_version_without_a_runtime_profile_is_refused_by_name(tmp_path):
    assembly, job_id = synth_job(tmp_path, as_zip)
    template = assembly.template()
    template["Resources"][job_id]["Properties"]["GlueVersion"] = "4.0"
    assembly.template = lambda stack=None: template
    with pytest.raises(ValueError, match=r"Glue version '4.0' has no runtime profile; the default job is proven "
                                         r"on 5.0, 5.1, 6.0"):
        launcher(assembly, job_id, tmp_path)


def test_an_object_key_missing_from_the_assembly_is_an_error(tmp_path):
    assembly, _ = synth_job(tmp_path, as_zip)
    with pytest.raises(FileNotFoundError, match="no asset of .* is uploaded as 0{64}.py"):
        assembly.stage_object("0" * 64 + ".py", tmp_path / "x")


def test_the_default_job_starts_as_staged_and_converts_local_files(tmp_path):
    """The real default job, from the synthesized assembly, on files given to it directly."""
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Default")
    EventDrivenGlueWorkflow(stack, "Products")
    app.synth()
    assembly = Assembly(tmp_path / "cdk.out")
    [job_id] = glue_jobs(assembly.template())
    data = tmp_path / "data.json"
    data.write_text('{"id": 1}\n{"id": 2}\n')
    lake = tmp_path / "lake"
    names = {job_id: "products-job"}
    names.update({k: k.lower() for k in assembly.template()["Resources"]})
    run = GlueLauncher(assembly, job_id, names, tmp_path / "work",
                       spark_conf={"spark.master": "local[1]", "spark.ui.enabled": "false"}).launch(extra={
        "--ledger_queue_url": "", "--input_files": str(data), "--catalog_update": "false", "--legacy_state_path": "",
        **{f"--{name}_path": f"{lake}/{name}/" for name in ("output", "rejected", "stats", "state")}})
    run.check()
    assert (run.summary["files_processed"], run.summary["rows_out"]) == (1, 2)
    assert list((lake / "output").rglob("*.parquet"))


def test_the_default_jobs_jar_is_staged_under_its_object_key_and_on_the_classpath(tmp_path):
    """--extra-jars: staged like every asset, on spark.jars; the job's second run (the table
    exists) checks keys with it. The negative control drops it and the job says so."""
    app = App(outdir=str(tmp_path / "cdk.out"))
    EventDrivenGlueWorkflow(Stack(app, "Default"), "Products")
    app.synth()
    assembly = Assembly(tmp_path / "cdk.out")
    [job_id] = glue_jobs(assembly.template())
    names = {job_id: "products-job"}
    names.update({k: k.lower() for k in assembly.template()["Resources"]})
    lake = tmp_path / "lake"

    def run_on(name, launcher):
        data = tmp_path / name
        data.write_text('{"id": 1}\n{"id": 2}\n')
        return launcher.launch(extra={
            "--ledger_queue_url": "", "--input_files": str(data), "--catalog_update": "false",
            "--legacy_state_path": "",
            **{f"--{part}_path": f"{lake}/{part}/" for part in ("output", "rejected", "stats", "state")}}).check()

    glue_like = GlueLauncher(assembly, job_id, names, tmp_path / "work",
                             spark_conf={"spark.master": "local[1]", "spark.ui.enabled": "false"})
    glue_like.stage()
    [jar] = glue_like.jars
    assert len(jar.name) == 64 + len(".jar")
    assert glue_like.default_arguments()["--extra-jars"].endswith("/" + jar.name)
    defaults = (pathlib.Path(glue_like.child_env([tmp_path])["SPARK_CONF_DIR"]) / "spark-defaults.conf").read_text()
    assert f"spark.jars {jar}" in defaults.splitlines()
    run_on("a.json", glue_like)
    second = run_on("b.json", glue_like)
    assert second.summary and "not on the classpath" not in second.stdout

    without = GlueLauncher(assembly, job_id, names, tmp_path / "work-without",
                           spark_conf={"spark.master": "local[1]", "spark.ui.enabled": "false"})
    without.stage()
    without.jars = []
    third = run_on("c.json", without)
    assert "is not on the classpath" in third.stdout


def test_launcher_credentials_replace_every_inherited_aws_variable(tmp_path, monkeypatch):
    assembly, job_id = synth_job(tmp_path, as_zip)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-callers-token")
    monkeypatch.setenv("AWS_PROFILE", "the-callers-profile")
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master local[4] pyspark-shell")
    own = GlueLauncher(assembly, job_id, {job_id: "the-job"}, tmp_path / "work",
                       env={"AWS_ACCESS_KEY_ID": "AKIALOCAL", "AWS_SECRET_ACCESS_KEY": "s"},
                       spark_conf={"spark.master": "local[1]"})
    env = own.child_env([tmp_path])
    assert {k: v for k, v in env.items() if k.startswith("AWS_")} == {
        "AWS_ACCESS_KEY_ID": "AKIALOCAL", "AWS_SECRET_ACCESS_KEY": "s"}
    assert "PYSPARK_SUBMIT_ARGS" not in env
    assert (pathlib.Path(env["SPARK_CONF_DIR"]) / "spark-defaults.conf").read_text().splitlines()[-1] == \
        "spark.master local[1]"
    # Without credentials of its own, the launcher leaves the caller's AWS settings alone.
    inherit = launcher(assembly, job_id, tmp_path).child_env([tmp_path])
    assert inherit["AWS_SESSION_TOKEN"] == "the-callers-token"
