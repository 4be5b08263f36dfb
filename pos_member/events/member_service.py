"""Member service events (issue 20): status, lost-card re-issue, phone change, erasure.

All of them are directory events (``services/member_directory.DIRECTORY_TYPES``, HQ's
``sync/server/routes.DIRECTORY_TYPES``): every till of the chain holds every member's status,
card generation and phone blind index, so each change reaches every till after sync.
"""

from __future__ import annotations

from pos_member.events.base import Payload, declare

# A member's status (member_standing.status); "normal" has no row.
NORMAL = "normal"
FROZEN = "frozen"  # no earning, no redeeming, no stored-value spending
BLACKLISTED = "blacklisted"  # refused at the till
STATUSES = (NORMAL, FROZEN, BLACKLISTED)


class MemberStatusSet(Payload, frozen=True, kw_only=True):
    """A manager set the member's status; ``reason`` is what the manager wrote (a manager at
    any till may read it). The newer change wins (hybrid clock)."""

    member_id: str
    member_no: str
    status: str
    reason: str


class MemberCardReissued(Payload, frozen=True, kw_only=True):
    """A lost card: the member's code is now ``PM2:<member_no>:<generation>``; every older code
    of the member (and the bare number) is refused when scanned. Generations only grow."""

    member_id: str
    member_no: str
    generation: int
    reason: str


class MemberPhoneChanged(Payload, frozen=True, kw_only=True):
    """The member's phone changed: the new blind index and ciphertext (the chain's data key,
    context ``member.phone``); the old index finds no one afterwards. ``verified_by``:
    ``sms`` (a code to the new phone, online; ``sms_challenge_id``), ``pin`` or ``totp``
    (the member's payment PIN or dynamic code, offline, with ``approver_id``)."""

    member_id: str
    member_no: str
    old_phone_index: str
    phone_index: str
    phone_enc: str
    verified_by: str
    approver_id: str | None = None
    sms_challenge_id: str | None = None


class MemberErased(Payload, frozen=True, kw_only=True):
    """The member's personal data is erased (被遗忘权): every till and HQ drop the phone, name,
    gender, birthday, tags and notes; ledgers stay under the member's id, which names no one."""

    member_id: str
    member_no: str
    phone_index: str  # the index given up, so HQ frees the phone


MEMBER_STATUS_SET = declare("member.status_set", MemberStatusSet)
MEMBER_CARD_REISSUED = declare("member.card_reissued", MemberCardReissued)
MEMBER_PHONE_CHANGED = declare("member.phone_changed", MemberPhoneChanged)
MEMBER_ERASED = declare("member.erased", MemberErased)
SERVICE_TYPES = (MEMBER_STATUS_SET, MEMBER_CARD_REISSUED, MEMBER_PHONE_CHANGED, MEMBER_ERASED)


class MemberTierSet(Payload, frozen=True, kw_only=True):
    """A manager set the member's tier by hand until ``until`` (ISO time); the computed tier
    comes back after it (``services/member_service.end_tier_overrides``). Upgrades and the
    periodic evaluation leave the member alone meanwhile."""

    member_id: str
    member_no: str
    tier: str
    reason: str
    until: str


MEMBER_TIER_SET = declare("member.tier_set", MemberTierSet)
SERVICE_TYPES += (MEMBER_TIER_SET,)
