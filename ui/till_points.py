"""The till's points feature: F4 sale, Shift+F4 refund, F7 ledger, Ctrl+F7 adjustment, Ctrl+G
gifts, the points and tier part of the member card, and the hourly expiry and tier jobs. Plugs
into the till window through :func:`register`."""

from __future__ import annotations

from typing import Any

from pos_member.changes import Area, Changes
from pos_member.errors import CouponNeedsMember, ScanWhileDialogOpen
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action
from pos_member.services import (
    checkout,
    coupon_redeem,
    member_service,
    points,
    points_expiry,
    rfm,
    sales,
    tiers,
)
from pos_member.services import stored_value_standing as svs
from pos_member.services.bill_refunds import refund_bill_with_pin, refund_preview
from pos_member.services.coupon_triggers import TriggerRun, run_triggers
from pos_member.services.line_refunds import bill_lines, quote_lines, refund_lines_with_pin
from pos_member.services.member_cards import MemberCard
from pos_member.services.purchases import purchases
from pos_member.services.sale_refunds import quote_refund
from ui.gift_dialog import GiftDialog
from ui.host import TillAction, TillHost
from ui.i18n import translate
from ui.points_adjust_dialog import AdjustDialog
from ui.points_ledger_dialog import LedgerDialog
from ui.points_view import points_tile, tier_benefits, tier_name
from ui.refund_dialog import RefundDialog
from ui.sale_dialog import SaleDialog
from ui.sync_worker import SyncState
from ui.till_stored_value import sms_client


