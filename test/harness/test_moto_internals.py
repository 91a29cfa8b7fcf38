"""The test-only patches of moto name the moto internals they rely on, and fail clearly without them.

moto 5.2.6 rewrote its request parsing in a patch release; the patches of its private
internals then failed as 500s and AccessDenied answers far from their cause. Each patch now
declares what it relies on, checked before it installs: these tests take each internal away
in turn and expect the error that names it, the patch and the proven moto version.
"""
from __future__ import annotations

import importlib
import pathlib
import re

import moto
import pytest
from cdk_event_driven_glue_workflow_tools import moto_patches
from cdk_event_driven_glue_workflow_tools.moto_patches import ALL_PATCHES, PROVEN_MOTO_VERSION, MotoInternalsChanged

ROOT = pathlib.Path(__file__).resolve().parents[2]

CASES = [(patch, internal) for patch in ALL_PATCHES for internal in patch.moto_internals]


def _remove(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Takes the internal at ``module:Class.attribute`` away, where it is defined."""
    module_name, _, attributes = path.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = attributes.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    if isinstance(owner, type):
        owner = next(cls for cls in owner.__mro__ if name in cls.__dict__)
    monkeypatch.delattr(owner, name)


def test_every_patch_declares_what_it_relies_on():
    assert len(ALL_PATCHES) == 9
    assert all(patch.moto_internals for patch in ALL_PATCHES), [p.__name__ for p in ALL_PATCHES]


@pytest.mark.parametrize("patch,internal", CASES, ids=[f"{p.__name__}-{i}" for p, i in CASES])
def test_a_patch_whose_internal_is_gone_fails_naming_it(monkeypatch, patch, internal):
    _remove(monkeypatch, internal)
    with pytest.raises(MotoInternalsChanged) as changed:
        patch()
    message = str(changed.value)
    assert f"the {patch.__name__} patch relies on moto's {internal}" in message
    assert f"moto {moto.__version__} lacks" in message and f"written for moto {PROVEN_MOTO_VERSION}" in message


@pytest.mark.parametrize("patch", ALL_PATCHES, ids=lambda p: p.__name__)
def test_each_patch_installs_and_undoes_on_the_proven_moto(patch):
    undo = patch()
    undo()


def test_the_installed_moto_is_the_proven_one():
    assert moto.__version__ == PROVEN_MOTO_VERSION, (
        f"moto {moto.__version__} is installed, the patches in moto_patches.py are proven on {PROVEN_MOTO_VERSION}: "
        "run the suite on the new version and move PROVEN_MOTO_VERSION with it (make upgrade)")


def test_the_tools_package_pins_the_proven_moto():
    pyproject = (ROOT / "tools" / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(rf'"moto\[[a-z0-9,]+\]=={re.escape(PROVEN_MOTO_VERSION)}"', pyproject), pyproject


def test_a_lost_instance_attribute_is_named_not_denied(monkeypatch):
    """The SQS batch rename relies on moto's IAMRequest keeping the action in ``_action``."""
    from moto.iam.access_control import IAMRequest

    undo = moto_patches.patch_moto_to_authorize_sqs_batch_calls_by_their_iam_action()
    try:
        request = IAMRequest.__new__(IAMRequest)  # without the attribute moto's __init__ sets
        with pytest.raises(MotoInternalsChanged, match=r"IAMRequest\._action"):
            request.check_action_permitted("*")
    finally:
        undo()
