"""Roles and what each may do. Enforced in the services, so no caller can forget it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pos_member.errors import PermissionDenied
from pos_member.i18n import QT_TRANSLATE_NOOP


class Role(StrEnum):
    CASHIER = "cashier"
    GUIDE = "guide"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.CASHIER: QT_TRANSLATE_NOOP("roles", "Cashier"),
    Role.GUIDE: QT_TRANSLATE_NOOP("roles", "Guide"),
    Role.MANAGER: QT_TRANSLATE_NOOP("roles", "Manager"),
    Role.ADMIN: QT_TRANSLATE_NOOP("roles", "Administrator"),
}


class Action(StrEnum):
    VIEW_MEMBER = QT_TRANSLATE_NOOP("roles", "look up members")
    REGISTER_MEMBER = QT_TRANSLATE_NOOP("roles", "register members")
    EDIT_MEMBER = QT_TRANSLATE_NOOP("roles", "edit member profiles")
    REVEAL_PERSONAL_DATA = QT_TRANSLATE_NOOP("roles", "reveal personal data")
    MANAGE_STAFF = QT_TRANSLATE_NOOP("roles", "manage staff")
    MANAGE_MANAGERS = QT_TRANSLATE_NOOP("roles", "create managers and administrators")
    REVIEW_FLAGS = QT_TRANSLATE_NOOP("roles", "review alerts")
    SET_UP_STORE = QT_TRANSLATE_NOOP("roles", "set up the store")
    CLOSE_DAY = QT_TRANSLATE_NOOP("roles", "close the day")
    ADJUST_POINTS = QT_TRANSLATE_NOOP("roles", "adjust points by hand")
    REFUND_SALE = QT_TRANSLATE_NOOP("roles", "approve refunds of sales")
    MANAGE_KPI = QT_TRANSLATE_NOOP("roles", "set recruitment targets and the roster")
    VIEW_KPI = QT_TRANSLATE_NOOP("roles", "see the store's recruitment dashboard")
    ISSUE_COUPON = QT_TRANSLATE_NOOP("roles", "issue and withdraw coupons by hand")
    # Stored value (issue 6)
    SV_TOPUP = QT_TRANSLATE_NOOP("roles", "top up stored value")
    SV_PAY = QT_TRANSLATE_NOOP("roles", "take stored-value payments")
    SV_REFUND_PAYMENT = QT_TRANSLATE_NOOP("roles", "refund stored-value payments")
    SV_REFUND_TOPUP = QT_TRANSLATE_NOOP("roles", "refund top-ups")
    SV_FREEZE = QT_TRANSLATE_NOOP("roles", "freeze and unfreeze stored value")
    SV_APPROVE = QT_TRANSLATE_NOOP("roles", "approve large stored-value payments")
    SV_APPROVE_REFUND = QT_TRANSLATE_NOOP("roles", "approve stored-value payment refunds")
    SV_MANAGE_CREDENTIALS = QT_TRANSLATE_NOOP("roles", "set member payment PINs and codes")
    # Member service and privacy (issue 20)
    MEMBER_STATUS = QT_TRANSLATE_NOOP(
        "roles", "freeze and blacklist members, set tiers by hand, re-issue cards")
    CHANGE_PHONE = QT_TRANSLATE_NOOP("roles", "change members' phones")
    ERASE_MEMBER = QT_TRANSLATE_NOOP("roles", "erase members' personal data")


_EVERYONE = {Action.VIEW_MEMBER, Action.REGISTER_MEMBER, Action.EDIT_MEMBER}
# Closing time (日结) is the store manager's (SPEC): it reports the store's day to HQ.
_MANAGER = _EVERYONE | {Action.REVEAL_PERSONAL_DATA, Action.MANAGE_STAFF, Action.REVIEW_FLAGS,
                        Action.CLOSE_DAY, Action.ADJUST_POINTS, Action.MANAGE_KPI, Action.VIEW_KPI,
                        Action.REFUND_SALE,  # money back: a manager approves (docs/rules.md)
                        Action.ISSUE_COUPON}
# Stored value: anyone at the till takes top-ups and payments and starts a payment's or a
# top-up's refund; a manager approves every refund (money back: docs/rules.md). Freezes,
# approvals and member PINs are the manager's.
_SV_TILL = {Action.SV_TOPUP, Action.SV_PAY, Action.SV_REFUND_PAYMENT}
_EVERYONE |= _SV_TILL
_MANAGER |= _SV_TILL | {Action.SV_REFUND_TOPUP, Action.SV_FREEZE, Action.SV_APPROVE,
                        Action.SV_APPROVE_REFUND, Action.SV_MANAGE_CREDENTIALS}
# Member service: a manager's (docs/rules.md, "Member status"); a phone change offline needs a
# manager's approval too, which the service asks for itself.
_MANAGER |= {Action.MEMBER_STATUS, Action.CHANGE_PHONE, Action.ERASE_MEMBER}
_EVERYONE |= {Action.CHANGE_PHONE}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.CASHIER: frozenset(_EVERYONE),
    Role.GUIDE: frozenset(_EVERYONE),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_MANAGER | {Action.MANAGE_MANAGERS, Action.SET_UP_STORE}),
}


@dataclass(frozen=True, slots=True)
class Clerk:
    """Who is acting, and where. ``staff_id`` is None for the system itself (setup, migrations)."""

    staff_id: str | None
    name: str
    role: Role
    store_id: str
    device_id: str

    def may(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]

    @property
    def ledger_name(self) -> str | None:
        """The name a ledger line keeps of who served the member: none for the system."""
        return self.name if self.staff_id else None


def require(clerk: Clerk, action: Action) -> None:
    if not clerk.may(action):
        raise PermissionDenied(role=ROLE_LABELS[clerk.role], action=action.value)
