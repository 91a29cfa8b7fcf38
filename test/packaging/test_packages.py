"""What `npx projen package-local` builds for each language, and what Construct Hub
and the release workflow read: names, dependencies, translated docs, metadata."""
from __future__ import annotations

import json
import re
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from importlib.metadata import metadata

import pytest
import yaml

from dist_helpers import (
    GO_MODULE,
    GO_PACKAGE,
    MAVEN_ARTIFACT,
    MAVEN_GROUP,
    README_TS_EXAMPLES,
    ROOT,
    TARGETS,
    VERSION,
    go_module_dir,
    maven_file,
    npm_tarball,
)

ASSEMBLY = json.loads((ROOT / ".jsii").read_text(encoding="utf-8"))
PUBLIC_TYPES = sorted(fqn.split(".", 1)[1] for fqn in ASSEMBLY["types"])
CONCRETE_CLASSES = sorted(fqn.split(".", 1)[1] for fqn, t in ASSEMBLY["types"].items()
                          if t["kind"] == "class" and not t.get("abstract"))
TS_EXAMPLES = len(README_TS_EXAMPLES)
JAVA_PACKAGE = TARGETS["java"]["package"]
POM = "{http://maven.apache.org/POM/4.0.0}"


def tarball_member(name: str) -> bytes:
    with tarfile.open(npm_tarball()) as archive:
        return archive.extractfile(f"package/{name}").read()


def tablet() -> dict:
    return json.loads(tarball_member(".jsii.tabl.json"))


# --- npm tarball: what Construct Hub indexes -------------------------------------------------

def test_npm_package_carries_construct_hub_metadata():
    package = json.loads(tarball_member("package.json"))
    assert {"awscdk", "cdk", "glue", "eventbridge", "s3"} <= set(package["keywords"])
    assert "Glue" in package["description"]
    assert package["repository"]["url"].startswith("https://github.com/cdk-event-driven-glue-workflow/")
    assert package["license"] == "Apache-2.0"
    assert package["stability"] == "experimental"
    assert set(package["peerDependencies"]) == {"aws-cdk-lib", "constructs"}
    assert set(package["jsii"]["targets"]) == {"java", "python", "dotnet", "go"}


def test_npm_package_ships_the_assembly_and_the_tablet_of_translated_examples():
    assembly = json.loads(tarball_member(".jsii"))
    assert assembly["name"] == "cdk-event-driven-glue-workflow"
    assert set(assembly["targets"]) == {"js", "java", "python", "dotnet", "go"}
    assert tablet()["snippets"]


def test_every_example_compiled_and_is_translated_to_every_language():
    snippets = tablet()["snippets"].values()
    assert [s["location"] for s in snippets if not s.get("didCompile")] == []
    for snippet in snippets:
        assert {"python", "java", "go", "csharp"} <= set(snippet["translations"])


def test_the_tablet_holds_every_readme_example_and_each_class_example():
    locations = [s["location"] for s in tablet()["snippets"].values()]
    assert sum(1 for loc in locations if loc["field"]["field"] == "markdown") == TS_EXAMPLES
    examples = {loc["api"]["fqn"].split(".", 1)[1] for loc in locations if loc["field"]["field"] == "example"}
    assert CONCRETE_CLASSES == ["EventDrivenGlueWorkflow", "GlueWorkflowTarget", "ParquetConversionJob", "RowRule"]
    # Every concrete class has an example; of the abstract ones, Transform (its factories).
    assert examples == set(CONCRETE_CLASSES) | {"Transform"}


# --- Java: the Maven artifact -----------------------------------------------------------------

def test_java_jar_holds_a_class_for_every_public_type_and_the_assembly():
    with zipfile.ZipFile(maven_file()) as jar:
        names = set(jar.namelist())
    prefix = JAVA_PACKAGE.replace(".", "/")
    assert [t for t in PUBLIC_TYPES if f"{prefix}/{t}.class" not in names] == []
    assert f"{prefix}/cdk-event-driven-glue-workflow@{VERSION}.jsii.tgz" in names


