"""The README's prose is shown as written in every language's package (PyPI, npm, Maven,
Go, NuGet): jsii-rosetta translates only the ```ts code blocks. So the prose, inline code
included, must hold no TypeScript-only syntax; TypeScript belongs in a code block."""
from __future__ import annotations

import re

from dist_helpers import ROOT

README = ROOT / "README.md"

#: TypeScript that reads wrong in Python, Java, Go or C#: an object literal argument, a
#: `prop: true` literal, a TSDoc link.
RESIDUE = ("({ ", ": true", "{@link")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose_residue(text: str) -> list[str]:
    """Every line outside fenced code blocks that holds TypeScript residue, as 'line N: ...'."""
    found, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            hits = [r for r in RESIDUE if r in line]
            if hits:
                found.append(f"line {number}: {' and '.join(repr(h) for h in hits)} in {line.strip()!r}")
    return found


def test_readme_prose_has_no_typescript_residue():
    residue = prose_residue(README.read_text(encoding="utf-8"))
    assert residue == [], ("README.md prose holds TypeScript-only syntax; move it into a ```ts block or "
                           "write it language-neutrally:\n" + "\n".join(residue))


def test_the_scan_finds_residue_in_prose_and_inline_code_but_not_in_code_blocks():
    sample = "\n".join([
        "Turn it on with `eventBridgeEnabled: true` on the bucket.",     # 1: inline code is prose
        "```ts",
        "new EventDrivenGlueWorkflow(stack, 'Events', { versioned: true });",  # in a block: fine
        "foo({ a: 1 });",
        "```",
        "Pass `EventSource.cloudTrail({ trail })` and see {@link GlueWorkflowTarget}.",  # 6
        "```text",
        "x: true",
        "```",
        "Nothing here.",
    ])
    assert prose_residue(sample) == [
        "line 1: ': true' in 'Turn it on with `eventBridgeEnabled: true` on the bucket.'",
        "line 6: '({ ' and '{@link' in 'Pass `EventSource.cloudTrail({ trail })` and see {@link GlueWorkflowTarget}.'",
    ]


def test_the_wheels_readme_and_api_md_have_no_typescript_residue_in_prose():
    """What PyPI shows (the README in the installed wheel's metadata) and API.md, generated
    from the docstrings, as shipped."""
    import importlib.metadata

    shipped = importlib.metadata.metadata("cdk-event-driven-glue-workflow").get_payload()
    assert "EventDrivenGlueWorkflow" in shipped
    residue = {"wheel README": prose_residue(shipped),
               "API.md": prose_residue((ROOT / "API.md").read_text(encoding="utf-8"))}
    assert residue == {"wheel README": [], "API.md": []}
