"""sparkconf without a JVM: the Ivy settings file, merging confs, spark-defaults escaping."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cdk_event_driven_glue_workflow_tools import sparkconf


def test_ivy_settings_resolve_from_maven_central_only_into_a_cache_outside_the_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_EVENT_DRIVEN_GLUE_WORKFLOW_CACHE", str(tmp_path / "cache"))
    path = sparkconf.ivy_settings()
    assert path == tmp_path / "cache" / "ivysettings.xml"
    root = ET.parse(path).getroot()
    resolvers = list(root.find("resolvers"))
    assert [(r.tag, r.get("m2compatible"), r.get("root")) for r in resolvers] == [
        ("ibiblio", "true", "https://repo1.maven.org/maven2/")]
    assert root.find("settings").get("defaultResolver") == resolvers[0].get("name")
    assert root.find("caches").get("defaultCacheDir") == str(tmp_path / "cache" / "ivy" / "cache")
    # written once: a second call leaves the file alone
    stamp = path.stat().st_mtime_ns
    assert sparkconf.ivy_settings() == path and path.stat().st_mtime_ns == stamp
    conf = sparkconf.s3_conf("http://127.0.0.1:1", "k", "s")
    assert conf["spark.jars.ivySettings"] == str(path)
    assert conf["spark.jars.ivy"] == str(tmp_path / "cache" / "ivy")


def test_merge_concatenates_packages_and_extensions_and_overrides_the_rest():
    merged = sparkconf.merge(
        sparkconf.base_conf(),
        sparkconf.s3_conf("http://127.0.0.1:1", "k", "s"),
        sparkconf.iceberg_conf(),
        sparkconf.s3_conf("http://127.0.0.1:2", "k2", "s2"),  # packages not repeated
        {"spark.sql.extensions": "x.Ext"},
    )
    assert merged["spark.jars.packages"] == ",".join(
        [sparkconf.HADOOP_AWS, sparkconf.ICEBERG_SPARK_RUNTIME, sparkconf.ICEBERG_AWS_BUNDLE])
    assert merged["spark.sql.extensions"] == sparkconf.ICEBERG_EXTENSIONS + ",x.Ext"
    assert merged["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:2"
    assert merged["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert merged["spark.master"] == "local[2]"


def test_spark_defaults_escapes_like_java_properties(tmp_path):
    conf = {
        "spark.driver.extraJavaOptions": '-Da=1 -Db="x y"',
        "spark.x.path": "C:\\dir\\file",
        "spark.x.leading": " padded",
        "spark.x.multi": "line1\nline2",
        "spark.x.unicode": "ü",
    }
    text = (sparkconf.write_spark_defaults(conf, tmp_path) / "spark-defaults.conf").read_text("utf-8")
    assert text.splitlines()[1:] == [
        'spark.driver.extraJavaOptions -Da=1 -Db="x y"',
        "spark.x.path C:\\\\dir\\\\file",
        "spark.x.leading \\ padded",
        "spark.x.multi line1\\nline2",
        "spark.x.unicode ü",
    ]


class _System:
    def __init__(self, props):
        self.props = props

    def getProperty(self, key):  # noqa: N802 (java.lang.System's name)
        return self.props.get(key)


class _Jvm:
    def __init__(self, props):
        self.java = type("java", (), {"lang": type("lang", (), {"System": _System(props)})})


def test_a_running_jvm_serves_jars_it_was_launched_with_as_file_uris(tmp_path):
    jar = tmp_path / "helper.jar"
    launched = _Jvm({"spark.jars": f"{jar.as_uri()},file:///other.jar",
                     "spark.jars.packages": "org.apache.hadoop:hadoop-aws:3.3.4"})
    sparkconf._check_jvm_can_serve(launched, {"spark.jars": str(jar),
                                              "spark.jars.packages": "org.apache.hadoop:hadoop-aws:3.3.4"})
    with pytest.raises(RuntimeError, match="launched without .*missing.jar"):
        sparkconf._check_jvm_can_serve(launched, {"spark.jars": str(tmp_path / "missing.jar")})
