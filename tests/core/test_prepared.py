"""pos_member/db/prepared.py: a statement run straight on the driver writes and reads exactly
what ``Connection.execute`` of the same Core statement does (same stored text, same types)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, select

from pos_member.db.models import Sale
from pos_member.db.prepared import Prepared
from tests.factories import make_till

_SALES = Sale.__table__
_KEYS = ("id", "txn_id", "store_id", "device_id", "bill_no", "amount_fen", "member_id",
         "clerk_id", "guide_id", "categories", "sold_at", "business_day", "refunded_fen")


def _sale(n: int) -> dict[str, object]:
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC) + timedelta(minutes=n)
    at = at.astimezone(timezone(timedelta(hours=8)))  # stored as UTC either way
    return {"id": f"s{n}", "txn_id": f"t{n}", "store_id": "st", "device_id": "dv",
            "bill_no": f"B{n}", "amount_fen": 12_345 + n, "member_id": None if n % 2 else "m",
            "clerk_id": "c", "guide_id": None, "categories": ["鞋", "bag"],
            "sold_at": at, "business_day": date(2026, 3, 1), "refunded_fen": 0}


def test_prepared_writes_and_reads_what_core_does(tmp_path: Path) -> None:
    till = make_till(tmp_path)
    fast_insert = Prepared(insert(_SALES), column_keys=_KEYS)
    query = (select(_SALES.c.id, _SALES.c.sold_at, _SALES.c.business_day, _SALES.c.categories,
                    (_SALES.c.amount_fen > bindparam("over")).label("big"))
             .where(_SALES.c.store_id == bindparam("store"), _SALES.c.amount_fen > 0)
             .order_by(_SALES.c.id))
    with till.uow.begin() as tx:
        conn = tx.session.connection()
        conn.execute(insert(_SALES), [_sale(1), _sale(2)])
        assert fast_insert.run(conn, _sale(3)) == 1
        assert fast_insert.run(conn, [_sale(4), _sale(5)]) == 2
        core = [tuple(r) for r in conn.execute(query, {"store": "st", "over": 12_347})]
        fast = Prepared(query).all(conn, {"store": "st", "over": 12_347})
        assert [tuple(r) for r in fast] == core and len(core) == 5
        assert [tuple(r) for r in Prepared(query).iter(conn, {"store": "st", "over": 0})
                ] == [tuple(r) for r in conn.execute(query, {"store": "st", "over": 0})]
        first = Prepared(query).first(conn, {"store": "st", "over": 0})
        assert first is not None and first.id == "s1" and first.big is True
        assert first.sold_at == _sale(1)["sold_at"] and first.sold_at.tzinfo is not None
        assert first.categories == ["鞋", "bag"]
        with pytest.raises(AttributeError):
            _ = first.nope
        # A column named like a tuple's method stays the method (as SQLAlchemy's rows keep
        # it); one without a name is read by position.
        odd = select(_SALES.c.id.label("count"), func.max(_SALES.c.amount_fen) + 0)
        row = Prepared(odd).first(conn, {})
        assert row is not None and tuple(row) == tuple(conn.execute(odd).one())
        assert row.count(row[0]) == 1 and row[1] == 12_350
        tx.commit()
    con = sqlite3.connect(till.path)
    stored = con.execute("SELECT id, typeof(sold_at), sold_at, business_day, categories, "
                         "typeof(member_id) FROM sales ORDER BY id").fetchall()
    con.close()
    by_core, by_fast = stored[:2], stored[2:4]
    for a, b in zip(by_core, by_fast, strict=True):  # s1/s3 and s2/s4 differ only in n
        assert a[1:2] == b[1:2] and a[3:] == b[3:]
        assert len(a[2]) == len(b[2]) and a[2][:13] == b[2][:13] == "2026-03-01 09"


def test_a_driver_error_is_raised_as_sqlalchemys_like_execute_raises_it(tmp_path: Path) -> None:
    """Callers catch SQLAlchemy's errors, and the unit of work turns its OperationalError for
    a full disk into StorageFull: the shortcut must not let the driver's own escape."""
    from sqlalchemy.exc import IntegrityError

    till = make_till(tmp_path)
    fast_insert = Prepared(insert(_SALES), column_keys=_KEYS)
    with till.uow.begin() as tx:
        conn = tx.session.connection()
        fast_insert.run(conn, _sale(1))
        with pytest.raises(IntegrityError) as raised:
            fast_insert.run(conn, _sale(1))
        assert isinstance(raised.value.orig, sqlite3.IntegrityError)


def test_prepared_returning_gives_back_the_rows_core_does(tmp_path: Path) -> None:
    from sqlalchemy import update

    till = make_till(tmp_path)
    stmt = (update(_SALES).where(_SALES.c.id == bindparam("sale"))
            .values(refunded_fen=_SALES.c.refunded_fen + bindparam("fen"))
            .returning(_SALES.c.refunded_fen, _SALES.c.sold_at))
    with till.uow.begin() as tx:
        conn = tx.conn
        conn.execute(insert(_SALES), [_sale(1), _sale(2)])
        core = conn.execute(stmt, {"sale": "s1", "fen": 100}).one()
        fast = Prepared(stmt).first(conn, {"sale": "s1", "fen": 100})
        assert fast is not None and fast.refunded_fen == core.refunded_fen + 100 == 200
        assert fast.sold_at == core.sold_at and fast.sold_at.tzinfo is not None
        assert Prepared(stmt).first(conn, {"sale": "nope", "fen": 1}) is None
