"""Gender, birthday and tags encrypted at rest (issue 20, migration 0017): a till of schema
0016 with them in the clear, opened by the newer version, seals them with its data key and
empties the clear columns; the card, the points rules and the tills that pull the member
read them as before; a copy of the database shows none of them."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services.member_cards import get_member, reveal_personal_data
from pos_member.services.members import update_profile
from tests.core.test_till_migrations import downgrade
from tests.factories import Till, new_phone, wire_events
from tests.factories import apply_pulled as apply


def test_a_till_of_0016_seals_the_clear_profile_at_its_next_start(a: Till) -> None:
    card = a.register(new_phone(), name="王小明")
    a.app.close()
    downgrade(a.path, "0016")
    con = sqlite3.connect(a.path)
    con.execute("UPDATE members SET gender='F', birthday='1990-03-14', tags=? WHERE id=?",
                (json.dumps(["VIP", "老客户"], ensure_ascii=False), card.id))
    con.commit()
    con.close()
    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        found = get_member(app.uow, clerk=a.cashier, member_id=card.id)
        assert (found.gender, found.birthday_month, found.tags) == ("F", 3, ("VIP", "老客户"))
        assert reveal_personal_data(app.uow, clerk=a.manager,
                                    member_id=card.id).birthday == date(1990, 3, 14)
        con = sqlite3.connect(a.path)
        clear = con.execute(
            "SELECT gender, birthday, tags, gender_enc IS NOT NULL, birthday_enc IS NOT NULL,"
            " tags_enc IS NOT NULL FROM members WHERE id=?", (card.id,)).fetchone()
        con.close()
        assert clear == (None, None, "[]", 1, 1, 1)
        raw = a.path.read_bytes()
        assert b"1990-03-14" not in raw and "老客户".encode() not in raw
    finally:
        app.close()


def test_an_edit_is_sealed_and_reaches_the_other_till(a: Till, b: Till) -> None:
    card = a.register(new_phone())
    apply(b, wire_events(a))
    update_profile(a.uow, clerk=a.cashier, member_id=card.id, gender="M",
                   birthday=date(1985, 7, 1), tags=("常客",))
    apply(b, wire_events(a), first=100)
    for till in (a, b):
        found = get_member(till.uow, clerk=till.cashier, member_id=card.id)
        assert (found.gender, found.birthday_month, found.tags) == ("M", 7, ("常客",))
    con = sqlite3.connect(b.path)
    row = con.execute("SELECT gender, birthday, tags FROM members WHERE id=?",
                      (card.id,)).fetchone()
    con.close()
    assert row == (None, None, "[]")
    for till in (a, b):  # the field versions (last writer wins) keep them sealed too
        assert _versions(till, card.id) == {"gender": True, "birthday": True, "tags": True}
        assert b"1985-07-01" not in _files(till)


def _versions(till: Till, member_id: str) -> dict[str, bool]:
    """Each gender/birthday/tags version of the member: is its stored value sealed?"""
    con = sqlite3.connect(till.path)
    rows = con.execute("SELECT field, value FROM member_field_hlc WHERE member_id=? AND field"
                       " IN ('gender', 'birthday', 'tags')", (member_id,)).fetchall()
    con.close()
    return {f: isinstance(v := json.loads(value), dict) and set(v) == {"sealed"}
            for f, value in rows}


def _files(till: Till) -> bytes:
    return b"".join(p.read_bytes() for p in till.path.parent.glob(till.path.name + "*"))


def test_a_till_of_0017_seals_its_clear_field_versions_at_its_next_start(a: Till) -> None:
    card = a.register(new_phone())
    update_profile(a.uow, clerk=a.cashier, member_id=card.id, gender="F",
                   birthday=date(1983, 2, 9), tags=("常客",))
    a.app.close()
    downgrade(a.path, "0017")
    con = sqlite3.connect(a.path)  # as 0017 kept them: in the clear
    for field, value in (("gender", "F"), ("birthday", "1983-02-09"), ("tags", ["常客"])):
        con.execute("UPDATE member_field_hlc SET value=? WHERE member_id=? AND field=?",
                    (json.dumps(value, ensure_ascii=False), card.id, field))
    con.commit()
    con.close()
    assert _versions(a, card.id) == {"gender": False, "birthday": False, "tags": False}
    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        assert _versions(a, card.id) == {"gender": True, "birthday": True, "tags": True}
        assert b"1983-02-09" not in _files(a)
        con = sqlite3.connect(a.path)
        mark = con.execute("SELECT count(*) FROM settings WHERE key='seal_field_versions'")
        assert mark.fetchone() == (0,)
        con.close()
        found = get_member(app.uow, clerk=a.cashier, member_id=card.id)
        assert (found.gender, found.birthday_month, found.tags) == ("F", 2, ("常客",))
    finally:
        app.close()


def test_a_new_till_is_left_no_sealing_mark(a: Till) -> None:
    """Migration 0018 marks only a till with field versions to seal: a new one (set up after
    its first start) would otherwise keep the mark until its next start."""
    con = sqlite3.connect(a.path)
    try:
        mark = con.execute("SELECT count(*) FROM settings WHERE key='seal_field_versions'")
        assert mark.fetchone() == (0,)
    finally:
        con.close()
