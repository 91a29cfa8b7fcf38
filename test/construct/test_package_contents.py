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
    for module in ("parquet_conversion_job.py", "pipeline_io.py", "pipeline_transforms.py"):
        assert f"package/assets/glue/{module}" in names


def test_no_synth_output_tests_scratch_files_or_build_configuration_ship():
    leftovers = [n for n in tarball_names()
                 if n.split("/")[1] in ("cdk.out", ".tmp", "test", "bench", "tools", "examples", ".venv",
                                        ".projenrc.py", "rosetta", "scripts", "dist")]
    assert leftovers == []
