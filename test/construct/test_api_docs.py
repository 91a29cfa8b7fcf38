"""The public docs as users read them (API.md, IDE tooltips, Construct Hub), from the jsii assembly shipped
in the wheel: no raw `{@link}` and no summary cut at a semicolon.

jsii takes a docstring's first sentence as its summary, and ends a sentence at `;` too: a summary
ending in `;` leaves the rest of the sentence as a fragment in the remarks."""
import json
import pathlib
import tarfile

import cdk_event_driven_glue_workflow


def assembly():
    (tgz,) = (pathlib.Path(cdk_event_driven_glue_workflow.__file__).parent / "_jsii").glob("*.tgz")
    with tarfile.open(tgz) as archive:
        return json.load(archive.extractfile("package/.jsii"))


def documented():
    """(where, docs) of every public type, member and parameter."""
    for fqn, t in assembly()["types"].items():
        yield fqn, t.get("docs", {})
        for member in t.get("properties", []) + t.get("methods", []) + t.get("members", []):
            yield f"{fqn}.{member['name']}", member.get("docs", {})
            for parameter in member.get("parameters", []):
                yield f"{fqn}.{member['name']}({parameter['name']})", parameter.get("docs", {})
        for parameter in (t.get("initializer") or {}).get("parameters", []):
            yield f"{fqn}({parameter['name']})", parameter.get("docs", {})


def test_assembly_has_docs():
    assert len(list(documented())) > 100


def test_no_raw_link_tags():
    assert [where for where, docs in documented() if "{@link" in json.dumps(docs)] == []


def test_no_summary_cut_at_a_semicolon():
    assert [(where, docs["summary"]) for where, docs in documented() if docs.get("summary", "").endswith(";")] == []


def test_no_remarks_starting_mid_sentence():
    assert [(where, docs["remarks"][:40]) for where, docs in documented() if docs.get("remarks", "")[:1].islower()] == []


def test_every_optional_property_has_a_default():
    missing = []
    for fqn, t in assembly()["types"].items():
        if t.get("datatype"):
            missing += [f"{fqn}.{p['name']}" for p in t.get("properties", [])
                        if p.get("optional") and "default" not in p.get("docs", {})]
    assert missing == []
