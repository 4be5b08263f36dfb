"""HQ's limits on SMS codes: counted by what HQ knows (the member's registered phone, the
calling till and its store), not by what the till names; a refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, Table, insert, select

from pos_member.stored_value_errors import SmsMemberNotAtHq, SmsTooMany
from sync.client import SyncClient
from sync.server import sms_limits
from sync.server.cli import main
from sync.server.db import open_server_database, upgrade
from sync.server.models import Device, MemberIndex, MemberRedirect, SmsCode, Store
from tests.server.migrating import downgrade
from tests.server.sms_fakes import Hq, register_member

_SEND = "/v1/sms/send"


def _body(member: str, phone: str, txn: str = "t1") -> dict[str, object]:
    return {"member_id": member, "phone": phone, "amount_fen": 1200, "txn_id": txn}


def _post(hq: Hq, body: dict[str, object], token: str | None = None) -> object:
    return hq.live.http.post(_SEND, json=body,
                             headers={"Authorization": f"Bearer {token or hq.token}"})


def _refused_writes_nothing(hq: Hq, body: dict[str, object], status: int, code: str,
                            token: str | None = None) -> dict[str, str]:
    counts, sent = hq.live.table_counts(), len(hq.sms.sent)
    answer = _post(hq, body, token)
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.json()["code"] == code  # type: ignore[attr-defined]
    assert hq.live.table_counts() == counts and len(hq.sms.sent) == sent
    return dict(answer.headers)  # type: ignore[attr-defined]


def test_no_code_for_a_member_hq_never_saw_registered(hq: Hq) -> None:
    for member in ("m-unknown", "m-other-1", "m-other-2"):  # varying member_id gets nothing
        _refused_writes_nothing(hq, _body(member, "13800000000"), 404, "sms_member_unknown")
    with pytest.raises(SmsMemberNotAtHq):
        hq.client.sms_send(member_id="m-unknown", phone="13800000000", amount_fen=1200,
                           txn_id="t1")


def test_no_code_to_a_phone_that_is_not_the_members(hq: Hq) -> None:
    _refused_writes_nothing(hq, _body("m1", "13800000000"), 404, "sms_member_unknown")


def test_codes_per_phone_per_hour_and_per_day(hq: Hq) -> None:
    for i in range(5):  # the default: 5 an hour
        assert _post(hq, _body("m1", "13912345678", f"t{i}")).status_code == 200
        hq.live.clock.advance(seconds=60)
    headers = _refused_writes_nothing(hq, _body("m1", "13912345678", "t9"), 429,
                                      "sms_rate_limited")
    assert headers["retry-after"] == str(3600 - 5 * 60)  # when the first leaves the hour
    with pytest.raises(SmsTooMany) as e:
        hq.client.sms_send(member_id="m1", phone="13912345678", amount_fen=1200, txn_id="t9")
    assert e.value.params["minutes"] == 55
    hq.live.clock.advance(seconds=3600)
    for i in range(5):  # 10 a day
        assert _post(hq, _body("m1", "13912345678", f"u{i}")).status_code == 200
        hq.live.clock.advance(seconds=60)
    headers = _refused_writes_nothing(hq, _body("m1", "13912345678", "u9"), 429,
                                      "sms_rate_limited")
    assert headers["retry-after"] == str(86400 - 3600 - 10 * 60)
    assert _post(hq, _body("m2", "13912345679")).status_code == 200  # another phone


def test_a_merged_member_counts_against_the_same_phone(hq: Hq) -> None:
    register_member(hq.device, "m1-twin", "13912345678")  # registered later: merged into m1
    sms_limits.configure(hq.live.ctx, phone_per_hour=2)
    for i, member in enumerate(("m1", "m1-twin")):
        assert _post(hq, _body(member, "13912345678", f"t{i}")).status_code == 200
        hq.live.clock.advance(seconds=60)
    _refused_writes_nothing(hq, _body("m1-twin", "13912345678", "t9"), 429, "sms_rate_limited")


def test_codes_per_till_and_per_store(hq: Hq) -> None:
    phones = {f"p{i}": f"1370000000{i}" for i in range(5)}
    for member, phone in phones.items():
        register_member(hq.device, member, phone)
    sms_limits.configure(hq.live.ctx, device_per_hour=2, store_per_hour=3)
    for member in ("p0", "p1"):
        assert _post(hq, _body(member, phones[member])).status_code == 200
    headers = _refused_writes_nothing(hq, _body("p2", phones["p2"]), 429, "sms_rate_limited")
    assert headers["retry-after"] == "3600"
    store_number = next(n for n, i in hq.live.stores.items() if i == hq.device.store_id)
    other = hq.live.enrol(store_number)  # the store's second till: the store's third code
    assert _post(hq, _body("p2", phones["p2"]), other.enrolment.token).status_code == 200
    _refused_writes_nothing(hq, _body("p3", phones["p3"]), 429, "sms_rate_limited",
                            other.enrolment.token)
    elsewhere = hq.live.enrol()  # another store has its own count
    with SyncClient(hq.live.base_url, elsewhere.enrolment.token) as client:
        client.sms_send(member_id="p3", phone=phones["p3"], amount_fen=1200, txn_id="t1")


def test_hq_sets_the_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_MEMBER_SERVER_DB", f"sqlite:///{tmp_path / 's.sqlite'}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["sms-limits"]) == 0
    assert "phone-per-hour\t5\nphone-per-day\t10\ndevice-per-hour\t60\nstore-per-hour\t200" \
        in capsys.readouterr().out
    assert main(["sms-limits", "--phone-per-day", "3", "--store-per-hour", "50"]) == 0
    assert main(["sms-limits"]) == 0
    out = capsys.readouterr().out.splitlines()[-4:]
    assert out == ["phone-per-hour\t5", "phone-per-day\t3", "device-per-hour\t60",
                   "store-per-hour\t50"]
    assert main(["sms-limits", "--phone-per-hour", "100001"]) == 1
    with pytest.raises(SystemExit):
        main(["sms-limits", "--device-per-hour", "0"])


def test_migration_0004_gives_old_codes_their_store_and_phone(database_url: str) -> None:
    """A database of the previous version (0003) with codes in it upgrades in place."""
    db = open_server_database(database_url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    code = {"device_id": "d1", "amount_fen": 100, "txn_id": "t", "salt_hex": "00",
            "code_hash_hex": "00", "sent_at": now, "expires_at": now, "tries": 0}
    try:
        downgrade(db, "0003")
        with db.write() as conn:
            conn.execute(insert(Store).values(id="s1", number=1, name="one"))
            conn.execute(insert(Device).values(id="d1", store_id="s1", number=1, name="till",
                                               token_hash="h" * 64, enrolled_at=now))
            conn.execute(insert(MemberIndex).values(
                phone_index="f" * 64, member_id="m1", member_no="1",
                hlc="000000000000000-000000", event_id="e1"))
            conn.execute(insert(MemberRedirect).values(loser_member_id="m1-twin",
                                                       winner_member_id="m1"))
            old = Table("sms_codes", MetaData(), *(  # the table as 0003 has it
                Column(c.name, c.type) for c in SmsCode.__table__.c
                if c.name not in ("store_id", "phone_index")))
            conn.execute(insert(old), [
                {**code, "id": cid, "member_id": member, "verified_at": None}
                for cid, member in (("c1", "m1"), ("c2", "m1-twin"), ("c3", "gone"))])
        upgrade(db)
        with db.read() as conn:
            got = conn.execute(select(SmsCode.id, SmsCode.store_id, SmsCode.phone_index)
                               .order_by(SmsCode.id)).all()
    finally:
        db.dispose()
    assert [tuple(r) for r in got] == [
        ("c1", "s1", "f" * 64), ("c2", "s1", "f" * 64), ("c3", "s1", None)]
