"""Presentation of points and tiers, testable without a display: how the points of a sale are
explained, the receipt's points lines, the card's points and tier tiles."""

from __future__ import annotations

import uuid
from datetime import date, tzinfo

from pos_member.money import format_yuan
from pos_member.points_rules import EarnBreakdown
from pos_member.rules_config import Rules
from pos_member.services.member_cards import TIER_LABELS
from pos_member.services.points import KIND_LABELS, LedgerLine, PointsSummary
from pos_member.services.sale_refunds import RefundQuote, RefundResult
from pos_member.services.sales import SaleResult
from ui.i18n import translate


def _pct(percent: int) -> str:
    whole, rest = divmod(percent, 100)
    return f"{whole}" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")


def multiplier_name(code: str, tier: str | None = None) -> str:
    """What a multiplier is called to a member: the tier's own name (金卡), the member day."""
    if code == "tier" and tier is not None:
        return tier_name(tier)
    names = {
        "tier": translate("PointsView", "tier"),
        "member_day": translate("PointsView", "member day"),
        "birthday_month": translate("PointsView", "birthday month"),
    }
    return names.get(code, code)


def earn_reasons(earn: EarnBreakdown, tier: str | None = None) -> str:
    """Why the sale earns what it does, in a member's words: ``¥123 → 123 · member day 2×
    · big-purchase bonus +100``. A multiplier of 1 is not a reason and is left out."""
    parts = [translate("PointsView", "%1 for the purchase").replace("%1", str(earn.base))]
    for m in earn.multipliers:
        if m.percent != 100:
            parts.append(translate("PointsView", "%1 %2×").replace(
                "%1", multiplier_name(m.code, tier)).replace("%2", _pct(m.percent)))
    if earn.bonus:
        parts.append(translate("PointsView", "big-purchase bonus +%1").replace(
            "%1", str(earn.bonus)))
    return " · ".join(parts)


def explain_earn(earn: EarnBreakdown, tier: str | None = None) -> str:
    """The points a sale earns and why (one line), then the daily cap when it cut them."""
    text = translate("PointsView", "Points earned: %1 (%2)").replace(
        "%1", str(earn.earned)).replace("%2", earn_reasons(earn, tier))
    if earn.not_earned:
        text += "\n" + translate(
            "PointsView", "Not earned (daily cap of the member reached): %1").replace(
            "%1", str(earn.not_earned))
    return text


def tier_name(code: str | None) -> str:
    if code is None:
        return "—"
    return translate("members", TIER_LABELS.get(code, code))


def receipt_lines(r: SaleResult) -> list[str]:
    """The points lines printed on the receipt."""
    lines = [
        translate("PointsView", "Bill %1").replace("%1", r.bill_no),
        translate("PointsView", "Amount: %1").replace("%1", format_yuan(r.bill_fen)),
    ]
    if r.redeem_points:
        lines.append(translate("PointsView", "Points used: %1 (−%2)").replace(
            "%1", str(r.redeem_points)).replace("%2", format_yuan(r.redeem_fen)))
    lines.append(receipt_paid_line(r))
    if r.earn is not None:
        lines.extend(explain_earn(r.earn, r.tier_before).splitlines())
        lines.append(translate("PointsView", "Points balance: %1").replace(
            "%1", str(r.balance)))
    if r.upgraded:
        lines.append(translate("PointsView", "Upgraded to %1!").replace(
            "%1", tier_name(r.tier_after)))
    return lines


def receipt_paid_line(r: SaleResult) -> str:
    return translate("PointsView", "Paid: %1").replace("%1", format_yuan(r.paid_fen))


def refund_lines(r: RefundResult) -> list[str]:
    lines = [translate("PointsView", "Refunded %1 on bill %2").replace(
        "%1", format_yuan(r.refund_fen)).replace("%2", r.bill_no)]
    if r.balance is not None:
        lines.append(translate("PointsView", "Points taken back: %1 · returned: %2").replace(
            "%1", str(r.clawed_points)).replace("%2", str(r.restored_points)))
        lines.append(translate("PointsView", "Points balance: %1").replace(
            "%1", str(r.balance)))
    if r.flagged:
        lines.append(translate(
            "PointsView", "The balance is below zero: the manager has been alerted."))
    return lines


def refund_quote_lines(q: RefundQuote) -> list[str]:
    """What a refund will do, shown before it is confirmed."""
    lines = [
        translate("PointsView", "Bill %1: %2, refunded before: %3").replace(
            "%1", q.bill_no).replace("%2", format_yuan(q.bill_fen)).replace(
            "%3", format_yuan(q.refunded_fen)),
        translate("PointsView", "Money back to the customer: %1").replace(
            "%1", format_yuan(q.refund_fen)),
    ]
    if q.balance is not None:
        after = q.balance - q.clawed_points + q.restored_points
        lines.append(translate("PointsView", "Points taken back: %1 · returned: %2").replace(
            "%1", str(q.clawed_points)).replace("%2", str(q.restored_points)))
        lines.append(translate("PointsView", "Points balance: %1 → %2").replace(
            "%1", str(q.balance)).replace("%2", str(after)))
    return lines


def points_tile(s: PointsSummary | None) -> str:
    if s is None:
        return "—"
    text = str(s.balance)
    if s.pending:
        text += translate("PointsView", " (%1 pending)").replace("%1", str(s.pending))
    return text


def tier_benefits(rules: Rules, tier: str, today: date) -> str:
    """The earn multiplier, and the member-day discount on the member day."""
    level = next((lv for lv in rules.tiers.levels if lv.code == tier), rules.tiers.levels[0])
    text = translate("PointsView", "Points × %1").replace(
        "%1", _pct(level.earn_multiplier_percent))
    pct = level.member_day_discount_percent
    if pct < 100:
        # %2 is the same discount the Chinese way: 90% of the price = 9折, 85% = 8.5折.
        zhe = _pct(pct * 10)
        if today.day == rules.points.member_day:
            text += translate(
                "PointsView", " · Member day today: %2/10 of the price (%1%)"
            ).replace("%1", str(pct)).replace("%2", zhe)
        else:
            text += translate(
                "PointsView", " · Member day (day %3): %2/10 of the price (%1%)"
            ).replace("%1", str(pct)).replace("%2", zhe).replace("%3", str(rules.points.member_day))
    return text


def ledger_row(line: LedgerLine, zone: tzinfo) -> list[str]:
    """A ledger line's cells; its time in the store's ``zone``."""
    return [
        line.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        translate("points", KIND_LABELS.get(line.kind, line.kind)),
        f"{line.points:+d}",
        str(line.balance),
        line.bill_no or "—",
        line.store,
        line.clerk or "—",
        _readable_note(line.note),
    ]


def _readable_note(note: str | None) -> str:
    """A ledger line's note as a clerk reads it: an internal id (a returned lot's) is no note."""
    text = (note or "").strip()
    try:
        uuid.UUID(text)
    except ValueError:
        return text
    return ""
