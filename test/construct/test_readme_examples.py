"""Every Python example in the README runs as written and synthesizes."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_synthesizes(code, tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    namespace = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)
    assembly = namespace["app"].synth()
    assert len(assembly.stacks) == 1
    assert assembly.stacks[0].template["Resources"]
