"""What the status bar and the closing-time dialog say about sync: pure presentation, tested
without a display. Strings go through Qt's translation (context ``SyncView``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from pos_member.clock import DEFAULT_TZ
from pos_member.money import format_yuan
from pos_member.services.reidentity import Reidentity
from pos_member.services.stored_value_ledger import DayMovements, Movement
from sync.engine import DayReport
from ui.i18n import translate
from ui.sync_worker import SyncState, SyncStatus


@dataclass(frozen=True, slots=True)
class StatusLine:
    text: str
    kind: str  # "online" (green) | "offline" (amber: events wait) | "idle" (grey)
    # | "revoked" (red: the server refused the till's token)
    tooltip: str


def _clock(at: datetime, fmt: str, today: date | None, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    if today is not None and local.date() != today:
        return local.strftime("%m-%d ") + local.strftime(fmt)
    return local.strftime(fmt)


def status_line(status: SyncStatus, *, today: date | None = None,
                zone: tzinfo = DEFAULT_TZ) -> StatusLine:
    """The status bar's sync text, times in the store's ``zone``. ``today`` (local) adds the
    date to a last sync of another day, so an old "last 09:12" cannot pass for this morning.
    Pulled events held in quarantine add their count (amber: the till is not fully in step
    with head office)."""
    line = _state_line(status, today, zone)
    if not status.quarantined:
        return line
    held = translate("SyncView", "%1 from head office held").replace(
        "%1", str(status.quarantined))
    tip = translate(
        "SyncView", "%1 change(s) from head office cannot be applied on this till (a newer "
        "version wrote them, or they are damaged). They are kept and tried again after every "
        "update of this program; the day does not close clean meanwhile.").replace(
        "%1", str(status.quarantined))
    kind = line.kind if line.kind == "revoked" else "offline"
    return StatusLine(f"{line.text} · {held}", kind,
                      f"{line.tooltip}\n{tip}" if line.tooltip else tip)


def _state_line(status: SyncStatus, today: date | None, zone: tzinfo) -> StatusLine:
    n = str(status.pending)
    if status.state is SyncState.NOT_ENROLLED:
        return StatusLine(translate("SyncView", "Not enrolled with head office"), "idle",
                          status.error or translate(
                              "SyncView", "This till does not sync: it has no server."))
    if status.state is SyncState.REVOKED:
        when = _clock(status.next_retry, "%H:%M", today, zone) if status.next_retry else "—"
        tip = translate(
            "SyncView", "Head office refused this till's device token: it was revoked, or the "
            "till was enrolled again elsewhere. Nothing is lost: events wait here until head "
            "office reinstates the till or it is enrolled again in its own data folder. "
            "Next check: %1.").replace("%1", when)
        return StatusLine(
            translate("SyncView", "This till's access was revoked — ask head office to enrol "
                      "it again · %1 to upload").replace("%1", n),
            "revoked", tip + ("\n" + status.error if status.error else ""))
    if status.state is SyncState.STARTING:
        return StatusLine(
            translate("SyncView", "Sync: connecting… · %1 to upload").replace("%1", n),
            "idle", "")
    if status.state is SyncState.ONLINE:
        last = _clock(status.last_sync, "%H:%M", today, zone) if status.last_sync else "—"
        text = (translate("SyncView", "Sync: online · %1 to upload · last %2")
                .replace("%1", n).replace("%2", last))
        if status.notice is not None:
            text += " · " + reidentity_line(status.notice)
        return StatusLine(text, "online", "")
    retry = _clock(status.next_retry, "%H:%M:%S", today, zone) if status.next_retry else "—"
    return StatusLine(
        translate("SyncView", "Offline, %1 to upload (next retry %2)")
        .replace("%1", n).replace("%2", retry),
        "offline" if status.pending else "idle", status.error or "")


def reidentity_line(notice: Reidentity) -> str:
    """The cashier's one line after the till took a new identity (a restored or copied till)."""
    return (translate("SyncView", "now till %1 (was till %2): its data were restored or "
                      "copied; %3 unsent events go under the new number, %4 member numbers "
                      "changed (members told by SMS). Nothing was lost.")
            .replace("%1", str(notice.device_number))
            .replace("%2", str(notice.old_device_number))
            .replace("%3", str(notice.moved)).replace("%4", str(notice.renumbered)))


@dataclass(frozen=True, slots=True)
class ReportView:
    """The closing report as the dialog shows it."""

    title: str
    rows: list[tuple[str, str]]  # (label, value), in order
    alert_row: int  # the row shown in red when not everything was acknowledged (-1: none)
    verdict: str
    ok: bool


