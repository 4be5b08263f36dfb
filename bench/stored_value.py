"""Benchmark: a committed stored-value top-up and a committed balance payment (issue 6).

Both through the services on a till opened by the real ``bootstrap`` (SQLite file, WAL,
``synchronous=FULL``), interleaved in blocks with the raw baseline (bare ``sqlite3`` INSERT +
COMMIT, same pragmas; ``bench/register.py``'s ``RawCommit``). Each top-up books ledger, account,
event, audit row and a notification; each payment also verifies the member's dynamic code
(TOTP: decrypt the secret, HMAC) — the second factor without the PIN's deliberate argon2id cost,
which is timed on its own (``pin_hash_ms``: the median of 20 verifications with the production
parameters). The fake clock moves 31 s per payment so every code is fresh.

    .venv/bin/python bench/stored_value.py [--samples N]

Target: p99 <= 2 ms (SPEC bar: 5 ms); PIN hash 50–250 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import pyotp  # noqa: E402
from register import RawCommit, make_till, percentile  # noqa: E402

from pos_member.clock import FakeClock  # noqa: E402
from pos_member.permissions import Role  # noqa: E402
from pos_member.services import member_auth  # noqa: E402
from pos_member.services.members import register_member  # noqa: E402
from pos_member.services.stored_value import TotpFactor, pay, top_up  # noqa: E402

BLOCK = 50


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pos-member-bench-sv-") as d:
        tmp = Path(d)
        clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        app, clerks, _ = make_till(tmp, clock)
        cashier, manager = clerks[Role.CASHIER], clerks[Role.MANAGER]
        raw = RawCommit(tmp / "raw.sqlite")
        members = [register_member(app.uow, clerk=cashier, phone=f"1390000{i:04d}",
                                   privacy_consent=True).id for i in range(20)]
        secrets = {m: member_auth.provision_totp(app.uow, clerk=cashier, approver=manager,
                                                 member_id=m).secret for m in members}
        for m in members:  # enough balance for every payment
            top_up(app.uow, clerk=cashier, member_id=m, amount_fen=10_000_000, method="cash",
                   txn_id=f"seed-{m}")
        topup_ms: list[float] = []
        pay_ms: list[float] = []
        raw_ms: list[float] = []
        i = 0
        while len(topup_ms) < args.samples:
            for _ in range(BLOCK):
                m = members[i % len(members)]
                t0 = time.perf_counter_ns()
                top_up(app.uow, clerk=cashier, member_id=m, amount_fen=10_000, method="card",
                       txn_id=f"t{i}")
                topup_ms.append((time.perf_counter_ns() - t0) / 1e6)
                clock.advance(seconds=31)
                code = pyotp.TOTP(secrets[m]).at(int(clock.now().timestamp()))
                t0 = time.perf_counter_ns()
                pay(app.uow, clerk=cashier, member_id=m, amount_fen=1234, txn_id=f"p{i}",
                    factor=TotpFactor(code), online=True)
                pay_ms.append((time.perf_counter_ns() - t0) / 1e6)
                i += 1
            for _ in range(BLOCK):
                raw_ms.append(raw.one())
        raw.close()
        app.close()
    h = member_auth.HASHER
    digest = h.hash("739182")
    hashes = []
    for _ in range(20):
        t0 = time.perf_counter_ns()
        h.verify(digest, "739182")
        hashes.append((time.perf_counter_ns() - t0) / 1e6)
    result = {
        "topup_p50_ms": round(percentile(topup_ms, 50), 3),
        "topup_p99_ms": round(percentile(topup_ms, 99), 3),
        "pay_p50_ms": round(percentile(pay_ms, 50), 3),
        "pay_p99_ms": round(percentile(pay_ms, 99), 3),
        "pin_hash_ms": round(statistics.median(hashes), 1),
        "raw_commit_p50_ms": round(percentile(raw_ms, 50), 3),
        "raw_commit_p99_ms": round(percentile(raw_ms, 99), 3),
    }
    print(f"top-up  p50 {result['topup_p50_ms']} ms  p99 {result['topup_p99_ms']} ms "
          f"({len(topup_ms)} samples)")
    print(f"payment p50 {result['pay_p50_ms']} ms  p99 {result['pay_p99_ms']} ms "
          "(TOTP factor; PIN hash excluded)")
    print(f"raw durable commit p50 {result['raw_commit_p50_ms']} ms  "
          f"p99 {result['raw_commit_p99_ms']} ms")
    print(f"PIN hash (argon2id t=2, 64 MiB) median {result['pin_hash_ms']} ms")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
