"""The READMEs' links work wherever the READMEs are shown: README.md on PyPI (the wheel's
description), npm and Construct Hub, tools/README.md on the tools' PyPI page. Those pages
resolve no relative link (a file link is dead, and PyPI gives headings no anchors), so
every link is an absolute URL; a link into this repository names a file that exists, and
a heading that exists in it."""
from __future__ import annotations

import re

from dist_helpers import ROOT

READMES = ["README.md", "tools/README.md"]
REPOSITORY = "https://github.com/cdk-event-driven-glue-workflow/cdk-event-driven-glue-workflow/blob/main/"

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
#: [text](target), ![alt](target), [id]: target, href="target", src="target"
LINK = re.compile(r"\]\(\s*<?([^)\s>]*)|^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)|\b(?:href|src)\s*=\s*[\"']([^\"']*)")
ABSOLUTE = re.compile(r"^(https?|mailto):", flags=re.IGNORECASE)


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link outside fenced code blocks and inline code."""
    found, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            found += [(number, next(g for g in match.groups() if g is not None))
                      for match in LINK.finditer(INLINE_CODE.sub("", line))]
    return found


def relative_links(text: str) -> list[str]:
    return [f"line {number}: {target!r}" for number, target in links(text) if not ABSOLUTE.match(target)]


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces made hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.DOTALL | re.MULTILINE)
    return {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def test_the_readmes_have_no_relative_link():
    found = {name: relative_links((ROOT / name).read_text(encoding="utf-8")) for name in READMES}
    assert found == {name: [] for name in READMES}, (
        f"a relative link is dead on PyPI, npm and Construct Hub: write {REPOSITORY}<path>[#heading]")


def test_the_pypi_description_of_the_library_has_no_relative_link():
    import importlib.metadata

    shipped = importlib.metadata.metadata("cdk-event-driven-glue-workflow").get_payload()
    assert "docs/JOB.md" in shipped
    assert relative_links(shipped) == []


def test_every_link_into_the_repository_names_a_file_and_a_heading_that_exist():
    broken = []
    for name in READMES:
        for number, target in links((ROOT / name).read_text(encoding="utf-8")):
            if not target.startswith(REPOSITORY):
                continue
            path, _, anchor = target[len(REPOSITORY):].partition("#")
            if not (ROOT / path).is_file():
                broken.append(f"{name} line {number}: {path} is not a file of the repository")
            elif anchor and anchor not in anchors(ROOT / path):
                broken.append(f"{name} line {number}: {path} has no heading #{anchor}")
    assert broken == []


def test_the_scan_finds_relative_links_but_not_absolute_ones_or_code():
    sample = "\n".join([
        "Its contract is in [docs/JOB.md](docs/JOB.md).",                        # 1: relative file
        "See [the worst case](#worst-case-latency) and [AWS](https://aws.amazon.com/).",  # 2: anchor
        "![plot](bench/plot.png) <a href=\"CONTRIBUTING.md\">x</a>",             # 3: image and HTML
        "[ref]: ./LICENSE",                                                      # 4: reference definition
        "```bash",
        "echo [not](a/link)",
        "```",
        "Inline `[not](a/link)` code, and [mail](mailto:maintainers@example.com).",
        f"[ok]({REPOSITORY}docs/JOB.md)",
    ])
    assert relative_links(sample) == [
        "line 1: 'docs/JOB.md'",
        "line 2: '#worst-case-latency'",
        "line 3: 'bench/plot.png'",
        "line 3: 'CONTRIBUTING.md'",
        "line 4: './LICENSE'",
    ]


def test_github_anchors_of_the_readmes_headings():
    assert github_anchor("Choosing `batchSize` and `batchWindow`") == "choosing-batchsize-and-batchwindow"
    assert github_anchor("`GlueWorkflowTarget` on your own rule") == "glueworkflowtarget-on-your-own-rule"
    assert github_anchor("What `run` proves, and what it does not") == "what-run-proves-and-what-it-does-not"
