"""Benchmark: a whole checkout committed (issue 17) — a member's sale with points redeemed and a
mixed tender of stored value (dynamic-code factor: decrypt the secret, HMAC; the PIN's
deliberate argon2id cost is bench/stored_value.py's ``pin_hash_ms``) and cash — through
``services.checkout`` on a till opened by the real ``bootstrap`` (SQLite file, WAL,
``synchronous=FULL``), interleaved in blocks with the raw baseline (bare ``sqlite3`` INSERT +
COMMIT, same pragmas; ``bench/register.py``'s ``RawCommit``). A checkout is one commit: the sale,
its points (redeemed and earned), the payment with its factor checked, the tenders, the events,
audit rows and the member's message. After the timed run, the WAL frames (pages) one checkout's
commit writes, counted over 100 more (``wal_frames_per_checkout``; a bare commit writes 2).

``control_keys``: the keys a cashier presses for a scanned member's sale with points redeemed
and a stored-value tender verified by a scanned dynamic code, every key but the characters of
the bill number, the amounts and the points — counted by the pytest-qt test that drives the
real window (tests/ui/test_checkout_ui.py), run here in a child process.

    .venv/bin/python bench/checkout.py [--samples N] [--no-keys]

Target: checkout p99 <= 3 ms; control_keys <= 6.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import pyotp  # noqa: E402
from register import RawCommit, make_till, percentile  # noqa: E402

from pos_member.bootstrap import App  # noqa: E402
from pos_member.clock import FakeClock  # noqa: E402
from pos_member.permissions import Role  # noqa: E402
from pos_member.services import member_auth  # noqa: E402
from pos_member.services.checkout import Tender, checkout  # noqa: E402
from pos_member.services.members import register_member  # noqa: E402
from pos_member.services.points import adjust_points  # noqa: E402
from pos_member.services.stored_value import TotpFactor, top_up  # noqa: E402

BLOCK = 50
FRAMES_OF = 100  # checkouts whose WAL frames are counted (wal_frames)


def control_keys() -> int:
    """The count the UI test writes (it fails itself above 6)."""
    with tempfile.TemporaryDirectory(prefix="pos-member-bench-keys-") as d:
        out = Path(d) / "keys"
        env = {**os.environ, "POS_MEMBER_CONTROL_KEYS_OUT": str(out),
               "QT_QPA_PLATFORM": "offscreen"}
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/ui/test_checkout_ui.py::"
             "test_a_members_sale_paid_partly_by_stored_value_is_one_checkout_of_six_keys"],
            cwd=ROOT, env=env, check=True, capture_output=True)
        return int(out.read_text(encoding="utf-8"))


def wal_frames(app: App, run: Callable[[int], None]) -> float:
    """The WAL frames one checkout's commit writes: the background checkpoint stopped and the
    WAL emptied, ``FRAMES_OF`` checkouts run (untimed, after the timed ones), the WAL's frames
    counted (``PRAGMA wal_checkpoint``) and shared out."""
    assert app.uow.db.checkpointer is not None
    app.uow.db.checkpointer.stop()
    con = sqlite3.connect(app.uow.db.path)
    try:
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the WAL could not be emptied"
        for k in range(FRAMES_OF):
            run(k)
        _, frames, _ = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return float(frames) / FRAMES_OF
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--no-keys", action="store_true", help="skip the UI key count")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pos-member-bench-checkout-") as d:
        tmp = Path(d)
        clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        app, clerks, _ = make_till(tmp, clock)
        cashier, manager = clerks[Role.CASHIER], clerks[Role.MANAGER]
        raw = RawCommit(tmp / "raw.sqlite")
        members = [register_member(app.uow, clerk=cashier, phone=f"1390000{i:04d}",
                                   privacy_consent=True).id for i in range(20)]
        secrets = {m: member_auth.provision_totp(app.uow, clerk=cashier, approver=manager,
                                                 member_id=m).secret for m in members}
        for k, m in enumerate(members):  # enough balance and points for every checkout
            top_up(app.uow, clerk=cashier, member_id=m, amount_fen=10_000_000, method="cash",
                   txn_id=f"seed-{k}")
            adjust_points(app.uow, clerk=cashier, approver=manager, txn_id=f"pts-{k}",
                          member_id=m, points=1_000_000, reason="bench")
        checkout_ms: list[float] = []
        cpu_ms: list[float] = []  # this process's CPU per checkout: what the load does not add
        # this thread's alone: without the background checkpoint's copying (engine.Checkpointer)
        thread_ms: list[float] = []
        raw_ms: list[float] = []

        def one(i: int, timed: bool = True) -> None:
            m = members[i % len(members)]
            clock.advance(seconds=31)  # a fresh dynamic code every time
            code = pyotp.TOTP(secrets[m]).at(int(clock.now().timestamp()))
            t0, c0, h0 = time.perf_counter_ns(), time.process_time_ns(), time.thread_time_ns()
            checkout(app.uow, cashier, txn_id=f"c{i}", bill_no=f"B{i}", amount_fen=30_000,
                     member_id=m, redeem_points=100,
                     tenders=(Tender("stored_value", 20_000), Tender("cash", 9_900)),
                     factor=TotpFactor(code), online=True)
            if timed:
                checkout_ms.append((time.perf_counter_ns() - t0) / 1e6)
                cpu_ms.append((time.process_time_ns() - c0) / 1e6)
                thread_ms.append((time.thread_time_ns() - h0) / 1e6)

        i = 0
        while len(checkout_ms) < args.samples:
            for _ in range(BLOCK):
                one(i)
                i += 1
            for _ in range(BLOCK):
                raw_ms.append(raw.one())
        raw.close()
        frames = wal_frames(app, lambda k: one(i + k, timed=False))
        app.close()
    result: dict[str, float | int] = {
        "checkout_p50_ms": round(percentile(checkout_ms, 50), 3),
        "checkout_p99_ms": round(percentile(checkout_ms, 99), 3),
        "raw_commit_p50_ms": round(percentile(raw_ms, 50), 3),
        "raw_commit_p99_ms": round(percentile(raw_ms, 99), 3),
        "wal_frames_per_checkout": round(frames, 1),
    }
    print(f"checkout p50 {result['checkout_p50_ms']} ms  p99 {result['checkout_p99_ms']} ms "
          f"({len(checkout_ms)} samples: ¥300 bill, 100 points, ¥200 stored value by dynamic "
          "code + ¥99 cash)")
    print(f"CPU per checkout p50 {percentile(cpu_ms, 50):.3f} ms  "
          f"p99 {percentile(cpu_ms, 99):.3f} ms (this thread alone: p50 "
          f"{percentile(thread_ms, 50):.3f} ms  p99 {percentile(thread_ms, 99):.3f} ms)")
    print(f"raw durable commit p50 {result['raw_commit_p50_ms']} ms  "
          f"p99 {result['raw_commit_p99_ms']} ms")
    print(f"WAL frames (4 KB pages) a checkout commits: {result['wal_frames_per_checkout']} "
          f"(over {FRAMES_OF} checkouts after the timed ones; a bare commit writes 2)")
    if not args.no_keys:
        result["control_keys"] = control_keys()
        print(f"control keys for the checkout at the till: {result['control_keys']}")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
