"""The coupon triggers (issue 18): the birthday coupon 7 days before, once a year; the win-back
offer after 90 days without a purchase, once per dormant period; each idempotent, catching up
after a till was off, issued by one till only; coupons past their end expire, with a reminder
3 days before."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from pos_member.services import coupons, sales
from pos_member.services.coupon_triggers import run_triggers
from tests.factories import NOTHING_AT_HQ, Till, apply_pulled, wire_events, without_welcome_pack


def _names(till: Till, member_id: str) -> list[str]:
    return sorted(c.name for c in coupons.usable(till.uow, member_id=member_id))


def _at(till: Till, day: date) -> None:
    till.clock.set(datetime.combine(day, time(10, 0), tzinfo=till.clock.zone))


def test_the_birthday_coupon_comes_7_days_before_once_a_year(till: Till) -> None:
    without_welcome_pack(till)
    _at(till, date(2026, 3, 1))
    m = till.register(birthday=date(1990, 3, 20))
    system = till.cashier
    assert run_triggers(till.uow, clerk=system).birthday == 0  # 19 days ahead
    _at(till, date(2026, 3, 13))  # 7 days before
    assert run_triggers(till.uow, clerk=system).birthday == 1
    assert run_triggers(till.uow, clerk=system).birthday == 0  # run again: nothing more
    assert _names(till, m.id) == ["生日满200减30"]
    _at(till, date(2026, 3, 21))  # the day after: nothing new
    assert run_triggers(till.uow, clerk=system).birthday == 0
    _at(till, date(2027, 3, 16))  # a till off over the 13th catches up
    assert run_triggers(till.uow, clerk=system).birthday == 1


def test_win_back_once_per_dormant_period(till: Till) -> None:
    without_welcome_pack(till)
    _at(till, date(2026, 1, 10))
    m = till.register()
    _at(till, date(2026, 4, 5))  # 85 days
    assert run_triggers(till.uow, clerk=till.cashier).winback == 0
    _at(till, date(2026, 4, 15))  # 95 days since registering
    assert run_triggers(till.uow, clerk=till.cashier).winback == 1
    assert run_triggers(till.uow, clerk=till.cashier).winback == 0
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="W-1",
                      amount_fen=5_000, member_id=m.id)
    _at(till, date(2026, 6, 1))  # 47 days since the purchase
    assert run_triggers(till.uow, clerk=till.cashier).winback == 0
    _at(till, date(2026, 7, 20))  # dormant again: a new period
    assert run_triggers(till.uow, clerk=till.cashier).winback == 1


def test_only_the_till_that_registered_the_member_issues(a: Till, b: Till) -> None:
    without_welcome_pack(a)
    without_welcome_pack(b)
    _at(a, date(2026, 1, 10))
    m = a.register()
    apply_pulled(b, wire_events(a))
    for t in (a, b):
        _at(t, date(2026, 4, 20))
    assert run_triggers(b.uow, clerk=b.cashier).winback == 0
    assert run_triggers(a.uow, clerk=a.cashier).winback == 1
    apply_pulled(b, wire_events(a)[-1:], first=len(wire_events(a)))
    assert _names(b, m.id) == ["久未光临满150减20"]


def test_coupons_past_their_end_expire_with_a_reminder_3_days_before(till: Till) -> None:
    _at(till, date(2026, 1, 10))
    m = till.register()  # the welcome pack: 30 days
    _at(till, date(2026, 2, 4))  # last day 8 February: 4 days ahead
    assert run_triggers(till.uow, clerk=till.cashier).reminded == 0
    _at(till, date(2026, 2, 6))
    run = run_triggers(till.uow, clerk=till.cashier)
    assert (run.expired, run.reminded) == (0, 2)
    assert run_triggers(till.uow, clerk=till.cashier).reminded == 0  # once per coupon
    _at(till, date(2026, 2, 9))
    assert run_triggers(till.uow, clerk=till.cashier).expired == 2
    assert _names(till, m.id) == []
    with till.uow.read() as s:
        states = s.connection().exec_driver_sql("SELECT DISTINCT state FROM coupons").all()
    assert states == [("expired",)]
    assert run_triggers(till.uow, clerk=till.cashier).expired == 0


def test_no_trigger_coupon_for_a_frozen_blacklisted_or_erased_member(till: Till) -> None:
    """Issue 20's standing: such a member could not redeem the coupon, and a marketing offer to
    a blacklisted or erased member is not wanted."""
    from pos_member.services import member_privacy, member_service

    without_welcome_pack(till)
    _at(till, date(2026, 1, 10))
    frozen, barred, erased, served = (till.register() for _ in range(4))
    for m, status in ((frozen, "frozen"), (barred, "blacklisted")):
        member_service.set_status(till.uow, clerk=till.manager, member_id=m.id, status=status,
                                  reason="会员投诉处理中")
    member_privacy.erase(till.uow, clerk=till.manager, member_id=erased.id, hq=NOTHING_AT_HQ)
    _at(till, date(2026, 4, 15))  # 95 days since registering
    assert run_triggers(till.uow, clerk=till.cashier).winback == 1
    assert len(_names(till, served.id)) == 1
    for m in (frozen, barred, erased):
        assert _names(till, m.id) == []


def test_a_batch_writes_the_rows_issue_in_writes(till: Till) -> None:
    """The triggers issue set-based (``coupon_batch``): the event, coupon, ledger entry, audit
    row and message of a coupon are those ``issue_in`` writes, but for ids, keys and seq."""
    import sqlite3

    from pos_member.services.coupon_batch import issue_batch
    from pos_member.services.coupons import BIRTHDAY, issue_in

    without_welcome_pack(till)
    one, two = (till.register(marketing_consent=True) for _ in range(2))
    rules = till.uow.rules.coupons
    template = rules.template(rules.birthday_template)
    assert template is not None
    with till.uow.begin() as tx:
        issue_in(tx, till.cashier, member_id=one.id, template=template, source=BIRTHDAY,
                 trigger_key=f"birthday:{one.id}:2026", marketed={})
        tx.commit()
    with till.uow.begin() as tx:
        assert issue_batch(tx, till.cashier, template=template, source=BIRTHDAY,
                           due=[(two.id, f"birthday:{two.id}:2026", True),
                                (one.id, f"birthday:{one.id}:2026", True)],  # taken: skipped
                           marketed={}) == 1
        tx.commit()
    con = sqlite3.connect(till.path)
    masked = ("id", "seq", "hlc", "event_id", "key", "entity_id")

    def rows_of(member_id: str) -> list[dict[str, object]]:
        key = con.execute("SELECT key FROM coupons WHERE member_id = ?",
                          (member_id,)).fetchone()[0]
        out = []
        for table in ("events", "coupons", "coupon_entries", "audit_log",
                      "notification_outbox"):
            cur = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cur.description]
            for r in cur:
                if key in str(tuple(r)):
                    out.append({c: ("*" if c in masked else str(v).replace(key, "K")
                                    .replace(member_id, "M"))
                                for c, v in zip(names, r, strict=True)})
        return out

    first, second = rows_of(one.id), rows_of(two.id)
    assert len(first) == 5 and first == second
    con.close()
