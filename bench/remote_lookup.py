"""Benchmark: HQ's remote member lookup on loopback with 1,000,000 members (issue 14).

A private PostgreSQL (``tests/server/postgres.py``: Debian's binaries, fsync off, as in the
tests) holds a migrated HQ database with ``MEMBERS`` members in 100 stores: their cards
(``member_cards``, personal data sealed with the chain's data key as a till seals it), phone
owners (``member_index``), chain-wide stored value (``member_balances``) and points
(``member_points``); every 100th member is merged into the one before it (``member_redirects``),
so its number scans to the winner. The rows are written with COPY, then the database's files
are kept in ``bench/.data/remote_lookup/`` (with the KEK that opens its data key) and copied
back on the next run: rebuilt when this file or the server's migrations change. The lookup
reads none of the events (only ``max(position)``, from the primary key's index), so the log is
left small.

HQ runs as ``pos-member-server serve`` (one uvicorn process) on 127.0.0.1; one client with
keep-alive asks ``SAMPLES`` lookups one after the other, for random members: 80 % by member
number (a tenth of them merged-away numbers), 20 % by the phone's blind index.

- ``remote_lookup_p50_ms``, ``remote_lookup_p99_ms``: the lookup, request to parsed answer;
- ``raw_http_p99_ms``: the same client's bare round trip to a uvicorn process on loopback that
  answers a fixed small JSON body (no FastAPI, no database), in the same run, interleaved;
- ``members``: the members HQ holds.

    .venv/bin/python bench/remote_lookup.py [--samples N]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench import pg_cache  # noqa: E402
from pos_member.crypto import PiiCipher  # noqa: E402
from pos_member.events import BIRTHDAY_CTX, GENDER_CTX, NAME_CTX, PHONE_CTX  # noqa: E402
from pos_member.member_code import make_member_no  # noqa: E402
from sync.member_lookup import MemberLookupResponse  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import migrate, open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.lookup_limits import PER_WINDOW  # noqa: E402
from tests.server.postgres import PostgresServer, free_port, required_bin_dir  # noqa: E402

MEMBERS = 1_000_000
STORES = 100
SAMPLES = 3_000
DATA = ROOT / "bench" / ".data" / "remote_lookup"
DATABASE = "hq"
PG_SETTINGS = "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB"


def fingerprint() -> str:
    """This file and the server's migrations: a change to either rebuilds the fixture."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in sorted((ROOT / "sync" / "server" / "migrations" / "versions").glob("*.py")):
        h.update(p.read_bytes())
    h.update(str(MEMBERS).encode())
    return h.hexdigest()[:16]


def member_id(i: int) -> str:
    return f"{i:08x}-0000-7000-8000-{i:012x}"


def phone(i: int) -> str:
    return f"139{i:08d}"


