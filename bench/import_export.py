"""Benchmark: importing 100,000 members from the old system's .xlsx at HQ, and exporting them.

The file (cached in ``bench/.data/``, rebuilt when this file changes or with ``--rebuild``):
100,000 rows in the import template, 5 % of them a second row of another row's phone (merged
within the file), 2 % bad rows (a phone in scientific notation, a date that is no date, a tier
the rules lack, an amount in yuan with cents), the rest with points, an expiry and stored
value on some. Each import runs in a child process on a fresh HQ database (one store), so its
time, CPU time and peak memory (the child's own high-water resident set, ``VmHWM``) are its
own.

* ``import100k_sqlite_s`` / ``import100k_postgres_s``: ``import_members`` on SQLite and on a
  private PostgreSQL (Debian's binaries, ``tests/server/postgres.py``; ``--no-postgres``: null).
* ``import_sqlite_cpu_s`` / ``import_postgres_cpu_s``: the import's CPU time in its child
  (PostgreSQL's server apart): on a loaded machine, what the wall time would be alone.
* ``import_peak_mb``: the larger peak of the two children (import, then export).
* ``export100k_s``: ``export_members`` of the 100,000 (masked) from the PostgreSQL database
  (SQLite without PostgreSQL).
* raw baselines from the same run: ``raw_executemany_s``, a bare ``sqlite3`` ``executemany``
  of the file's rows into one table; ``raw_xlsx_read_s``, openpyxl's read-only load of the
  same file, every row read.

    .venv/bin/python bench/import_export.py [--rows N] [--no-postgres] [--rebuild]

Targets (issue 20): import <= 30 s and <= 300 MB, export <= 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / ".data"
_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def build_file(path: Path, rows: int) -> None:
    """The fixture: the template's header, then ``rows`` rows (see the module docstring)."""
    import openpyxl

    from sync.server.import_rows import HEADERS

    rng = random.Random(20)
    book = openpyxl.Workbook()  # not write-only: shared strings, as Excel saves a file
    sheet = book.active
    sheet.title = "会员"
    sheet.append(list(HEADERS))
    phones: list[str] = []
    tiers = ["", "", "", "银卡", "金卡", "钻石"]
    for i in range(rows):
        r = rng.random()
        if phones and r < 0.05:
            phone = rng.choice(phones)  # a duplicate within the file
        else:
            phone = f"13{i:09d}"
            phones.append(phone)
        row = [phone, f"会员{i}", rng.choice(["男", "女", ""]), f"19{rng.randint(50, 99)}-0"
               f"{rng.randint(1, 9)}-1{rng.randint(0, 9)}", f"20{rng.randint(10, 24)}-0"
               f"{rng.randint(1, 9)}-2{rng.randint(0, 8)}", rng.choice(tiers),
               rng.choice([0, 0, 120, 3500]), "2099-12-31",
               rng.choice([0, 0, 0, 50_000]), rng.choice([0, 0, 5_000]), "", "是", f"OLD-{i}"]
        if 0.05 <= r < 0.07:  # a bad row
            kind = rng.randrange(4)
            if kind == 0:
                row[0] = "1.38123E+10"
            elif kind == 1:
                row[4] = "2019-13-45"
            elif kind == 2:
                row[5] = "白金卡"
            else:
                row[8] = "120.50"
        sheet.append(row)
    book.save(path)


def fixture(rows: int, rebuild: bool) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"members-import-{rows}-{_VERSION}.xlsx"
    if rebuild or not path.exists():
        for old in DATA.glob(f"members-import-{rows}-*.xlsx"):
            old.unlink()
        t = time.perf_counter()
        build_file(path, rows)
        print(f"built {path.name} in {time.perf_counter() - t:.1f} s")
    return path


def child(url: str, path: Path, export_to: str) -> None:
    """One import (and an export) on a fresh database: prints its figures as JSON."""
    from pos_member.clock import SystemClock
    from sync.server import services
    from sync.server.context import ServerContext
    from sync.server.db import open_server_database, upgrade
    from sync.server.members_export import export_members
    from sync.server.members_import import import_members

    db = open_server_database(url)
    upgrade(db)
    ctx = ServerContext(db=db, clock=SystemClock())
    services.create_store(ctx, number=1, name="一号店")
    t, cpu = time.perf_counter(), time.process_time()
    result = import_members(ctx, path=path, store_number=1)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = _peak_mb()
    exported = None
    if export_to:
        t = time.perf_counter()
        export_members(ctx, path=Path(export_to))
        exported = time.perf_counter() - t
    db.dispose()
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_mb": peak, "export_s": exported,
                      "new": result.new_members, "rejected": len(result.rejected),
                      "merged": result.merged_in_file}))


