from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("PySide6", "shiboken6", "httpx")

_IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import pos_member
names = [m.name for m in pkgutil.walk_packages(pos_member.__path__, "pos_member.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def core() -> dict[str, list[str]]:
    """What a fresh interpreter has loaded after importing every module of pos_member."""
    done = subprocess.run([sys.executable, "-c", _IMPORT_EVERYTHING],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_core_module_pulls_in_no_gui_or_http_library(
    core: dict[str, list[str]],
) -> None:
    loaded = core["loaded"]
    leaked = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert leaked == []


def test_the_layering_check_sees_the_whole_core(core: dict[str, list[str]]) -> None:
    """Guards the check above: it must really walk the services and the database layer."""
    modules = set(core["modules"])
    assert {"pos_member.services.members", "pos_member.services.staff",
            "pos_member.db.uow", "pos_member.bootstrap"} <= modules


def test_the_core_imports_nothing_from_the_ui_package(core: dict[str, list[str]]) -> None:
    loaded = core["loaded"]
    assert [m for m in loaded if m == "ui" or m.startswith("ui.")] == []
