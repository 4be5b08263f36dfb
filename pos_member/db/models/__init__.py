"""SQLAlchemy 2.0 typed models of the till's database, one module per area. Personal data is
stored only encrypted.

Every model is re-exported here (``from pos_member.db.models import Member``), and importing
the package imports every module, so ``Base.metadata`` holds every table (Alembic's env and
the schema test compare it with the migrations).
"""

from pos_member.db.models.base import NAMING, Base, UtcDateTime
from pos_member.db.models.coupons import Coupon, CouponBlock, CouponEntry
from pos_member.db.models.directory import DirectoryEntry
from pos_member.db.models.event_log import (
    AppliedEvent,
    AuditEntry,
    DeviceSuccession,
    Event,
    EventMove,
    QuarantinedEvent,
)
from pos_member.db.models.insight import MemberLedgerSums, MemberRfm, RecallContact
from pos_member.db.models.kpi import KpiMonthTarget, KpiRoster, KpiSplitAdjustment
from pos_member.db.models.member_service import MemberStanding
from pos_member.db.models.members import Member, MemberAlias, MemberFieldVersion
from pos_member.db.models.notifications import NotificationOutbox
from pos_member.db.models.points import PointsAccount, PointsEntry, PointsLot, PointsTxn, SalePoints
from pos_member.db.models.pos_bills import PosBill, PosRefund
from pos_member.db.models.remote_members import RemoteMember
from pos_member.db.models.sales import Sale
from pos_member.db.models.store import (
    Device,
    DeviceCounter,
    Flag,
    RulesVersion,
    Setting,
    Staff,
    StaffFieldVersion,
    Store,
)
from pos_member.db.models.stored_value import BalanceBlock, SvAccount, SvCredential, SvLedgerEntry

__all__ = [
    "NAMING", "AppliedEvent", "AuditEntry", "BalanceBlock", "Base", "Coupon", "CouponBlock",
    "CouponEntry", "Device", "DeviceCounter",
    "DeviceSuccession", "DirectoryEntry", "Event", "EventMove", "Flag", "KpiMonthTarget",
    "KpiRoster",
    "KpiSplitAdjustment", "Member", "MemberAlias", "MemberFieldVersion", "MemberLedgerSums",
    "MemberRfm", "MemberStanding",
    "NotificationOutbox",
    "PointsAccount", "PointsEntry", "PointsLot", "PointsTxn", "PosBill", "PosRefund",
    "QuarantinedEvent", "RecallContact", "RemoteMember", "RulesVersion",
    "Sale", "SalePoints", "Setting", "Staff", "StaffFieldVersion", "Store", "SvAccount",
    "SvCredential", "SvLedgerEntry", "UtcDateTime",
]