class PointsActions:
    def __init__(self, host: TillHost) -> None:
        self.w = host

    # -- the card -------------------------------------------------------------------------------
    def card_shown(self, card: MemberCard) -> None:
        """Loads the member's points and tier standing and shows them on the card."""
        if card.hq is not None:  # another store's member: HQ's figures (till_remote_member)
            return
        uow = self.w.uow

        def load() -> tuple[points.PointsSummary, tiers.TierStanding]:
            return (points.points_summary(uow, member_id=card.id),
                    tiers.tier_standing(uow, member_id=card.id))

        self.w.ops.run(load, lambda got: self._show(card, *got))

    def _show(self, card: MemberCard, summary: points.PointsSummary,
              standing: tiers.TierStanding) -> None:
        shown = self.w.current_card()
        if shown is None or shown.id != card.id or shown.hq is not None:
            return  # another member is on screen by now, or HQ's figures are
        today = self.w.uow.clock.today()
        benefits = tier_benefits(self.w.uow.rules, standing.tier, today)  # the tier is above
        self.w.card_view.set_points(points_tile(summary), benefits)

    # -- actions ----------------------------------------------------------------------------
    def open_sale(self) -> None:
        """F4: the checkout for the member on screen, or a walk-in."""
        card = self.w.current_card()
        uow, clerk, w = self.w.uow, self.w.clerk, self.w
        member_id = card.id if card else None
        # HQ's client (made for SMS codes, here on the GUI thread) also checks each coupon
        # with HQ, and describes another store's member's coupons.
        hq_client = sms_client(w) if card is not None else None
        coupon_hq = hq_client if isinstance(hq_client, coupon_redeem.HqCoupons) else None

        def record(**kw: Any) -> checkout.CheckoutResult:
            # ``online`` comes with kw: the dialog reads the sync state on the GUI thread.
            return checkout.checkout(uow, clerk, sms_verifier=w.sv_sms, coupon_hq=coupon_hq,
                                     **kw)

        def hq_if_online() -> coupon_redeem.HqCoupons | None:
            return coupon_hq if w.sync_status().state is SyncState.ONLINE else None

        dialog = SaleDialog(
            ops=self.w.ops, card=card, guides=self.w.guides(),
            quote=lambda fen, wanted, stored: sales.quote_sale(
                uow, member_id=member_id, amount_fen=fen, redeem_points=wanted,
                no_earn_fen=checkout.no_earn_fen(uow, member_id, stored)),
            record=record,
            # stored value only for a member this till holds (another store's: HQ's balance)
            standing=(lambda: svs.pay_standing(uow, clerk=clerk, member_id=card.id))
            if card is not None and card.hq is None and not card.remote else None,
            sms=hq_client,
            phone=(lambda: svs.phone_for_sms(uow, member_id=card.id))
            if card is not None else None,
            online=lambda: w.sync_status().state is SyncState.ONLINE,
            approval_fen=None if clerk.may(Action.SV_APPROVE)
            else uow.rules.stored_value.manager_approval_fen,
            # Online, HQ is asked as the checkout will: another store's member's coupon is
            # learned (and kept for offline) as soon as it is scanned (docs/rules.md).
            coupon_plan=(lambda codes, fen, wanted: coupon_redeem.plan(
                uow, clerk, codes=codes, member_id=card.id, bill_fen=fen,
                redeem_points=wanted, hq=hq_if_online(), quoting=True))
            if card is not None else None,
            parent=self.w.window())
        if w.sync is not None:
            w.sync.status_changed.connect(dialog.refresh_online)
        dialog.recorded.connect(self._sold)
        self.w.open_dialog(dialog)

    def take_coupon(self, code: str) -> None:
        """A coupon scanned or typed: the open checkout takes it, or one opens for the member
        on screen with it; another dialog refuses it (nothing changes behind a dialog)."""
        w = self.w
        card = w.current_card()  # another store's member too: HQ describes their coupons
        if w.dialog is None:
            if card is None:
                w.show_error(CouponNeedsMember())
                return
            self.open_sale()
        if isinstance(w.dialog, SaleDialog) and w.dialog.coupons.isEnabled():
            w.dialog.take_coupon(code)
        else:
            w.show_error(ScanWhileDialogOpen())

    def _sold(self, result: sales.SaleResult) -> None:
        self.w.notify_changed(result.changes)  # the member's card on screen reloads
        if result.upgraded:
            self.w.show_info(translate("TillWindow", "Upgraded to %1!").replace(
                "%1", tier_name(result.tier_after)))

    def open_refund(self) -> None:
        """Shift+F4: from the bill — the member on screen's recent bills, or one by number."""
        uow, clerk, card = self.w.uow, self.w.clerk, self.w.current_card()

        def quote(**kw: Any) -> tuple[Any, Any]:
            if kw.get("lines"):
                return quote_lines(uow, clerk, **kw)
            q = quote_refund(uow, clerk, **kw)
            return q, refund_preview(uow, clerk, bill_no=q.bill_no, refund_fen=q.refund_fen)

        def refund(**kw: Any) -> Any:
            if kw.get("lines"):
                return refund_lines_with_pin(uow, clerk, **kw)
            return refund_bill_with_pin(uow, clerk, **kw)

        dialog = RefundDialog(
            ops=self.w.ops, quote=quote, refund=refund,
            lines=lambda bill: bill_lines(uow, clerk, bill_no=bill),
            bills=(lambda: purchases(uow, clerk=clerk, member_id=card.id))
            if card is not None and card.hq is None and not card.remote else None,
            zone=uow.clock.zone, parent=self.w.window())
        dialog.refunded.connect(lambda r: self.w.notify_changed(r.changes))
        self.w.open_dialog(dialog)

    def open_ledger(self) -> None:
        card = self.w.current_card()
        if card is None:
            return
        uow, clerk = self.w.uow, self.w.clerk
        self.w.open_dialog(LedgerDialog(
            ops=self.w.ops, card=card,
            load=lambda: points.ledger(uow, clerk=clerk, member_id=card.id),
            zone=uow.clock.zone, parent=self.w.window()))

    def open_adjust(self) -> None:
        card = self.w.current_card()
        if card is None:
            return
        uow, clerk = self.w.uow, self.w.clerk

        def adjust(**kw: Any) -> points.PointsOpResult:
            # The core checks the adjustment before the manager's PIN: a refused one writes
            # nothing, not even the manager's login.
            return points.adjust_points_with_pin(uow, clerk=clerk, member_id=card.id, **kw)

        dialog = AdjustDialog(ops=self.w.ops, card=card, adjust=adjust,
                              load=lambda: points.points_summary(uow, member_id=card.id),
                              parent=self.w.window())
        dialog.adjusted.connect(self._adjusted)
        self.w.open_dialog(dialog)

    def _adjusted(self, result: points.PointsOpResult) -> None:
        self.w.notify_changed(result.changes)
        self.w.show_info(translate("TillWindow", "Points adjusted by %1; balance %2.").replace(
            "%1", f"{result.points:+d}").replace("%2", str(result.balance)))

    def open_gifts(self) -> None:
        """Ctrl+G: gifts and coupons of the catalogue for the member on screen's points."""
        card = self.w.current_card()
        if card is None:
            return
        uow, clerk = self.w.uow, self.w.clerk
        dialog = GiftDialog(
            ops=self.w.ops, card=card, catalogue=uow.rules.points.catalogue,
            load=lambda: points.points_summary(uow, member_id=card.id),
            exchange=lambda **kw: points.redeem_for_item(uow, clerk=clerk, member_id=card.id,
                                                         **kw),
            parent=self.w.window())
        dialog.exchanged.connect(lambda r: self.w.notify_changed(r.changes))
        self.w.open_dialog(dialog)

    # -- the expiry job and the tier evaluation: at start, then every hour ----------------------
    def start_jobs(self) -> None:
        """Runs the points expiry (catching up after days off, idempotent; queues the 30/7-day
        reminders), the periodic tier evaluation (once per period) and the coupon triggers
        (birthday, win-back, expiry and its reminder) and the nightly RFM scores (issue 19: the
        first run of each store day) now and then hourly, on
        the window's thread pool, as the till's system clerk."""
        from PySide6.QtCore import QTimer

        self._jobs = QTimer(self.w.window())
        self._jobs.setInterval(60 * 60 * 1000)
        self._jobs.timeout.connect(self.run_jobs)
        self._jobs.start()
        self.run_jobs()

    def run_jobs(self) -> None:
        uow, system = self.w.uow, self.w.identity.system_clerk()

        def jobs() -> tuple[points_expiry.ExpiryRun, tiers.EvaluationRun, int, TriggerRun,
                            rfm.NightlyRun]:
            return (points_expiry.expire_due(uow, clerk=system),
                    tiers.evaluate_tiers(uow, clerk=system),
                    member_service.end_tier_overrides(uow, clerk=system),  # issue 20
                    run_triggers(uow, clerk=system),  # the coupon triggers (issue 18)
                    rfm.nightly(uow, clerk=system))  # once a store day (issue 19)

        self.w.ops.run(jobs, self._jobs_done, lambda e: None)

    def _jobs_done(self, runs: tuple[points_expiry.ExpiryRun, tiers.EvaluationRun, int,
                                     TriggerRun, rfm.NightlyRun]) -> None:
        expired, evaluated, overrides_ended, triggered, _scored = runs
        if expired.lots or evaluated.downgraded or overrides_ended:
            self.w.notify_changed(Changes.of(Area.POINTS))
        if triggered.birthday or triggered.winback or triggered.expired:
            self.w.notify_changed(Changes.of(Area.COUPONS))


def register(host: TillHost) -> None:
    actions = PointsActions(host)
    for action in (
        TillAction("sale", QT_TRANSLATE_NOOP("TillWindow", "F4 Checkout"), actions.open_sale,
                   ("F4",)),
        TillAction("refund", QT_TRANSLATE_NOOP("TillWindow", "Shift+F4 Refund"),
                   actions.open_refund, ("Shift+F4",)),
        TillAction("ledger", QT_TRANSLATE_NOOP("TillWindow", "F7 Points"), actions.open_ledger,
                   ("F7",), needs_card=True),
        TillAction("gifts", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+G Gifts"),
                   actions.open_gifts, ("Ctrl+G",), needs_card=True),
        TillAction("adjust", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+F7 Adjust points"),
                   actions.open_adjust, ("Ctrl+F7",), needs_card=True),
    ):
        host.add_action(action)
    host.on_card_shown(actions.card_shown)
    host.on_coupon(actions.take_coupon)
    host.on_start(actions.start_jobs)  # points expiry and tier evaluation: now, then hourly
