"""The central server's packages are the ``[server]`` install extra: a till runs without them,
and ``pos-member-server`` says how to install them when they are missing."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ("fastapi", "uvicorn", "psycopg", "starlette")

# Runs a snippet with the server-only packages made unimportable, as on a till's install.
_BLOCK = f"""
import importlib.abc, importlib.machinery, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
_find = importlib.util.find_spec
def find_spec(name, package=None):
    if name.split(".")[0] in {SERVER_ONLY!r}:
        return None
    return _find(name, package)
importlib.util.find_spec = find_spec
"""


def run_without_server_packages(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + code], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
                          "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def test_the_server_packages_are_an_extra_that_dev_includes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = " ".join(project["dependencies"])
    # The till serves the main POS its loopback API (integration_api): FastAPI and uvicorn are
    # the till's too; PostgreSQL's driver stays HQ's.
    assert "psycopg" not in base
    assert any(d.startswith("psycopg") for d in project["optional-dependencies"]["server"])
    for name in ("fastapi", "uvicorn"):
        assert name in base
    assert "pos-member[server]" in project["optional-dependencies"]["dev"]
    for name in ("httpx", "pydantic", "msgspec"):  # the till's sync client needs these
        assert name in base


def test_the_till_and_its_sync_run_without_the_server_packages(tmp_path: Path) -> None:
    done = run_without_server_packages(
        "import pos_member_app.cli, sync.client, sync.engine, ui.sync_worker, ui.app, ui.till\n"
        "from sync.client import SyncClient\n"
        "SyncClient('http://127.0.0.1:9', 'token').close()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in "
        f"{SERVER_ONLY!r} or m.startswith('sync.server')]\n"
        "assert loaded == [], loaded\n"
        "try:\n"
        "    pos_member_app.cli.main(['--help'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "usage: pos-member" in done.stdout


def test_the_server_command_says_how_to_install_what_is_missing(tmp_path: Path) -> None:
    done = run_without_server_packages(
        "from sync.server.cli import main\n"
        f"raise SystemExit(main(['--database', 'sqlite:///{tmp_path}/s.sqlite', 'list-flags']))",
        tmp_path)
    assert done.returncode == 1, done.stderr
    assert "pip install 'pos-member[server]'" in done.stderr
    assert "fastapi" in done.stderr and "Traceback" not in done.stderr
    done = run_without_server_packages(
        "from sync.server.cli import main\n"
        "raise SystemExit(main(['--database', 'postgresql+psycopg://x@localhost/db', "
        "'list-flags']))", tmp_path)
    assert done.returncode == 1 and "psycopg" in done.stderr
