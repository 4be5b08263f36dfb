"""A member's gender, birthday and tags, encrypted at rest (issue 20, SPEC §2.10), like the
phone and the name: AES-GCM with the till's data key, the column's name bound as associated
data (``events.GENDER_CTX``, ``BIRTHDAY_CTX``, ``TAGS_CTX``), with a synthetic nonce
(``PiiCipher.encrypt_stable``): every till holds the same bytes for the same value, whatever
order it applied the events in.

:func:`sealed` gives the columns to write, :func:`opened` reads them back. A till upgraded
from a version that kept them in the clear seals them at its first start with the key
(:func:`seal_plain`, called by ``bootstrap``); until then nothing is lost.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, select, text, update

from pos_member.crypto import PiiCipher
from pos_member.db.models import Member
from pos_member.db.models.members import CLEAR_PROFILE
from pos_member.events import BIRTHDAY_CTX, GENDER_CTX, TAGS_CTX

_M = Member.__table__


class Profile(NamedTuple):
    gender: str | None
    birthday: date | None
    tags: tuple[str, ...]


EMPTY = Profile(None, None, ())


def sealed(cipher: PiiCipher, *, gender: str | None, birthday: date | None,
           tags: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The three encrypted columns' values (None for an empty value)."""
    return {
        "gender_enc": cipher.encrypt_stable(gender, context=GENDER_CTX) if gender else None,
        "birthday_enc": cipher.encrypt_stable(birthday.isoformat(), context=BIRTHDAY_CTX)
        if birthday else None,
        "tags_enc": cipher.encrypt_stable(json.dumps(list(tags), ensure_ascii=False),
                                          context=TAGS_CTX) if tags else None,
    }


def seal_one(cipher: PiiCipher, column: str, value: Any) -> bytes | None:
    """One column's value sealed (``gender``, ``birthday`` or ``tags`` by name)."""
    kw: dict[str, Any] = {"gender": None, "birthday": None, "tags": ()}
    kw[column] = value
    return sealed(cipher, **kw)[f"{column}_enc"]  # type: ignore[no-any-return]


def opened(cipher: PiiCipher, gender_enc: bytes | None, birthday_enc: bytes | None,
           tags_enc: bytes | None) -> Profile:
    return Profile(
        cipher.decrypt(gender_enc, context=GENDER_CTX) if gender_enc else None,
        date.fromisoformat(cipher.decrypt(birthday_enc, context=BIRTHDAY_CTX))
        if birthday_enc else None,
        tuple(json.loads(cipher.decrypt(tags_enc, context=TAGS_CTX))) if tags_enc else ())


def of_member(cipher: PiiCipher, m: Any) -> Profile:
    """The profile of a ``Member`` (or a row with the three columns)."""
    return opened(cipher, m.gender_enc, m.birthday_enc, m.tags_enc)


def birthday_of(cipher: PiiCipher | None, birthday_enc: bytes | None) -> date | None:
    """The birthday alone (the points and stored-value rules need it)."""
    if not birthday_enc or cipher is None:
        return None
    return date.fromisoformat(cipher.decrypt(birthday_enc, context=BIRTHDAY_CTX))


def seal_plain(conn: Connection, cipher: PiiCipher) -> int:
    """Seals the clear gender, birthday and tags an older version left (migration 0017) and
    empties them. The rows are found through a partial index of exactly those rows, so a till
    with none left pays one index probe at start. Returns how many members it sealed."""
    rows = conn.execute(select(_M.c.id, _M.c.gender, _M.c.birthday, _M.c.tags)
                        .where(text(CLEAR_PROFILE))).all()
    for member_id, gender, birthday, tags in rows:
        values = {k: v for k, v in sealed(cipher, gender=gender, birthday=birthday,
                                          tags=list(tags or [])).items() if v is not None}
        conn.execute(update(_M).where(_M.c.id == member_id).values(
            gender=None, birthday=None, tags=[], **values))
    return len(rows)
