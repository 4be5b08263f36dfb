"""What the recruitment screens say, as plain functions of the core's figures: percentages,
yuan, weekdays, a guide's status (达标, behind, on pace), the alert line under the tiles and the
guide's status-bar line; and the screens' shared style sheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtWidgets import QWidget

from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.services.kpi import Dashboard, GuideDay
from ui.i18n import translate

REFRESH_MS = 60_000
STYLE = """
#kpiTitle { font-size: 16pt; font-weight: 600; }
#kpiSubtitle { font-size: 11pt; color: #52606d; }
#kpiTile { background: white; border: 1px solid #d9e2ec; border-radius: 10px; }
#kpiTileLabel { font-size: 11pt; color: #52606d; }
#kpiTileValue { font-size: 24pt; font-weight: 700; }
#kpiTileValue[state="bad"] { color: #c81e1e; }
#kpiTileValue[state="good"] { color: #0b6e4f; }
#kpiTileNote { font-size: 10pt; color: #7b8794; }
#kpiTileNote[state="bad"] { color: #c81e1e; font-weight: 600; }
#kpiAlert { font-size: 12pt; padding: 8px 12px; border-radius: 8px; }
#kpiAlert[kind="bad"] { background: #fde8e8; color: #9b1c1c; border: 1px solid #f5b5b5; }
#kpiAlert[kind="good"] { background: #e3f9ef; color: #03543f; border: 1px solid #a6e9c7; }
#kpiAlert[kind="info"] { background: #eef2f5; color: #52606d; border: 1px solid #d9e2ec; }
#kpiTable { font-size: 12pt; background: white; }
#kpiStatusLine { color: #52606d; }
QProgressBar { border: 1px solid #d9e2ec; border-radius: 5px; background: #f0f2f4;
               text-align: center; min-height: 18px; font-size: 10pt; }
QProgressBar::chunk { background: #8fd3b6; border-radius: 4px; }
QProgressBar[state="met"]::chunk { background: #0b6e4f; }
QProgressBar[state="behind"]::chunk { background: #f05252; }
#myTarget { font-size: 30pt; font-weight: 700; }
"""


def percent_text(permille: int | None) -> str:
    """Tenths of a percent as ``78.5%`` (``—`` when there is nothing to divide)."""
    if permille is None:
        return "—"
    return f"{permille // 10}.{permille % 10}%"


def yuan_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


WEEKDAYS = (
    QT_TRANSLATE_NOOP("Dashboard", "Mon"),
    QT_TRANSLATE_NOOP("Dashboard", "Tue"),
    QT_TRANSLATE_NOOP("Dashboard", "Wed"),
    QT_TRANSLATE_NOOP("Dashboard", "Thu"),
    QT_TRANSLATE_NOOP("Dashboard", "Fri"),
    QT_TRANSLATE_NOOP("Dashboard", "Sat"),
    QT_TRANSLATE_NOOP("Dashboard", "Sun"),
)


def weekday_text(day: date) -> str:
    return translate("Dashboard", WEEKDAYS[day.weekday()])


@dataclass(frozen=True, slots=True)
class Status:
    text: str
    kind: str  # "met", "behind", "on_pace", "off"


def guide_status(g: GuideDay) -> Status:
    """What the status column says about a guide: 达标, behind (with what is due), on pace."""
    if not g.on_shift:
        return Status(translate("Dashboard", "Not on shift"), "off")
    if g.met:
        return Status(translate("Dashboard", "✔ Met"), "met")
    if g.behind:
        return Status(
            translate("Dashboard", "⚠ Behind: %1 due by now").replace("%1", str(g.expected_now)),
            "behind",
        )
    return Status(translate("Dashboard", "On pace"), "on_pace")


def alert_text(board: Dashboard) -> tuple[str, str]:
    """The one line under the tiles: who is behind, or that everyone is on pace."""
    behind = board.behind
    if behind:
        names = translate("Dashboard", "、").join(
            translate("Dashboard", "%1 %2/%3")
            .replace("%1", g.name)
            .replace("%2", str(g.registrations))
            .replace("%3", str(g.target))
            for g in behind
        )
        return translate("Dashboard", "Behind the pace of this hour: %1").replace(
            "%1", names
        ), "bad"
    if not board.plan.day_target:
        return translate(
            "Dashboard", "No recruitment target for today: set the month's target (Ctrl+T)."
        ), "info"
    if board.on_shift_count and board.met_count == board.on_shift_count:
        return translate("Dashboard", "Every guide on shift has met today's target."), "good"
    return translate("Dashboard", "Every guide on shift is on pace."), "good"


def progress_line(g: GuideDay | None) -> str:
    """The guide's status-bar line: today's target, progress and pace."""
    if g is None:
        return ""
    if not g.on_shift:
        return translate("Dashboard", "Recruited today: %1 (not on shift)").replace(
            "%1", str(g.registrations)
        )
    text = (
        translate("Dashboard", "My target today: %1 / %2")
        .replace("%1", str(g.registrations))
        .replace("%2", str(g.target))
    )
    return f"{text} · {guide_status(g).text}"


def set_state(widget: QWidget, name: str, value: str) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
