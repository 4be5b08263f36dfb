"""The till's member-insight features (issue 19): the member card's line of tags, lifecycle
and suggested action, and Shift+F11, the programme-health report for the store manager (the
recruitment dashboard's permission)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pos_member.changes import Area, Changes
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action
from pos_member.services.insight import HealthReport, programme_health
from pos_member.services.insight_report import write_health_workbook
from pos_member.services.kpi_report import SavedReport
from pos_member.services.member_actions import ActionDone
from pos_member.services.member_actions import do_suggested as do_suggested_for
from pos_member.services.member_cards import MemberCard
from pos_member.services.member_insight import CATEGORY, STAGES, MemberInsight, member_insight
from pos_member.services.recall import (
    RecallEntry,
    recall_list,
    write_recall_workbook,
)
from pos_member.services.recall_campaigns import (
    CampaignResult,
    RecallIssue,
    campaign_results,
    issue_recall_coupons,
)
from pos_member.services.recall_messages import RecallMessage, send_recall_message
from pos_member.services.rfm import SEGMENTS
from ui.health_dialog import CONTEXT, HealthDialog
from ui.host import TillAction, TillHost, permitted
from ui.i18n import translate
from ui.recall_dialog import RecallDialog
from ui.till_coupons import template_text


def report_path(host: TillHost, report: HealthReport) -> Path:
    return (host.app.db.path.parent / "reports"
            / f"programme-health-{report.start.isoformat()}-{report.end.isoformat()}.xlsx")


def open_health(host: TillHost) -> None:
    """Shift+F11: the store's programme health, this month so far to start with."""
    clerk, uow = host.clerk, host.uow
    if not permitted(host, Action.VIEW_KPI):
        return
    store_id = host.identity.store_id
    stores = {store_id: host.identity.store_name}
    tiers = {level.code: level.name for level in uow.rules.tiers.levels}

    def load(start: date, end: date) -> HealthReport:
        return programme_health(uow, clerk=clerk, start=start, end=end, store_id=store_id)

    def export(report: HealthReport) -> SavedReport:
        return write_health_workbook(report, report_path(host, report), stores=stores,
                                     tiers=tiers, tr=lambda s: translate(CONTEXT, s))

    host.open_dialog(HealthDialog(ops=host.ops, load=load, export=export,
                                  today=uow.clock.today(), stores=stores, tiers=tiers,
                                  parent=host.window()))


def open_recall(host: TillHost) -> None:
    """Ctrl+Shift+F11: the store's recall list (召回名单), its coupon campaigns and 召回率."""
    clerk, uow = host.clerk, host.uow
    if not permitted(host, Action.VIEW_KPI):
        return
    tiers = {level.code: level.name for level in uow.rules.tiers.levels}
    path = host.app.db.path.parent / "reports" / f"recall-{uow.clock.today().isoformat()}.xlsx"
    zone = uow.clock.zone

    def export(entries: list[RecallEntry], campaigns: list[CampaignResult]) -> SavedReport:
        return write_recall_workbook(entries, path, tiers=tiers, tr_in=translate,
                                     campaigns=campaigns, zone=zone)

    def issue(campaign: str, member_ids: list[str], template: str) -> RecallIssue:
        return issue_recall_coupons(uow, clerk=clerk, campaign=campaign, member_ids=member_ids,
                                    template_code=template)

    def message(campaign: str, member_ids: list[str], kind: str) -> RecallMessage:
        return send_recall_message(uow, clerk=clerk, campaign=campaign, member_ids=member_ids,
                                   kind=kind)

    may_issue = clerk.may(Action.ISSUE_COUPON)
    dialog = RecallDialog(
        ops=host.ops, load=lambda order: recall_list(uow, clerk=clerk, order=order),
        export=export, tiers=tiers, templates=uow.rules.coupons.templates,
        describe=template_text, issue=issue if may_issue else None, message=message,
        load_campaigns=lambda: campaign_results(uow, clerk=clerk), zone=zone,
        default_template=uow.rules.coupons.winback_template,
        parent=host.window())
    dialog.issued.connect(lambda _r: host.notify_changed(Changes.of(Area.COUPONS)))
    host.open_dialog(dialog)


def insight_text(r: MemberInsight) -> str:
    """One line for the card: 活跃 · 高频客户 · 品类偏好 鞋 · 重要价值客户 R5F4M4 · 流失预警 ·
    建议：提醒积分余额."""
    parts = [translate("member_insight", STAGES[r.stage])]
    for tag in r.tags:
        text = translate("member_insight", tag)
        parts.append(f"{text} {r.favourite_category}" if tag == CATEGORY else text)
    if r.rfm.segment is not None:
        parts.append(f"{translate('rfm', SEGMENTS[r.rfm.segment])} "
                     f"R{r.rfm.r}F{r.rfm.f}M{r.rfm.m}")
    if r.churn_warning:
        parts.append(translate("member_insight", "流失预警"))
    if r.action is not None:
        parts.append(translate("TillWindow", "Suggested (Ctrl+J): %1").replace(
            "%1", translate("member_insight", r.action)))
    return " · ".join(parts)


def card_shown(host: TillHost, card: MemberCard) -> None:
    """Fills the card's insight line off the GUI thread (this store's members only: another
    store's purchases are not on this till)."""
    if card.hq is not None or card.remote:
        host.card_view.set_insight("")
        return
    uow, clerk = host.uow, host.clerk

    def show(r: MemberInsight) -> None:
        shown = host.current_card()
        if shown is not None and shown.id == card.id:
            host.card_view.set_insight(insight_text(r))

    host.ops.run(lambda: member_insight(uow, clerk=clerk, member_id=card.id), show,
                 lambda _e: None)


def do_suggested(host: TillHost) -> None:
    """Ctrl+J: the card's suggested action for the member on screen (the win-back coupon, or
    the message), off the GUI thread; what happened on the status line."""
    card = host.current_card()
    if card is None or card.hq is not None or card.remote:
        return
    uow, clerk = host.uow, host.clerk

    def done(r: ActionDone) -> None:
        what = translate("member_insight", r.action)
        host.show_info(translate("TillWindow", "Done: %1").replace("%1", what) if r.done
                       else translate("TillWindow", "Not again: %1 (done already, or the "
                                                    "member takes no marketing)")
                       .replace("%1", what))
        if r.coupon is not None:
            host.notify_changed(r.coupon.changes)

    host.ops.run(lambda: do_suggested_for(uow, clerk=clerk, member_id=card.id), done,
                 host.show_error)


def register(host: TillHost) -> None:
    """Shift+F11 for a manager; the key only (the back-office row has no room for a button)."""
    host.add_action(TillAction(
        "health", QT_TRANSLATE_NOOP("TillWindow", "Shift+F11 Programme health"),
        lambda: open_health(host), ("Shift+F11",), visible=host.clerk.may(Action.VIEW_KPI),
        button=False))
    host.add_action(TillAction(
        "recall", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+Shift+F11 Recall list"),
        lambda: open_recall(host), ("Ctrl+Shift+F11",),
        visible=host.clerk.may(Action.VIEW_KPI), button=False))
    host.add_action(TillAction(
        "suggested", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+J Do the suggested action"),
        lambda: do_suggested(host), ("Ctrl+J",), needs_card=True, button=False))
    host.on_card_shown(lambda card: card_shown(host, card))
