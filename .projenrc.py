"""projen configuration for cdk-event-driven-glue-workflow.

Run ``npx projen`` (or ``make bootstrap``) after editing this file; every
generated file (package.json, tsconfig, .gitignore, tasks) comes from here.
"""
from projen import DependencyType, ReleasableCommits
from projen.awscdk import AwsCdkConstructLibrary
from projen.javascript import NodePackageManager
from projen.python import Projenrc

PYTHON = ".venv/bin/python"
JSII_ENV = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

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
    package_manager=NodePackageManager.NPM,
    projenrc_js=False,
    projenrc_ts=False,
    jest=False,
    eslint=False,
    prettier=False,
    github=False,
    release=False,
    docgen=True,
    # Python: the primary way users meet the library.
    publish_to_pypi={
        "dist_name": "cdk-event-driven-glue-workflow",
        "module": "cdk_event_driven_glue_workflow",
    },
    # The PySpark job ships inside the npm tarball, hence in every language package.
    npm_ignore_options={"ignore_patterns": [
        "/test/", "/examples/", "/bench/", "/local_runner/", "/.venv/", "/.ci/", "/scripts/",
        "/cdk.out/", "/.tmp/", "/Makefile", "/requirements-dev.txt",
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
    ],
)

Projenrc(project, python_exec=PYTHON)

# The jsii toolchain prints a large banner on Node 20 without this.
for name, value in JSII_ENV.items():
    project.tasks.add_environment(name, value)

# API.md in the Python flavour: our users read Python first.
docgen = project.tasks.try_find("docgen")
docgen.reset("jsii-docgen -o API.md -l python")

# The Python wheel, installed into the project's venv: tests and the demo meet
# the code the way our users do.
wheel = project.add_task(
    "wheel",
    description="Compile with jsii, build the Python wheel and install it into .venv",
)
wheel.spawn(project.tasks.try_find("compile"))
wheel.spawn(project.tasks.try_find("post-compile"))
wheel.exec("rm -rf dist/python && jsii-pacmak --target python")
wheel.exec(f"{PYTHON} -m pip install --quiet --force-reinstall --no-deps dist/python/*.whl")

test = project.tasks.try_find("test")
test.reset()
test.spawn(wheel)
test.exec(f"{PYTHON} -m pytest test", receive_args=True)

demo = project.add_task(
    "demo",
    description="Synthesize examples/ with the cdk CLI and show what the pipeline creates",
)
demo.spawn(wheel)
demo.exec(f"{PYTHON} examples/demo.py", receive_args=True)

project.add_dev_deps("aws-cdk@^2.1100.0")
project.deps.add_dependency("jsii-docgen@^10", DependencyType.BUILD)

project.synth()
