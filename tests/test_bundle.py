"""The till's bundle (``make bundle``, build.spec) as a store runs it: its demo starts headless
and the till program opens the till, and what a till never uses was left out. ``make test``
builds the bundle first and sets POS_MEMBER_REQUIRE_BUNDLE=1, so CI fails on a missing data
file or hidden import; elsewhere these tests skip when no bundle was built."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.keyring_check import require_os_keyring
from tests.test_cli import forget_data_key

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "pos-member"
REQUIRE_ENV = "POS_MEMBER_REQUIRE_BUNDLE"
EXE = ".exe" if sys.platform == "win32" else ""


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not (BUNDLE / f"pos-member{EXE}").exists():
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but no bundle was built (make bundle)")
        pytest.skip("no bundle built (make bundle)")
    return BUNDLE


def run(bundle: Path, program: str, *argv: object, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(home)}
    return subprocess.run([str(bundle / f"{program}{EXE}"), *map(str, argv)],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def demo_data(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_os_keyring()
    root = tmp_path_factory.mktemp("bundle")
    data = root / "data"
    first = run(bundle, "pos-member", "demo", "--data-dir", data, "--members", 20,
                "--exit-when-ready", home=root)
    assert first.returncode == 0, first.stderr
    assert "Till ready." in first.stdout
    yield data
    forget_data_key(data / "till.sqlite")


@pytest.mark.keyring_real
def test_the_bundles_till_program_opens_the_demo_store(bundle: Path, demo_data: Path) -> None:
    done = run(bundle, "pos-member-till", "run", "--data-dir", demo_data, "--exit-when-ready",
               home=demo_data.parent)
    assert done.returncode == 0, done.stderr
    assert "Login window shown." in done.stdout and "Till ready." in done.stdout


@pytest.mark.keyring_real
def test_the_bundles_console_program_reads_its_database(bundle: Path, demo_data: Path) -> None:
    done = run(bundle, "pos-member", "db", "version", "--data-dir", demo_data,
               home=demo_data.parent)
    assert done.returncode == 0, done.stderr
    assert "schema 00" in done.stdout


def test_the_bundle_leaves_out_what_a_till_never_uses(bundle: Path) -> None:
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")}
    translations = {n.rsplit("/", 1)[1] for n in names if "/Qt/translations/" in n}
    assert translations <= {"qt_zh_CN.qm", "qt_en.qm", "qtbase_zh_CN.qm", "qtbase_en.qm"}
    assert "qtbase_zh_CN.qm" in translations
    assert not [n for n in names if "platformthemes" in n or "libgtk" in n]
    assert not [n for n in names if n.endswith(("libqeglfs.so", "libqvnc.so", "libqgif.so"))]
    assert not [n for n in names if "/sync/server" in n or "/psycopg/" in n]
    assert any(n.endswith("resources/rules/default.toml") for n in names)
    assert any(n.endswith("resources/i18n/pos_member_zh_CN.qm") for n in names)