def test_java_pom_has_the_coordinates_and_depends_on_aws_cdk_lib_2():
    pom = ET.fromstring(maven_file(extension="pom").read_bytes())
    assert pom.findtext(f"{POM}groupId") == MAVEN_GROUP == "io.github.cdk-event-driven-glue-workflow"
    assert pom.findtext(f"{POM}artifactId") == MAVEN_ARTIFACT == "cdk-event-driven-glue-workflow"
    assert pom.findtext(f"{POM}version") == VERSION
    assert pom.findtext(f"{POM}licenses/{POM}license/{POM}name") == "Apache License 2.0"
    deps = {d.findtext(f"{POM}artifactId"): d.findtext(f"{POM}version")
            for d in pom.iter(f"{POM}dependency")}
    # jsii-pacmak pins each range to the newest version the registry serves at build time.
    major, minor, _ = (int(x) for x in deps["aws-cdk-lib"].split("."))
    assert major == 2 and minor >= 270
    assert deps["constructs"].startswith("10.")


def test_java_sources_and_javadoc_jars_are_built():
    assert zipfile.is_zipfile(maven_file("sources"))
    assert zipfile.is_zipfile(maven_file("javadoc"))


def test_java_readme_holds_the_java_translation_of_every_example():
    with zipfile.ZipFile(maven_file("sources")) as jar:
        package_info = jar.read(f"{JAVA_PACKAGE.replace('.', '/')}/package-info.java").decode()
    blocks = re.findall(r"<blockquote><pre>(.*?)</pre></blockquote>", package_info, flags=re.DOTALL)
    java_examples = [b for b in blocks if f"import {JAVA_PACKAGE}." in b]
    assert len(java_examples) == TS_EXAMPLES
    assert all("new App()" in b and "app.synth();" in b for b in java_examples)
    assert "non-compiling" not in package_info


# --- Go: the module ---------------------------------------------------------------------------

def test_go_module_path_and_requirements():
    go_mod = (go_module_dir() / "go.mod").read_text(encoding="utf-8")
    assert re.search(rf"^module {re.escape(GO_MODULE)}$", go_mod, flags=re.MULTILINE)
    assert GO_MODULE == ("github.com/cdk-event-driven-glue-workflow/cdk-event-driven-glue-workflow-go/"
                         "cdkeventdrivenglueworkflow")
    assert re.search(r"^\s+github\.com/aws/aws-cdk-go/awscdk/v2 v2\.270\.0$", go_mod, flags=re.MULTILINE)
    assert re.search(r"^\s+github\.com/aws/constructs-go/constructs/v10 v10\.", go_mod, flags=re.MULTILINE)


def test_go_module_has_a_file_for_every_public_type_and_embeds_the_assembly():
    module = go_module_dir()
    assert [t for t in PUBLIC_TYPES if not (module / f"{t}.go").is_file()] == []
    assert (module / "jsii" / f"cdk-event-driven-glue-workflow-{VERSION}.tgz").is_file()
    assert f"package {GO_PACKAGE}" in (module / "EventDrivenGlueWorkflow.go").read_text(encoding="utf-8")


def test_go_readme_holds_the_go_translation_of_every_example():
    readme = (go_module_dir() / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```go\n(.*?)```", readme, flags=re.DOTALL)
    assert len(blocks) == TS_EXAMPLES
    assert re.search(r"```(ts|typescript)\b", readme) is None
    assert sum(f"{GO_PACKAGE}.New" in b for b in blocks) == TS_EXAMPLES
    assert "non-compiling" not in readme


# --- Python: the wheel (its README examples run in test/construct/test_readme_examples.py) ---

def test_python_package_names_and_requirements():
    meta = metadata(TARGETS["python"]["distName"])
    assert meta["Name"] == "cdk-event-driven-glue-workflow"
    requirements = meta.get_all("Requires-Dist")
    assert any(r.replace(" ", "").startswith("aws-cdk-lib<3.0.0,>=2.270.0") for r in requirements), requirements


# --- Release: projen's workflow publishes every package with publib ---------------------------

RELEASE = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("job, publib, package_task", [
    ("release_npm", "publib-npm", None),
    ("release_pypi", "publib-pypi", "package:python"),
    ("release_maven", "publib-maven", "package:java"),
    ("release_golang", "publib-golang", "package:go"),
    ("release_nuget", "publib-nuget", "package:dotnet"),
])
def test_release_workflow_publishes_each_package_with_publib(job, publib, package_task):
    runs = [step.get("run", "") for step in RELEASE["jobs"][job]["steps"]]
    assert any(f"'publib@latest' '{publib}'" in run for run in runs), runs
    if package_task:
        assert any(f"npx projen {package_task}" in run for run in runs), runs


def test_release_job_sets_up_the_test_toolchains_before_building():
    steps = RELEASE["jobs"]["release"]["steps"]
    names = [s.get("name") for s in steps]
    for tool in ("Set up Python", "Set up Java", "Set up Go", "Bootstrap"):
        assert names.index(tool) < names.index("release")
