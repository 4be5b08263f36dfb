"""A till process for the fault tests (tests/sync/test_faults.py), run as
``python -m tests.sync.fault_child '<json spec>'``. It opens the till database the test set
up, with the test's keys and a FakeClock at the test's time, and does one action:

- ``register``: registers ``n`` members; with ``die``, SIGKILLs itself right after the last
  commit (killed between commit and push).
- ``visit``: ``n`` customers' visits (``harness.visit``: top-up, sales with points redeemed
  and refunded, a TOTP payment); with ``die``, SIGKILLs itself right after the last commit.
- ``sync_die_before_ack``: syncs, and SIGKILLs itself when the server's answer to the first
  push is in but before ``mark_acked`` records it (killed between push and ack).
- ``sync``: ``rounds`` sync rounds with batches of ``batch``; prints the acknowledgement marks it
  saw, one per line, to check that they only move forward.
- ``register_until_full``: under ``RLIMIT_FSIZE`` of ``limit`` bytes (SIGXFSZ ignored, so a
  write past it fails with EFBIG as on a full disk) registers until a registration is refused;
  prints ``refused <n registered>``. With ``money``, each round is a whole visit instead
  (whichever of its operations the full disk refuses).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from itertools import count
from pathlib import Path

from pos_member.bootstrap import bootstrap
from pos_member.clock import FakeClock
from pos_member.crypto import MemoryKeyStore
from pos_member.services.enrolment import device_token
from pos_member.services.members import register_member
from pos_member.services.outbox import acked_through
from tests.sync.harness import visit


def main(spec: dict) -> int:
    keystore = MemoryKeyStore()
    for k, v in spec["keys"].items():
        keystore.put(k, v)
    clock = FakeClock(datetime.fromisoformat(spec["now"]))
    action = spec["action"]
    if action == "register_until_full":
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (spec["limit"], spec["limit"]))
    app = bootstrap(Path(spec["db"]), keystore=keystore, clock=clock)
    assert app.identity is not None
    clerk = app.identity.system_clerk()
    device_id = app.identity.device_id

    phones = count(spec.get("phones", 0))  # the parent gives each child its own range

    def register() -> None:
        if spec.get("money"):
            visit(app, clerk, clock, f"137{next(phones):08d}")
            return
        clock.advance(seconds=21)  # the till allows 30 registrations in 10 minutes
        register_member(app.uow, clerk=clerk, phone=f"137{next(phones):08d}",
                        privacy_consent=True)

    if action in ("register", "visit"):
        for _ in range(spec["n"]):
            if action == "visit":
                visit(app, clerk, clock, f"137{next(phones):08d}")
            else:
                register()
        if spec.get("die"):
            os.kill(os.getpid(), signal.SIGKILL)
        return 0
    if action == "register_until_full":
        done = 0
        while done < 100_000:
            try:
                register()
            except Exception as e:
                print(f"refused {done} {type(e).__name__}", flush=True)
                return 0
            done += 1
        return 3

    from sync import engine
    from sync.client import SyncClient

    client = SyncClient(spec["base_url"], device_token(keystore, device_id))
    if action == "sync_die_before_ack":
        def die(*_a: object, **_k: object) -> int:
            os.kill(os.getpid(), signal.SIGKILL)
            return 0

        engine.mark_acked = die  # type: ignore[assignment]
        engine.sync_once(app, client)
        return 4  # not reached
    if action == "sync":
        for _ in range(spec["rounds"]):
            engine.sync_once(app, client, batch=spec["batch"])
            print(acked_through(app.uow, device_id=device_id), flush=True)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
