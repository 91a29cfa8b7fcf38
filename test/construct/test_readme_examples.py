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
