"""Builds the till's bundle (``make bundle``): ``dist/pos-member`` from ``build.spec``, then
prints its size and file count (the closing note quotes them; the target is under 120 MB).

    .venv/bin/python scripts/bundle.py

Writes Windows' version information (``build/version_info.txt``, from ``pos_member.__version__``)
first, which the spec gives both programs; PyInstaller ignores it on other systems.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_member import __version__  # noqa: E402

DIST = ROOT / "dist"
BUNDLE = DIST / "pos-member"

VERSION_INFO = """VSVersionInfo(
  ffi=FixedFileInfo(filevers={nums}, prodvers={nums}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('080404b0', [
      StringStruct('CompanyName', 'POS Member'),
      StringStruct('FileDescription', 'POS Member till 会员收银'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('ProductName', 'POS Member'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [2052, 1200])])
  ]
)
"""


def version_numbers(version: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in version.split(".")[:4] if p.isdigit()]
    return (*parts, 0, 0, 0, 0)[:4]  # type: ignore[return-value]


def main() -> int:
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    (build / "version_info.txt").write_text(
        VERSION_INFO.format(nums=version_numbers(__version__), version=__version__),
        encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(build / "pyinstaller"),
         str(ROOT / "build.spec")], cwd=ROOT)
    if done.returncode:
        return done.returncode
    if sys.platform != "win32":
        # Off Windows the two programs are the same file (no console subsystem to differ in):
        # the till is a link to the console program, which tells them apart by its name.
        till = BUNDLE / "pos-member-till"
        till.unlink()
        till.symlink_to("pos-member")
    files = [p for p in BUNDLE.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    print(f"bundle {BUNDLE}: {size / 1e6:.1f} MB in {len(files)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
