"""Finding a member without their code or full phone (issue 17): by name, or by the last four
digits of the phone (docs/rules.md, "Member search").

Phones and names are stored encrypted, with a blind index for the full phone only, so a search
decrypts the one field it matches against, member by member, newest registration first, off
the GUI thread, and stops at :data:`MAX_RESULTS`. Only active members; the answer is their
masked cards: the clerk picks the one the customer confirms.
"""

from __future__ import annotations

from sqlalchemy import select

from pos_member.db.models import Member
from pos_member.db.uow import UnitOfWork
from pos_member.events import NAME_CTX, PHONE_CTX
from pos_member.permissions import Action, Clerk, require
from pos_member.services.member_cards import MemberCard, get_member

MAX_RESULTS = 20


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def search_members(uow: UnitOfWork, *, clerk: Clerk, query: str) -> list[MemberCard]:
    """Members whose phone ends with ``query`` (four digits) or whose name contains it
    (anything else: at least two characters), newest first, at most :data:`MAX_RESULTS`."""
    require(clerk, Action.VIEW_MEMBER)
    q = _norm(query)
    by_phone = q.isdigit()
    if (by_phone and len(q) != 4) or (not by_phone and len(q) < 2):
        return []
    column = Member.phone_enc if by_phone else Member.name_enc
    context = PHONE_CTX if by_phone else NAME_CTX
    cipher = uow.cipher
    found: list[str] = []
    with uow.read() as s:
        rows = s.execute(select(Member.id, column).where(Member.status == "active",
                                                         column.is_not(None))
                         .order_by(Member.registered_at.desc(), Member.member_no.desc()))
        for member_id, blob in rows:
            if not blob:  # an erased member's phone (b""): nothing to match
                continue
            value = _norm(cipher.decrypt(blob, context=context))
            if (value.endswith(q) if by_phone else q in value):
                found.append(member_id)
                if len(found) == MAX_RESULTS:
                    break
    return [get_member(uow, clerk=clerk, member_id=mid) for mid in found]
