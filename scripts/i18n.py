"""Refreshes the Chinese translation: extracts every user-visible string from the sources into
``resources/i18n/pos_member_zh_CN.ts`` (keeping existing translations) and compiles the ``.qm``.

    .venv/bin/python scripts/i18n.py            # update .ts and .qm
    .venv/bin/python scripts/i18n.py --check    # exit 1 if a string lacks a translation
    .venv/bin/python scripts/i18n.py --fill tr.json   # also take translations from a file

A fill file is ``{"<context>": {"<English source>": "<translation>"}}``: handy when several
people add screens at once and each hands over their strings.

Translate new strings in Qt Linguist (``pyside6-linguist resources/i18n/pos_member_zh_CN.ts``)
or in the .ts file itself, then run this again. tests/ui/test_i18n.py fails while any string
is untranslated or the .qm is stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "resources" / "i18n" / "pos_member_zh_CN.ts"
QM = TS.with_suffix(".qm")
BIN = Path(sys.executable).parent


def sources() -> list[Path]:
    # sync/errors.py: the sync client's errors (server unreachable, refused) are shown at the till.
    return sorted([*(p for d in ("pos_member", "ui") for p in (ROOT / d).rglob("*.py")
                     if "migrations" not in p.parts), ROOT / "sync" / "errors.py"])


def lupdate(ts: Path) -> None:
    subprocess.run(
        [str(BIN / "pyside6-lupdate"), "-no-obsolete", "-locations", "none",
         *map(str, sources()), "-ts", str(ts)],
        check=True, capture_output=True,
    )


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run([str(BIN / "pyside6-lrelease"), str(ts), "-qm", str(qm)], check=True,
                   capture_output=True)


def untranslated(ts: Path) -> list[tuple[str, str]]:
    missing = []
    for ctx in ET.parse(ts).getroot().iter("context"):
        name = ctx.findtext("name") or ""
        for msg in ctx.iter("message"):
            tr = msg.find("translation")
            if tr is None or not (tr.text or "").strip() or tr.get("type") in ("unfinished",
                                                                              "obsolete"):
                missing.append((name, msg.findtext("source") or ""))
    return missing


def fill(ts: Path, translations: dict[str, dict[str, str]]) -> int:
    """Writes the given translations into ``ts`` (replacing unfinished ones); returns how many
    messages it filled."""
    tree = ET.parse(ts)
    filled = 0
    for ctx in tree.getroot().iter("context"):
        wanted = translations.get(ctx.findtext("name") or "", {})
        for msg in ctx.iter("message"):
            text = wanted.get(msg.findtext("source") or "")
            tr = msg.find("translation")
            if text is None or tr is None:
                continue
            tr.text = text
            tr.attrib.pop("type", None)
            filled += 1
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return filled


def main() -> int:
    if "--check" not in sys.argv:
        lupdate(TS)
        if "--fill" in sys.argv:
            for path in sys.argv[sys.argv.index("--fill") + 1:]:
                print(f"{path}: {fill(TS, json.loads(Path(path).read_text('utf-8')))} filled")
            lupdate(TS)  # back to lupdate's own formatting
        lrelease(TS, QM)
    missing = untranslated(TS)
    for ctx, text in missing:
        print(f"untranslated [{ctx}] {text}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
