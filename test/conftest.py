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