def report_view(report: DayReport) -> ReportView:
    s = report.summary
    rows: list[tuple[str, str]] = [
        (translate("SyncView", "Registrations"), str(s.total_registrations)),
    ]
    for g in s.registrations:
        who = g.guide_name or (
            translate("SyncView", "Guide %1").replace("%1", g.guide_id[:8]) if g.guide_id
            else translate("SyncView", "No guide"))
        rows.append(("    " + who, str(g.registrations)))
    rows.append((translate("SyncView", "Sales"), translate("SyncView", "%1 · %2").replace(
        "%1", str(s.sales_count)).replace("%2", format_yuan(s.sales_fen))))
    rows.append((translate("SyncView", "    of which members"), translate(
        "SyncView", "%1 · %2").replace("%1", str(s.member_sales_count)).replace(
        "%2", format_yuan(s.member_sales_fen))))
    if s.refunded_fen:
        rows.append((translate("SyncView", "Refunded"), format_yuan(s.refunded_fen)))
    rows.append((translate("SyncView", "Points earned / redeemed"),
                 f"{s.points_earned} / {s.points_redeemed}"))
    rows.extend(stored_value_rows(s.stored_value))
    rows.append((translate("SyncView", "Events written today"), str(s.events_written)))
    if report.sync is not None:
        rows.append((translate("SyncView", "Events pushed"),
                     translate("SyncView", "%1 new, %2 already stored")
                     .replace("%1", str(report.sync.pushed))
                     .replace("%2", str(report.sync.duplicates))))
        rows.append((translate("SyncView", "Changes from other tills applied"),
                     str(report.sync.applied)))
    rows.append((translate("SyncView", "Not acknowledged"), str(report.pending)))
    alert_row = len(rows) - 1 if report.pending else -1
    if report.quarantined:
        rows.append((translate("SyncView", "Changes held, not applied"), str(report.quarantined)))
        alert_row = alert_row if alert_row >= 0 else len(rows) - 1
    if report.ok:
        verdict = translate("SyncView", "Day closed: every event is stored at head office.")
    elif report.pending:
        verdict = translate(
            "SyncView", "NOT closed: %1 event(s) not acknowledged by head office. Close the "
            "day again when the server can be reached.").replace("%1", str(report.pending))
    elif report.quarantined and report.error is None:
        verdict = translate(
            "SyncView", "NOT closed: %1 change(s) from head office cannot be applied on this "
            "till. Update this program (they are tried again after every update) or call head "
            "office.").replace("%1", str(report.quarantined))
    else:
        verdict = translate(
            "SyncView", "NOT closed: the sync with head office did not finish. Close the day "
            "again when the server can be reached.")
    if not report.ok and report.error:
        verdict += "\n" + report.error
    title = translate("SyncView", "Day report %1 — %2").replace(
        "%1", report.day.isoformat()).replace("%2", report.store_name)
    return ReportView(title, rows, alert_row, verdict, report.ok)


def stored_value_rows(sv: DayMovements) -> list[tuple[str, str]]:
    """The day's balance movements on this till (储值): counts, principal and bonus."""
    def split(m: Movement) -> str:
        return translate("SyncView", "%1 · %2 (principal %3, bonus %4)").replace(
            "%1", str(m.count)).replace("%2", format_yuan(m.total_fen)).replace(
            "%3", format_yuan(m.principal_fen)).replace("%4", format_yuan(m.bonus_fen))

    rows = [(translate("SyncView", "Stored-value top-ups"), split(sv.topups)),
            (translate("SyncView", "Balance payments"), split(sv.payments))]
    if sv.payment_refunds.count:
        rows.append((translate("SyncView", "Balance payments refunded"),
                     split(sv.payment_refunds)))
    if sv.topup_refunds.count:
        rows.append((translate("SyncView", "Top-ups refunded (cash back)"),
                     translate("SyncView", "%1 · %2").replace(
                         "%1", str(sv.topup_refunds.count)).replace(
                         "%2", format_yuan(sv.topup_refunds.cash_fen))))
    return rows


def step_text(step: str, done: int, total: int) -> str:
    """One line of closing time's progress."""
    if step == "push":
        return translate("SyncView", "Pushing %1 event(s)… %2 done").replace(
            "%1", str(total)).replace("%2", str(done))
    if step == "pull":
        return translate("SyncView", "Pulling changes… %1 received").replace("%1", str(done))
    return translate("SyncView", "Preparing the report…")
