"""Last-writer-wins bookkeeping per field, for member profiles and staff (local edits and sync).

Each field remembers the ``(hlc, event_id)`` of the event that last wrote it and the value
it wrote, in wire form. A write wins when its ``(hlc, event_id)`` is greater: the hybrid clock
orders causally related edits, and the event id (UUIDv7) breaks the tie between two tills that
issued the same timestamp, so every till picks the same winner whatever order events arrive in.

A member's gender, birthday and tags are kept sealed here as in the member's columns (issue 20,
``profile_seal``): ``{"sealed": base64}`` of the same deterministic sealing, so no profile value
sits in the clear in the till's file. Versions an older till wrote in the clear are sealed at
the next start with the key (``seal_plain_versions``, migration 0018).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from pos_member.crypto import PiiCipher
from pos_member.db.models import MemberFieldVersion, StaffFieldVersion
from pos_member.errors import StoreNotSetUp
from pos_member.events import BIRTHDAY_CTX, GENDER_CTX, TAGS_CTX

SEALED_FIELDS = {"gender": GENDER_CTX, "birthday": BIRTHDAY_CTX, "tags": TAGS_CTX}
SEALED_KEY = "sealed"


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED_KEY in value


def seal_value(cipher: PiiCipher | None, field: str, value: Any) -> Any:
    """A member field's wire value as stored: gender, birthday (ISO) and tags sealed."""
    context = SEALED_FIELDS.get(field)
    if context is None or value is None or is_sealed(value):
        return value
    if cipher is None:
        raise StoreNotSetUp()
    plain = json.dumps(value, ensure_ascii=False) if field == "tags" else str(value)
    return {SEALED_KEY: base64.b64encode(cipher.encrypt_stable(plain, context=context))
            .decode("ascii")}


def open_value(cipher: PiiCipher | None, field: str, value: Any) -> Any:
    """A stored value back in wire form (:func:`seal_value`'s inverse)."""
    if not is_sealed(value):
        return value
    if cipher is None:
        raise StoreNotSetUp()
    plain = cipher.decrypt(base64.b64decode(value[SEALED_KEY]), context=SEALED_FIELDS[field])
    return json.loads(plain) if field == "tags" else plain


class FieldVersions:
    """The versions kept in ``table``, whose owner column (a member, a colleague) is ``key``."""

    def __init__(self, table: Table, key: str, *, sealed: bool = False) -> None:
        self._t, self._key, self._sealed = table, table.c[key], sealed
        self._get = select(table.c.hlc, table.c.event_id).where(
            self._key == bindparam("m"), table.c.field == bindparam("f"))
        self._insert = insert(table)
        self._update = (
            update(table)
            .where(self._key == bindparam("m"), table.c.field == bindparam("f"))
            .values(hlc=bindparam("h"), event_id=bindparam("e"), value=bindparam("v"))
        )

    def claim(self, conn: Connection, owner_id: str, fields: dict[str, Any], hlc: str,
              event_id: str, cipher: PiiCipher | None = None) -> dict[str, Any]:
        """Records the write of ``fields`` at ``(hlc, event_id)``; returns the fields it won
        (those whose stored version is older or missing), which the caller then writes."""
        won: dict[str, Any] = {}
        for name, value in fields.items():
            current = conn.execute(self._get, {"m": owner_id, "f": name}).first()
            stored = seal_value(cipher, name, value) if self._sealed else value
            if current is None:
                conn.execute(self._insert, {self._key.key: owner_id, "field": name, "hlc": hlc,
                                            "event_id": event_id, "value": stored})
            elif (current.hlc, current.event_id) < (hlc, event_id):
                conn.execute(self._update, {"m": owner_id, "f": name, "h": hlc, "e": event_id,
                                            "v": stored})
            else:
                continue
            won[name] = value
        return won

    def newer(self, conn: Connection, owner_id: str, hlc: str, event_id: str,
              cipher: PiiCipher | None = None) -> dict[str, tuple[Any, str]]:
        """Field values written after ``(hlc, event_id)``, each with its ``hlc/event_id``:
        updates pulled before the row they apply to, laid over it when it arrives."""
        t = self._t
        rows = conn.execute(select(t.c.field, t.c.hlc, t.c.event_id, t.c.value)
                            .where(self._key == owner_id)).all()
        return {r.field: (open_value(cipher, r.field, r.value) if self._sealed else r.value,
                          f"{r.hlc}/{r.event_id}") for r in rows
                if (r.hlc, r.event_id) > (hlc, event_id)}


MEMBER_FIELDS = FieldVersions(MemberFieldVersion.__table__, "member_id", sealed=True)
STAFF_FIELDS = FieldVersions(StaffFieldVersion.__table__, "staff_id")


def claim_fields(
    conn: Connection, *, member_id: str, fields: dict[str, Any], hlc: str, event_id: str,
    cipher: PiiCipher | None
) -> dict[str, Any]:
    """A member's profile fields: :meth:`FieldVersions.claim` (``cipher`` seals gender,
    birthday and tags; ``StoreNotSetUp`` without it when one of them has a value)."""
    return MEMBER_FIELDS.claim(conn, member_id, fields, hlc, event_id, cipher)


def newer_fields(conn: Connection, *, member_id: str, hlc: str, event_id: str,
                 cipher: PiiCipher | None) -> dict[str, Any]:
    """A member's profile fields written after ``(hlc, event_id)`` (values only, opened)."""
    return {k: v for k, (v, _) in
            MEMBER_FIELDS.newer(conn, member_id, hlc, event_id, cipher).items()}


def seal_plain_versions(conn: Connection, cipher: PiiCipher) -> int:
    """Seals the gender, birthday and tags versions an older version kept in the clear
    (migration 0018 asks for it once). Returns how many it sealed."""
    t = MemberFieldVersion.__table__
    rows = conn.execute(select(t.c.member_id, t.c.field, t.c.value).where(
        t.c.field.in_(list(SEALED_FIELDS)))).all()
    clear = [r for r in rows if r.value is not None and not is_sealed(r.value)]
    for r in clear:
        conn.execute(update(t).where(t.c.member_id == r.member_id, t.c.field == r.field)
                     .values(value=seal_value(cipher, r.field, r.value)))
    return len(clear)
