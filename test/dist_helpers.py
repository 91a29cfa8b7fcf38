"""Where `npx projen package-local` puts each language's package, for the tests that use them."""
from __future__ import annotations

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
PACKAGE_JSON = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
VERSION = PACKAGE_JSON["version"]
TARGETS = PACKAGE_JSON["jsii"]["targets"]

MAVEN_GROUP = TARGETS["java"]["maven"]["groupId"]
MAVEN_ARTIFACT = TARGETS["java"]["maven"]["artifactId"]
GO_PACKAGE = TARGETS["go"]["packageName"]
GO_MODULE = f"{TARGETS['go']['moduleName']}/{GO_PACKAGE}"
# The README's examples: TypeScript, the source rosetta translates into every language's README.
README_TS_EXAMPLES = re.findall(r"```(?:ts|typescript)\b[^\n]*\n(.*?)```",
                                (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.DOTALL)
# The project's Maven repository, seeded by scripts/seed-maven.sh (see .projenrc.py).
MAVEN_REPO = ROOT / ".tmp" / "m2"


def built(path: pathlib.Path) -> pathlib.Path:
    """The artifact at `path`, or a failure that says how to build it."""
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `npx projen package-local` (make test does)"
    return path


def npm_tarball() -> pathlib.Path:
    (tgz,) = built(DIST / "js").glob("*.tgz")
    return tgz


def maven_dir() -> pathlib.Path:
    return built(DIST / "java" / MAVEN_GROUP.replace(".", "/") / MAVEN_ARTIFACT / VERSION)


def maven_file(classifier: str = "", extension: str = "jar") -> pathlib.Path:
    suffix = f"-{classifier}" if classifier else ""
    return built(maven_dir() / f"{MAVEN_ARTIFACT}-{VERSION}{suffix}.{extension}")


def go_module_dir() -> pathlib.Path:
    return built(DIST / "go" / GO_PACKAGE)
