import os

# The jsii runtime prints a large end-of-life banner on Node 20 without this.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "smoke: builds and synthesizes an app in another language against dist/ "
        "(the slowest tests; run alone with -m smoke)",
    )


def pytest_sessionstart(session):
    """The suites are folders, not packages: pytest imports each test module by its basename,
    so two test modules with one name stop the whole run at collection (it happened twice).
    Say which, before pytest's own "import file mismatch"."""
    import collections
    import pathlib

    import pytest

    root = pathlib.Path(__file__).resolve().parent
    names = collections.defaultdict(list)
    for path in root.rglob("test_*.py"):
        names[path.name].append(str(path.relative_to(root)))
    clashes = {name: paths for name, paths in names.items() if len(paths) > 1}
    if clashes:
        raise pytest.UsageError("test modules must have unique basenames under test/: " + "; ".join(
            f"{name} in {', '.join(sorted(paths))}" for name, paths in sorted(clashes.items())))
