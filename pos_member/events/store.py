"""The store's own events: the till set up, staff, KPI targets, alerts; and HQ's rules."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from pos_member.events.base import Payload, declare


class DeviceSetUp(Payload, frozen=True, kw_only=True, omit_defaults=True):
    store_id: str
    store_number: int
    store_name: str
    device_id: str
    device_number: int
    device_name: str
    enrolled: bool | None = None  # True: enrolled with HQ (absent: a stand-alone set-up)


class StaffCreated(Payload, frozen=True, kw_only=True):
    """The store's other tills add the colleague with this argon2id hash (never the PIN)."""

    id: str
    code: str
    name: str
    role: str
    store_id: str | None = None
    secret_hash: str | None = None  # absent in an older till's event: not applied


class StaffLocked(Payload, frozen=True, kw_only=True):
    staff_id: str
    locked_until: str


class StaffUpdated(Payload, frozen=True, kw_only=True, omit_defaults=True):
    """A manager changed a colleague's number, name or role: only the fields that changed
    (each wins or loses on its own, last writer by ``(hlc, event id)``)."""

    staff_id: str
    store_id: str
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    role: str | UnsetType = UNSET


class StaffActiveSet(Payload, frozen=True, kw_only=True):
    """``staff.deactivated`` / ``staff.reactivated``: the type says which."""

    staff_id: str
    store_id: str


class StaffPinReset(Payload, frozen=True, kw_only=True):
    """A manager gave a colleague a new PIN or password: its argon2id hash, never the PIN."""

    staff_id: str
    store_id: str
    secret_hash: str


class TargetSet(Payload, frozen=True, kw_only=True):
    store_id: str
    month: str  # YYYY-MM
    target: int


class RfmBounds(Payload, frozen=True, kw_only=True):
    """HQ's nightly RFM quintile cuts over the chain's members (issue 19,
    ``sync/server/insight.py``): each till scores its members against them
    (``services/rfm.py``). ``r``: ISO days of the last purchase; ``f``: purchases; ``m``: fen."""

    day: str  # HQ's store day they were taken
    buyers: int
    r: list[str]
    f: list[int]
    m: list[int]


class RosterSet(Payload, frozen=True, kw_only=True):
    store_id: str
    days: dict[str, list[str]]  # ISO day → guide staff ids


class SplitAdjusted(Payload, frozen=True, kw_only=True):
    store_id: str
    day: str
    targets: dict[str, int]  # guide staff id → the day's target


class FlagRaised(Payload, frozen=True, kw_only=True):
    """An alert a till raised; its detail's fields sit beside ``flag_id`` and ``kind`` (a
    registration burst: registrations, window_minutes, clerk_id, clerk_name; negative points:
    member_id, balance, bill_no). Unknown detail fields are carried as they are."""

    flag_id: str
    kind: str
    registrations: int | UnsetType = UNSET
    window_minutes: int | UnsetType = UNSET
    clerk_id: str | UnsetType | None = UNSET  # None: the POS itself (``pos_clerk``)
    clerk_name: str | UnsetType = UNSET
    member_id: str | UnsetType = UNSET
    balance: int | UnsetType = UNSET
    bill_no: str | UnsetType | None = UNSET


class FlagResolved(Payload, frozen=True, kw_only=True):
    flag_id: str
    note: str


class RulesPublished(Payload, frozen=True, kw_only=True):
    """A server event: a rules version HQ published, in force from ``starts_at`` (absent from
    an older server: at once)."""

    version: str
    source: str
    published_at: str | None = None
    starts_at: str | None = None


DEVICE_SET_UP = declare("device.set_up", DeviceSetUp)
STAFF_CREATED = declare("staff.created", StaffCreated)
STAFF_LOCKED = declare("staff.locked", StaffLocked)
STAFF_UPDATED = declare("staff.updated", StaffUpdated)
STAFF_DEACTIVATED = declare("staff.deactivated", StaffActiveSet)
STAFF_REACTIVATED = declare("staff.reactivated", StaffActiveSet)
STAFF_PIN_RESET = declare("staff.pin_reset", StaffPinReset)
KPI_TARGET_SET = declare("kpi.target_set", TargetSet)
KPI_ROSTER_SET = declare("kpi.roster_set", RosterSet)
KPI_SPLIT_ADJUSTED = declare("kpi.split_adjusted", SplitAdjusted)
FLAG_RAISED = declare("flag.raised", FlagRaised)
FLAG_RESOLVED = declare("flag.resolved", FlagResolved)
RULES_PUBLISHED = declare("rules.published", RulesPublished)
RFM_BOUNDS_PUBLISHED = declare("rfm.bounds_published", RfmBounds)
