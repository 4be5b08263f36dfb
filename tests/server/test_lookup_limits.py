"""The remote member lookup's limit per device and its audit (issue 14, lookup hardening):
past ``PER_WINDOW`` lookups in a window a device is refused with 429 ``lookup_rate_limited``
and ``Retry-After`` until its window ends, other devices are not; every lookup, let in or
refused, is recorded (device, store, time, key as asked) with no phone number or name, and
the server's log names the device only."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from sync.server import lookup_limits
from sync.server.db import open_server_database
from sync.server.models import MemberLookupAudit
from tests.server.factories import LiveServer
from tests.server.test_member_lookup import LOOKUP, register

PHONE = "13912345678"
NAME = "王小明"
LIMIT = 4


def _audit(url: str) -> list[Any]:
    db = open_server_database(url)
    try:
        with db.read() as conn:
            return list(conn.execute(select(MemberLookupAudit.__table__)
                                     .order_by(MemberLookupAudit.id)).all())
    finally:
        db.dispose()


def test_a_device_past_its_lookups_is_refused_until_its_window_ends(
        server: LiveServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(lookup_limits, "PER_WINDOW", LIMIT)
    home, other, neighbour = server.enrol(1), server.enrol(2), server.enrol(2)
    member_id, reg = register(home, "00010100000016", PHONE, name=NAME)
    home.push([reg])
    phone_index = reg.payload["phone_index"]
    asked = [{"member_no": "00010100000016"}, {"phone_index": phone_index},
             {"member_no": "00010100000024"}, {"member_no": "00010100000016"}]
    statuses = [server.http.get(LOOKUP, params=p, headers=other.headers).status_code
                for p in asked]
    assert statuses == [200, 200, 404, 200]
    caplog.set_level(logging.INFO)
    refused = server.http.get(LOOKUP, params=asked[0], headers=other.headers)
    assert refused.status_code == 429
    assert refused.json()["code"] == "lookup_rate_limited"
    window_s = int(lookup_limits.WINDOW.total_seconds())
    assert int(refused.headers["Retry-After"]) == window_s
    # another till is not limited by this one's lookups
    assert server.http.get(LOOKUP, params=asked[0], headers=neighbour.headers).status_code \
        == 200
    server.clock.advance(seconds=window_s - 60)  # still in the window: refused, a minute left
    again = server.http.get(LOOKUP, params=asked[0], headers=other.headers)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) == 60
    server.clock.advance(seconds=60)  # the window ended: a new one
    assert server.http.get(LOOKUP, params=asked[0], headers=other.headers).status_code == 200

    rows = _audit(server.url)
    mine = [r for r in rows if r.device_id == other.id]
    assert [(r.kind, r.key, r.refused) for r in mine] == [
        ("no", "00010100000016", False), ("phone", phone_index, False),
        ("no", "00010100000024", False), ("no", "00010100000016", False),
        ("no", "00010100000016", True), ("no", "00010100000016", True),
        ("no", "00010100000016", False)]
    assert {r.store_id for r in mine} == {other.store_id}
    assert mine[-1].at > mine[0].at
    assert [r.device_id for r in rows].count(neighbour.id) == 1
    for r in rows:  # no phone number or name recorded
        assert PHONE not in repr(r) and NAME not in repr(r)
    assert other.id in caplog.text
    assert PHONE not in caplog.text and NAME not in caplog.text and member_id not in \
        caplog.text
