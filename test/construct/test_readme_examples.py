"""The README's examples are TypeScript; jsii-rosetta translates them into the README
of the Python package (its PyPI page). Every translation, read from the installed
wheel's metadata as a user would see it, runs as written and synthesizes."""
import re
from importlib.metadata import metadata

import pytest

from dist_helpers import README_TS_EXAMPLES as TS_BLOCKS

PYTHON_README = metadata("cdk-event-driven-glue-workflow").get_payload()
BLOCKS = re.findall(r"```python\n(.*?)```", PYTHON_README, flags=re.DOTALL)


def test_every_typescript_example_has_a_python_translation():
    assert len(TS_BLOCKS) >= 7
    assert len(BLOCKS) == len(TS_BLOCKS)
    assert re.search(r"```(ts|typescript)\b", PYTHON_README) is None


def test_no_translation_comes_from_a_non_compiling_example():
    # rosetta marks translations of examples that did not compile; --strict forbids them.
    assert [b for b in BLOCKS if "non-compiling" in b] == []


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_synthesizes(code, tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    namespace = {"__name__": "readme_example"}
    exec(compile(code, "README (Python translation)", "exec"), namespace)
    assembly = namespace["app"].synth()
    assert len(assembly.stacks) == 1
    assert assembly.stacks[0].template["Resources"]


def _job_arguments(template: dict, pipeline: str) -> dict:
    [job] = [r for logical_id, r in template["Resources"].items() if r["Type"] == "AWS::Glue::Job"
             and logical_id.startswith(pipeline + "ConversionJob")]
    return job["Properties"]["DefaultArguments"]


def test_the_readme_cleaning_is_the_guide_pipeline_the_value_test_runs(tmp_path, monkeypatch):
    """The README's cleaning example is examples/app.py's GuideCustomers, whose table
    test/runner/test_guide_example.py compares with the guide's, value for value."""
    import runpy
    from pathlib import Path

    [readme] = [b for b in BLOCKS if "GuideCustomers" in b]
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "readme"))
    namespace = {"__name__": "readme_example"}
    exec(compile(readme, "README (Python translation)", "exec"), namespace)
    from_readme = _job_arguments(namespace["app"].synth().stacks[0].template, "GuideCustomers")
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "app"))
    app = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "app.py"))["app"]
    from_app = _job_arguments(app.synth().stacks[0].template, "GuideCustomers")
    for argument in ("--transform_sql", "--row_rules", "--input_format", "--output_path"):
        assert from_readme[argument] == from_app[argument], argument
    assert "initcap(trim(name))" in from_readme["--transform_sql"]
