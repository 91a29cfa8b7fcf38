"""projen configuration for cdk-event-driven-glue-workflow.

Run ``npx projen`` (or ``make bootstrap``) after editing this file; every
generated file (package.json, tsconfig, .gitignore, tasks, workflows) comes from here.
"""
from projen import DependencyType, ReleasableCommits
from projen.awscdk import AwsCdkConstructLibrary
from projen.cdk import JsiiDotNetTarget, JsiiGoTarget, JsiiJavaTarget, JsiiPythonTarget
from projen.github import GitHubOptions
from projen.javascript import BuildWorkflowOptions, NodePackageManager
from projen.python import Projenrc

PYTHON = ".venv/bin/python"
JSII_ENV = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
# The project's own Maven repository: jsii-pacmak and the Java smoke app share it.
MAVEN_REPO = ".tmp/m2"
# What `make test` and `package-local` build here; dotnet needs the .NET SDK.
LOCAL_TARGETS = ["js", "python", "java", "go"]

# The toolchains the tests need on a GitHub runner, then the project's own bootstrap.
CI_SETUP_STEPS = [
    {"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
    {"name": "Set up Java", "uses": "actions/setup-java@v4", "with": {"distribution": "temurin", "java-version": "17"}},
    {"name": "Set up Go", "uses": "actions/setup-go@v5", "with": {"go-version": "1.25.x"}},
    {"name": "Bootstrap", "run": "./scripts/bootstrap.sh"},
]

project = AwsCdkConstructLibrary(
    name="cdk-event-driven-glue-workflow",
    package_name="cdk-event-driven-glue-workflow",
    description=(
        "Event-driven AWS Glue pipelines as one CDK construct: S3 Object Created events "
        "batched by a Glue workflow EVENT trigger into an exactly-once Parquet conversion job."
    ),
    author="cdk-event-driven-glue-workflow maintainers",
    author_address="maintainers@cdk-event-driven-glue-workflow.dev",
    repository_url="https://github.com/cdk-event-driven-glue-workflow/cdk-event-driven-glue-workflow.git",
    license="Apache-2.0",
    stability="experimental",
    keywords=["awscdk", "cdk", "glue", "eventbridge", "s3", "parquet", "data-engineering"],
    default_release_branch="main",
    releasable_commits=ReleasableCommits.features_and_fixes(),
    cdk_version="2.270.0",
    constructs_version="10.5.0",
    jsii_version="~5.9.0",
    typescript_version="~5.9.0",
    min_node_version="20.0.0",
    workflow_node_version="22.x",
    package_manager=NodePackageManager.NPM,
    projenrc_js=False,
    projenrc_ts=False,
    jest=False,
    eslint=False,
    prettier=False,
    docgen=True,
    # GitHub: a build workflow for pull requests and a release workflow that
    # publishes every package with publib. Neither runs here; `.ci/run` is our CI.
    github=True,
    github_options=GitHubOptions(mergify=False, pull_request_lint=False),
    pull_request_template=False,
    deps_upgrade=False,
    build_workflow_options=BuildWorkflowOptions(pre_build_steps=CI_SETUP_STEPS),
    release=True,
    release_workflow_setup_steps=CI_SETUP_STEPS,
    release_to_npm=True,
    # One name per language, derived from the npm name and the GitHub owner:
    # io.github.<owner> is the Maven Central namespace a GitHub owner can verify,
    # the Java package is that group with the hyphens made underscores (JLS 6.1),
    # and publib pushes the Go module to the owner's `-go` repository.
    publish_to_pypi=JsiiPythonTarget(
        dist_name="cdk-event-driven-glue-workflow",
        module="cdk_event_driven_glue_workflow",
    ),
    publish_to_maven=JsiiJavaTarget(
        maven_group_id="io.github.cdk-event-driven-glue-workflow",
        maven_artifact_id="cdk-event-driven-glue-workflow",
        java_package="io.github.cdk_event_driven_glue_workflow",
    ),
    publish_to_go=JsiiGoTarget(
        module_name="github.com/cdk-event-driven-glue-workflow/cdk-event-driven-glue-workflow-go",
        package_name="cdkeventdrivenglueworkflow",
    ),
    # Built and released by the release workflow; not here (no .NET SDK on this machine).
    publish_to_nuget=JsiiDotNetTarget(
        dot_net_namespace="CdkEventDrivenGlueWorkflow",
        package_id="CdkEventDrivenGlueWorkflow",
    ),
    # The PySpark job ships inside the npm tarball, hence in every language package.
    npm_ignore_options={"ignore_patterns": [
        "/test/", "/examples/", "/bench/", "/tools/", "/.venv/", "/.ci/", "/scripts/",
        "/cdk.out/", "/.tmp/", "/Makefile", "/requirements-dev.txt", "/rosetta/", "/.projenrc.py",
    ]},
    gitignore=[
        ".venv/",
        "cdk.out/",
        "*.egg-info/",
        "__pycache__/",
        ".pytest_cache/",
        "spark-warehouse/",
        "metastore_db/",
        "derby.log",
        "/.tmp/",
        "/bench/out/",
        # What `cdk-glue-pipeline plan` writes by default when run here.
        "/cdk-glue-pipeline-plan/",
        # Built from assets/glue/jvm by scripts/build-job-jar.sh before every compile;
        # it ships in the npm tarball (hence in every language package), never in git.
        "/assets/glue/lib/",
    ],
)

Projenrc(project, python_exec=PYTHON)

# The jsii toolchain prints a large banner on Node 20 without this.
for name, value in JSII_ENV.items():
    project.tasks.add_environment(name, value)

# The tablet of translated examples ships in the npm tarball: Construct Hub and
# jsii-pacmak render every language's README and API docs from it.
project.gitignore.exclude("/.jsii.tabl.json")
project.npmignore.include("/.jsii.tabl.json")
# The Java smoke app builds in place (the TypeScript one in a temp dir, Go writes nothing).
project.gitignore.exclude("/test/smoke/java/target/")

# The default job's JVM helper (a static method Spark calls through `reflect`), built
# as the first step of `compile` (which `build`, `test`, `wheel` and `demo` all run; they
# spawn `compile` directly, not `pre-compile`): the construct ships it on --extra-jars,
# so every synth needs the jar.
job_jar = project.add_task(
    "build:job-jar",
    description="Compile the default job's JVM helper (assets/glue/jvm) into assets/glue/lib/glue-ingest-jvm.jar",
    exec="scripts/build-job-jar.sh",
)
project.compile_task.prepend_spawn(job_jar)

rosetta = project.add_task(
    "rosetta:extract",
    description="Compile every TypeScript example (README, @example) strictly and translate it for each language",
    exec="jsii-rosetta extract --strict",
)

# API.md in the Python flavour: our users read Python first. It translates the
# @example snippets from the tablet, so it runs after rosetta.
post_compile = project.tasks.try_find("post-compile")
docgen = project.tasks.try_find("docgen")
docgen.reset("jsii-docgen -o API.md -l python")
post_compile.reset()
post_compile.spawn(rosetta)
post_compile.spawn(docgen)

# aws-cdk-lib for Java must be resolvable before pacmak builds our jar (see the script).
PACMAK_JAVA_ARGS = f"--maven-local-repository={MAVEN_REPO}"
seed_maven = f"scripts/seed-maven.sh {MAVEN_REPO}"
package_java = project.tasks.try_find("package:java")
package_java.reset()
package_java.exec(seed_maven)
package_java.exec(f"jsii-pacmak -v --target java {PACMAK_JAVA_ARGS}")

package_local = project.add_task(
    "package-local",
    description="Build the npm, Python, Java and Go packages into dist/ in one jsii-pacmak run, "
                "and the tools wheel (package-all adds NuGet, which needs the .NET SDK)",
)
package_local.exec(seed_maven)
package_local.exec("jsii-pacmak " + " ".join(f"--target {t}" for t in LOCAL_TARGETS) + f" {PACMAK_JAVA_ARGS}")
# Outside CI, `npx projen package` (and so `build`) builds what this machine can.
package = project.tasks.try_find("package")
package.reset()
package.spawn(project.tasks.try_find("package:js"), condition='node -e "if (!process.env.CI) process.exit(1)"')
package.spawn(package_local, condition='node -e "if (process.env.CI) process.exit(1)"')

# The companion package cdk-event-driven-glue-workflow-tools (tools/: `cdk-glue-pipeline
# plan|run`), built as a wheel into dist/python/ next to the library's, with the library's
# version and an exact requirement on it (scripts/build-tools-wheel.sh).
package_tools = project.add_task(
    "package:tools",
    description="Build the tools wheel (cdk-event-driven-glue-workflow-tools) into dist/python/",
    exec="scripts/build-tools-wheel.sh",
)
# Releases: projen's PyPI job (release_pypi in .github/workflows/release.yml) runs
# `npx projen package:python` on a fresh checkout and then `publib-pypi`, which uploads
# every wheel in dist/python/. Building the tools wheel in that task is what publishes
# it to PyPI with the library, under the same TWINE_USERNAME/TWINE_PASSWORD. So that
# token must be allowed to upload both projects: a token scoped to the library's
# project cannot upload the tools, and the first upload of a new project needs an
# account-scoped token. (Not run here: nothing is published from this machine.)
package_python = project.tasks.try_find("package:python")
package_python.reset("jsii-pacmak -v --target python")
package_python.spawn(package_tools)
package_local.spawn(package_tools)

# Only the library's wheel: the tools stay installed editable in .venv (scripts/bootstrap.sh).
install_wheel = f"{PYTHON} -m pip install --quiet --force-reinstall --no-deps dist/python/cdk_event_driven_glue_workflow-*.whl"

# The Python wheel alone, installed into the project's venv: the demo meets the
# code the way our users do.
wheel = project.add_task(
    "wheel",
    description="Compile with jsii, build the Python wheel (and the tools wheel) and install the library's into .venv",
)
wheel.spawn(project.tasks.try_find("compile"))
wheel.spawn(post_compile)
wheel.exec("rm -rf dist/python && jsii-pacmak --target python")
wheel.spawn(package_tools)
wheel.exec(install_wheel)

# Every package is built, the wheel installed, then every suite runs: construct and
# job tests through the wheel, smoke apps in TypeScript, Java and Go on dist/.
test = project.tasks.try_find("test")
test.reset()
test.spawn(project.tasks.try_find("compile"))
test.spawn(post_compile)
test.spawn(package_local)
test.exec(install_wheel)
# --durations: the slowest tests are in every CI log, to keep the run under its 30 minutes.
test.exec(f"{PYTHON} -m pytest test --durations=20", receive_args=True)

demo = project.add_task(
    "demo",
    description="Synthesize examples/ with the cdk CLI and show what the pipeline creates",
)
demo.spawn(wheel)
demo.exec(f"{PYTHON} examples/demo.py", receive_args=True)

project.add_dev_deps("aws-cdk@^2.1100.0")
# Build against the oldest versions we support: projen pins aws-cdk-lib to 2.270.0,
# and these pin its jsii dependencies to the minimums aws-cdk-lib 2.270.0 declares.
# The generated go.mod lists them, so the Go module then requires nothing newer
# than aws-cdk-go v2.270.0 itself does (the Go proxy here lacks the newer zips).
project.add_dev_deps(
    "@aws-cdk/cloud-assembly-schema@54.11.0",
    "@aws-cdk/asset-node-proxy-agent-v6@2.1.2",
)
project.deps.add_dependency("jsii-docgen@^10", DependencyType.BUILD)

project.synth()
