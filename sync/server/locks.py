"""Locks on the keys a push's invariants protect (PostgreSQL), instead of one global lock.

Pushes run beside each other (``ServerDatabase.concurrent``: the shared ``WRITE_LOCK``); the
rare admin writes keep it exclusive. What a push reads and then writes is guarded by a
transaction-scoped advisory lock on the key it concerns (``hashtextextended(key, 0)``),
always taken in this order, so two pushes never wait on each other in a cycle:

1. the device (``device:<id>``): its ``acked_through``, held events, per-device flags (the
   transaction id, hence the positions, is taken after it: ``log``);
2. phones, sorted (``phone:<blind index>``): one member per phone chain-wide (``member_index``);
3. the merge lock (``MERGE_LOCK``): exclusive by a push that merges two members (it moves
   balances and rewrites ``member_redirects``), shared by a push with money or coupon events;
3b. coupons' rows, in key order (``coupon_uses``, ``coupon_terms``: no key, the rows'
   own locks, ``coupons.claim``): one bill per coupon chain-wide; a second bill's flag is
   raised here, its server event appended only at 5 (``coupons.block``, after ``balances``);
4. members' balance rows, in member order (``member_balances``: no key, the row locks of one
   additive upsert, ``balances._add``): chain-wide balances and the overdraw block;
5. the server's own event seq (``SERVER_SEQ``), taken when a server event is appended;
6. member cards, sorted (``card:<id>``): profile and tier of HQ's card (``member_cards``).

Chain-wide points (``points``) need no key: they are one additive upsert whose row locks come
in member order. 6 and the points rows come last, after a server event may have taken 5: a
push that holds them waits for no other key, so they close no cycle. The rule for a new push
hook: whatever appends a server event (5) runs before ``points`` and ``member_cards`` and
after every row or key of 1-4 it locks (``ingest.after_store`` is the order);
``tests/server/test_coupon_twice.py`` records one push's key locks and checks 5 before 6.

A lock is held until the transaction ends. On SQLite every writer is alone (``BEGIN
IMMEDIATE``), so these are no-ops there. SMS sends lock their own keys (``sms_limits.lock``),
and a key that is created once (the chain's data key) is locked before it is made.
docs/scale.md lists what each lock protects.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from sync.server.driver import Statement, json_text

MERGE_LOCK = "merge"
SERVER_SEQ = "server-seq"

_LOCK_KEYS = Statement(text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM json_array_elements_text(CAST(:keys AS json)) k"
))
_SHARED = Statement(text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:k, 0))"))


def device_key(device_id: str) -> str:
    return f"device:{device_id}"


def phone_key(phone_index: str) -> str:
    return f"phone:{phone_index}"


def card_key(member_id: str) -> str:
    return f"card:{member_id}"


def lock_keys(conn: Connection, keys: Iterable[str]) -> None:
    """Exclusive locks on ``keys``, in sorted order (an array is unnested in its order)."""
    if conn.dialect.name != "postgresql":
        return
    ordered = sorted(set(keys))
    if ordered:
        _LOCK_KEYS.rows(conn, {"keys": json_text(ordered)})  # a JSON array: psycopg binds a
        # Python list element by element, ~15x slower for 1,000 keys


def lock_shared(conn: Connection, key: str) -> None:
    """A shared lock on ``key``: beside other shared holders, never beside an exclusive one."""
    if conn.dialect.name == "postgresql":
        _SHARED.rows(conn, {"k": key})