def member_no(i: int) -> str:
    return make_member_no(store_no=i % STORES + 1, device_no=1, seq=i // STORES + 1)


# -- the fixture ---------------------------------------------------------------------------------

def build(pg: PostgresServer) -> None:
    """A migrated HQ database with ``MEMBERS`` members, written by COPY."""
    import psycopg

    with psycopg.connect(pg.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    url = pg.url(DATABASE)
    migrate(url)
    db = open_server_database(url)
    try:
        ctx = ServerContext(db=db, clock=_clock())
        stores = [services.create_store(ctx, number=n, name=f"门店 {n}").id
                  for n in range(1, STORES + 1)]
        with db.write() as c:
            data_key = db.keys.data_key(c)
    finally:
        db.dispose()
    cipher = PiiCipher(base64.b64decode(data_key))

    def seal(value: str, context: str) -> str:
        return base64.b64encode(cipher.encrypt(value, context=context)).decode()

    pool = [(seal(n, NAME_CTX), seal(g, GENDER_CTX), seal(b, BIRTHDAY_CTX))
            for n, g, b in ((f"会员{k}", "FM"[k % 2], f"19{60 + k % 40}-0{1 + k % 9}-1{k % 9}")
                            for k in range(1000))]
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    with psycopg.connect(pg.admin_url.rsplit("/", 1)[0] + f"/{DATABASE}") as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY member_cards (member_id, member_no, store_id, status, tier, "
                          "tier_hlc, profile, profile_hlc, updated_at) FROM STDIN") as cp:
                for i in range(MEMBERS):
                    name, gender, birthday = pool[i % len(pool)]
                    profile = json.dumps({
                        "phone_enc": seal(phone(i), PHONE_CTX), "name_enc": name,
                        "gender_enc": gender, "birthday_enc": birthday, "tags": ["常客"],
                        "source_channel": "walk_in", "registered_at": now,
                        "marketing_consent": i % 3 == 0}, ensure_ascii=False)
                    merged = i % 100 == 99
                    cp.write_row((member_id(i), member_no(i), stores[i % STORES],
                                  "merged" if merged else "active", "regular", "", profile,
                                  "000000000000001-000000", now))
            with cur.copy("COPY member_index (phone_index, member_id, member_no, hlc, event_id) "
                          "FROM STDIN") as cp:
                for i in range(MEMBERS):
                    if i % 100 != 99:
                        cp.write_row((cipher.blind_index(phone(i), context=PHONE_CTX),
                                      member_id(i), member_no(i), "000000000000001-000000",
                                      member_id(i)))
            with cur.copy("COPY member_redirects (loser_member_id, winner_member_id) "
                          "FROM STDIN") as cp:
                for i in range(99, MEMBERS, 100):
                    cp.write_row((member_id(i), member_id(i - 1)))
            with cur.copy("COPY member_balances (member_id, balance_fen, settled_fen, flag_id, "
                          "updated_at) FROM STDIN") as cp:
                for i in range(MEMBERS):
                    cp.write_row((member_id(i), (i * 7919) % 500_000, 0, None, now))
            with cur.copy("COPY member_points (member_id, points, updated_at) FROM STDIN") as cp:
                for i in range(MEMBERS):
                    cp.write_row((member_id(i), (i * 104_729) % 20_000, now))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    print(f"built {MEMBERS:,} members in {time.perf_counter() - started:.0f} s")


def _clock() -> Any:
    from pos_member.clock import SystemClock

    return SystemClock()


def cached_server(bin_dir: Path) -> PostgresServer:
    """The fixture's server: its files copied from the cache, else built (and cached)."""

    def fresh(pg: PostgresServer) -> None:
        os.environ[ENV_KEK] = new_kek()
        build(pg)

    return pg_cache.cached_server(bin_dir, DATA, fingerprint(), fresh, settings=PG_SETTINGS)[0]


# -- the servers ----------------------------------------------------------------------------------

BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
"""


def start(cmd: list[str], url: str, logs: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "POS_MEMBER_LOG_DIR": str(logs)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(logs / "stderr.txt", "ab"))  # noqa: SIM115
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start: {(logs / 'stderr.txt').read_text()[-2000:]}")


def enrolled_token(url: str) -> str:
    db = open_server_database(url)
    try:
        ctx = ServerContext(db=db, clock=_clock())
        code = services.issue_enrolment_code(ctx, store_number=1).code
        return services.enrol(ctx, code=code, device_name="bench").token
    finally:
        db.dispose()


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def measure(base: str, bare: str, tokens: list[str], samples: int
            ) -> tuple[list[float], list[float]]:
    """``tokens``: a device for each ``PER_WINDOW`` lookups (HQ's limit per device)."""
    rng = random.Random(14)
    lookups: list[float] = []
    raw: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as hq, \
            httpx.Client(base_url=bare, timeout=10) as plain:
        for k in range(samples + 200):  # the first 200 warm both up
            i = rng.randrange(MEMBERS)
            t0 = time.perf_counter()
            plain.get("/")
            t1 = time.perf_counter()
            if rng.random() < 0.8:
                params = {"member_no": member_no(i)}
            else:
                params = {"phone_index": PHONE_INDEX(phone(i - 1 if i % 100 == 99 else i))}
            answer = hq.get("/v1/members/lookup", params=params, headers={
                "Authorization": f"Bearer {tokens[k // PER_WINDOW]}"})
            if answer.status_code != 200:
                raise RuntimeError(f"lookup answered {answer.status_code}: {answer.text}")
            got = MemberLookupResponse.model_validate_json(answer.content)
            t2 = time.perf_counter()
            expected = member_id(i - 1 if i % 100 == 99 else i)
            if got.card.member_id != expected:
                raise RuntimeError(f"member {i}: answered {got.card.member_id}")
            if k >= 200:
                raw.append((t1 - t0) * 1000)
                lookups.append((t2 - t1) * 1000)
    return lookups, raw


PHONE_INDEX: Any = None  # the blind index under the fixture's data key (set in main)


def main() -> int:
    global PHONE_INDEX
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=SAMPLES)
    args = parser.parse_args()
    bin_dir = required_bin_dir()
    pg = cached_server(bin_dir)
    logs = Path(tempfile.mkdtemp(prefix="posm-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = pg.url(DATABASE)
        tokens = [enrolled_token(url) for _ in range((args.samples + 200) // PER_WINDOW + 1)]
        db = open_server_database(url)
        try:
            with db.read() as c:
                cipher = PiiCipher(base64.b64decode(db.keys.data_key(c)))
        finally:
            db.dispose()
        PHONE_INDEX = lambda p: cipher.blind_index(p, context=PHONE_CTX)  # noqa: E731
        hq_port, bare_port = free_port(), free_port()
        exe = Path(sys.executable).parent
        procs.append(start([str(exe / "pos-member-server"), "--database", url, "serve",
                            "--host", "127.0.0.1", "--port", str(hq_port)],
                           f"http://127.0.0.1:{hq_port}/v1/health", logs))
        (logs / "bare_app.py").write_text(BARE_APP)
        procs.append(start([sys.executable, "-m", "uvicorn", "--app-dir", str(logs),
                            "--host", "127.0.0.1", "--port", str(bare_port), "--log-level",
                            "warning", "--no-access-log", "bare_app:app"],
                           f"http://127.0.0.1:{bare_port}/", logs))
        lookups, raw = measure(f"http://127.0.0.1:{hq_port}", f"http://127.0.0.1:{bare_port}",
                               tokens, args.samples)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)
        pg.stop()
        shutil.rmtree(logs, ignore_errors=True)
    print(f"{len(lookups):,} lookups of {MEMBERS:,} members: p50 {pct(lookups, 50):.2f} ms, "
          f"p99 {pct(lookups, 99):.2f} ms, max {max(lookups):.1f} ms")
    print(f"bare loopback round trip (uvicorn, fixed body): p50 {pct(raw, 50):.2f} ms, "
          f"p99 {pct(raw, 99):.2f} ms")
    result = {"members": MEMBERS, "remote_lookup_p50_ms": round(pct(lookups, 50), 2),
              "remote_lookup_p99_ms": round(pct(lookups, 99), 2),
              "raw_http_p99_ms": round(pct(raw, 99), 2)}
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
