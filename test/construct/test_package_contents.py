"""The npm tarball embedded in the wheel ships the job and no build leftovers."""
import pathlib
import tarfile

import cdk_event_driven_glue_workflow


def tarball_names():
    (tgz,) = (pathlib.Path(cdk_event_driven_glue_workflow.__file__).parent / "_jsii").glob("*.tgz")
    with tarfile.open(tgz) as archive:
        return archive.getnames()


def test_job_files_ship_in_the_package():
    names = tarball_names()
    assert "package/assets/glue/parquet_conversion_job.py" in names
    for module in ("__init__", "run", "discover", "read", "publish", "commit", "stats", "columns", "transforms",
                   "schema", "known_schema"):
        assert f"package/assets/glue/python/glue_ingest/{module}.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_no_synth_output_tests_scratch_files_or_build_configuration_ship():
    leftovers = [n for n in tarball_names()
                 if n.split("/")[1] in ("cdk.out", ".tmp", "test", "bench", "tools", "examples", ".venv",
                                        ".projenrc.py", "rosetta", "scripts", "dist")]
    assert leftovers == []