def _peak_mb() -> float:
    """This process's own peak resident set: ``VmHWM`` (Linux), which starts again at the
    ``exec``; ``ru_maxrss`` keeps the parent's peak across it (the parent that has just
    built the 100,000-row fixture held ~490 MB, and the child reported that)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(url: str, path: Path, export_to: str = "") -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", url, str(path), export_to],
                         capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def raw_executemany(path: Path, folder: Path) -> float:
    """A bare executemany of the file's rows (as text) into one SQLite table."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    rows = [tuple("" if v is None else str(v) for v in r)
            for r in book["会员"].iter_rows(min_row=2, values_only=True)]
    book.close()
    con = sqlite3.connect(folder / "raw.sqlite")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"CREATE TABLE m ({', '.join(f'c{i} TEXT' for i in range(len(rows[0])))})")
    t = time.perf_counter()
    con.executemany(f"INSERT INTO m VALUES ({', '.join('?' * len(rows[0]))})", rows)
    con.commit()
    seconds = time.perf_counter() - t
    con.close()
    return seconds


def raw_xlsx_read(path: Path) -> float:
    import openpyxl

    t = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    for _ in book["会员"].iter_rows(values_only=True):
        pass
    book.close()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from sync.server.keys import ENV_KEK, new_kek

    os.environ.setdefault(ENV_KEK, new_kek())
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return
    path = fixture(args.rows, args.rebuild)
    folder = Path(tempfile.mkdtemp(prefix="posm-bench-import-"))
    print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    raw_read = raw_xlsx_read(path)
    raw_many = raw_executemany(path, folder)
    print(f"raw: openpyxl read-only load of the file {raw_read:.2f} s; "
          f"sqlite3 executemany of its rows {raw_many:.2f} s")
    lite = run_child(f"sqlite:///{folder / 'hq.sqlite'}", path,
                     "" if not args.no_postgres else str(folder / "export.xlsx"))
    print(f"SQLite: import {lite['seconds']:.1f} s (CPU {lite['cpu_s']:.1f} s), "
          f"peak {lite['peak_mb']:.0f} MB "
          f"({lite['new']:,} new, {lite['merged']:,} merged in the file, "
          f"{lite['rejected'] - lite['merged']:,} rejected)")
    pg_figures = None
    if not args.no_postgres:
        from tests.server.postgres import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            sys.exit("no /usr/lib/postgresql/*/bin (scripts/system-deps.sh), or --no-postgres")
        pg = PostgresServer.start(bin_dir)
        try:
            pg_figures = run_child(pg.create_database(), path, str(folder / "export.xlsx"))
        finally:
            pg.stop()
        print(f"PostgreSQL: import {pg_figures['seconds']:.1f} s "
              f"(CPU {pg_figures['cpu_s']:.1f} s, the server's apart), "
              f"peak {pg_figures['peak_mb']:.0f} MB")
    export_s = (pg_figures or lite)["export_s"]
    print(f"export of {lite['new']:,} members to .xlsx: {export_s:.1f} s "
          f"(targets: import <= 30 s, <= 300 MB; export <= 10 s)")
    result = {
        "import100k_sqlite_s": round(lite["seconds"], 2),
        "import100k_postgres_s": round(pg_figures["seconds"], 2) if pg_figures else None,
        "import_sqlite_cpu_s": round(lite["cpu_s"], 2),
        "import_postgres_cpu_s": round(pg_figures["cpu_s"], 2) if pg_figures else None,
        "import_peak_mb": round(max(lite["peak_mb"],
                                    pg_figures["peak_mb"] if pg_figures else 0), 1),
        "export100k_s": round(export_s, 2),
        "raw_executemany_s": round(raw_many, 3),
        "raw_xlsx_read_s": round(raw_read, 2),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
