"""Takes screenshots of every till screen on the demo store, for a person to look at.

    .venv/bin/python scripts/screenshots.py [OUT_DIR] [--lang=en] [--size=1024x768]

Runs offscreen (no display needed) with an in-memory key store and a fresh temporary demo
store of 300 members; writes login.png, till-empty.png, register.png, register-duplicate.png,
card.png, error.png, card-print.png, and the dialogs of points, stored value and the
recruitment dashboard (sale.png, points-ledger.png, gifts.png, topup.png, pay.png,
sv-ledger.png, dashboard.png, alerts.png), and the staff dialog (staff.png, staff-add.png,
staff-pin.png, staff-inactive.png), member service (service.png, service-erase-confirm.png,
service-erase.png: an erasure refused), and what scanning shows (scan-coupon.png, scan-paycode.png,
decode-image.png, scan-serial-lost.png).
``--size``: the till window's size and its screen's (default 1024×768; dialogs open within it;
the smallest screens the stores have are 1024×768 and
1366×768).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from pos_member.bootstrap import bootstrap
from pos_member.crypto import MemoryKeyStore
from pos_member.services.staff import login
from pos_member_app.demo import create_demo_store
from ui.app import TillController, make_qt_app
from ui.printing import paint_card
from ui.register_dialog import RegisterDialog


def _screen(argv: list[str]) -> str:
    """The offscreen platform with one screen of ``--size`` (default 1024×768), so windows
    open at the size a till of that screen gives them (ui/screen_fit.py)."""
    size = next((a.split("=", 1)[1] for a in argv if a.startswith("--size=")), "1024x768")
    width, height = (int(n) for n in size.split("x"))
    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "till", "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}), encoding="utf-8")
    return f"offscreen:configfile={config}"


def settle(ms: int = 150) -> None:
    app = QApplication.instance()
    end = QTimer()
    end.setSingleShot(True)
    end.start(ms)
    while end.isActive():
        app.processEvents()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    lang = "en" if "--lang=en" in sys.argv else "zh_CN"
    out = Path(args[0] if args else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    ks = MemoryKeyStore()
    app = bootstrap(tmp / "till.sqlite", keystore=ks)
    create_demo_store(app, ks, members=300)
    if os.environ["QT_QPA_PLATFORM"] == "offscreen":
        os.environ["QT_QPA_PLATFORM"] = _screen(sys.argv)
    make_qt_app(lang)
    assert app.identity is not None
    controller = TillController(lambda: app, app.identity.store_name, lang)
    controller.show()
    controller.start()
    controller.login.code.setText("1001")
    settle()
    controller.login.grab().save(str(out / "login.png"))

    clerk = login(app.uow, code="8001", secret="802468", device_id=app.identity.device_id)
    controller.open_till(clerk)
    till = controller.till
    assert till is not None
    size = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--size=")), None)
    if size is not None:
        width, height = (int(n) for n in size.split("x"))
        till.resize(width, height)
    settle()
    till.grab().save(str(out / "till-empty.png"))

    dialog = RegisterDialog(ops=till.ops, register=lambda **kw: None,  # type: ignore[arg-type,return-value]
                            clerk=clerk, guides=till.guides(), privacy_version="2026-01",
                            parent=till)
    dialog.phone.setText("139 1234 5678")
    dialog.privacy.setChecked(True)
    dialog.show()
    settle()
    dialog.grab().save(str(out / "register.png"))
    dialog.show_error("该手机号已是会员 00010100000017 的号码。", duplicate_id="x")
    settle()
    dialog.grab().save(str(out / "register-duplicate.png"))
    dialog.close()

    till.lookup("PM1:" + _some_member_no(app))
    settle(400)
    till.grab().save(str(out / "card.png"))
    card = till.card_view.card
    assert card is not None
    till.lookup("hello-not-a-code")
    settle()
    till.grab().save(str(out / "error.png"))
    till.lookup("PM1:" + card.member_no)
    settle(400)
    _give_history(app, clerk, card.id)
    till.lookup("PM1:" + card.member_no)
    settle(400)
    till.grab().save(str(out / "card-history.png"))

    def fill_sale(w: QWidget) -> None:
        w.bill.setText("A-1088")  # type: ignore[attr-defined]
        w.amount.setText("268.00")  # type: ignore[attr-defined]
        settle(800)  # the cap and what the member can spend arrive with the quote
        w.redeem.setText("300")  # type: ignore[attr-defined]
        w.tenders.sv_amount.setText("200.00")  # type: ignore[attr-defined]

    def fill_amount(w: QWidget) -> None:
        w.amount.setText("88.00")  # type: ignore[attr-defined]

    for name, opener, fill in (
            ("sale", till.buttons["sale"].click, fill_sale),
            ("points-ledger", till.buttons["ledger"].click, None),
            ("gifts", till.buttons["gifts"].click, None),
            ("topup", till.buttons["topup"].click, fill_amount),
            ("pay", till.buttons["pay"].click, fill_amount),
            ("sv-ledger", till.buttons["sv_ledger"].click, None),
            ("purchases", till.buttons["purchases"].click, None),
            ("refund", till.buttons["refund"].click, None),
            ("dashboard", till.buttons["dashboard"].click, None),
            ("alerts", till.buttons["alerts"].click, None)):
        _grab_new_window(opener, out / f"{name}.png", fill)
    _grab_staff(till.buttons["staff"].click, out)
    _grab_service(till, out)
    _grab_confirmations(till, out)
    _grab_member_pick(app, clerk, till, out)
    _grab_scans(till, out)
    img = QImage(856 * 2, 540 * 2, QImage.Format.Format_RGB32)
    img.fill(Qt.GlobalColor.white)
    p = QPainter(img)
    paint_card(p, QRectF(img.rect()), card)
    p.end()
    img.save(str(out / "card-print.png"))
    controller.logout()  # the till window closes: its features' threads and the sync one end
    controller.close()  # before Python tears the objects down (a running QThread aborts it)
    print(f"screenshots in {out}/")


def _grab_new_window(opener: Callable[[], None], path: Path,
                     fill: Callable[[QWidget], None] | None = None) -> None:
    """Opens a dialog the way its key does, types into it what a cashier would (``fill``),
    grabs it once it has loaded, closes it."""
    before = set(QApplication.topLevelWidgets())
    opener()
    settle(800)
    new = [w for w in QApplication.topLevelWidgets() if w not in before and w.isVisible()]
    if not new:
        print(f"nothing opened for {path.name}")
        return
    if fill is not None:
        fill(new[-1])
        settle(800)
    new[-1].grab().save(str(path))
    new[-1].close()
    settle()


def _grab_staff(opener: Callable[[], None], out: Path) -> None:
    """The staff dialog (staff.png), its new-colleague form refusing a weak PIN
    (staff-add.png) and its new-PIN form (staff-pin.png)."""
    before = set(QApplication.topLevelWidgets())
    opener()
    settle(800)
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if w not in before and w.isVisible())
    dialog.grab().save(str(out / "staff.png"))
    dialog.add()  # type: ignore[attr-defined]
    settle()
    form = dialog.form  # type: ignore[attr-defined]
    form.code.setText("8002")
    form.name.setText("吴收银")
    form.pin.setText("123456")
    form.pin2.setText("123456")
    form.submit()
    settle(800)
    form.grab().save(str(out / "staff-add.png"))
    form.reject()
    settle()
    dialog.table.selectRow(3)  # type: ignore[attr-defined]
    dialog.new_pin()  # type: ignore[attr-defined]
    settle()
    dialog.form.grab().save(str(out / "staff-pin.png"))  # type: ignore[attr-defined]
    dialog.form.reject()  # type: ignore[attr-defined]
    settle()
    dialog.table.selectRow(6)  # type: ignore[attr-defined]
    dialog.toggle_active()  # type: ignore[attr-defined]
    settle(800)
    dialog.grab().save(str(out / "staff-inactive.png"))
    dialog.close()
    settle()


def _grab_service(till, out: Path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+M's member service (service.png), and its erasure confirmed and refused, the
    member still holding stored value (service-erase.png)."""
    till.buttons["service"].click()
    settle(800)
    dialog = till.dialog
    if dialog is None:
        print("nothing opened for service.png")
        return
    dialog.grab().save(str(out / "service.png"))
    dialog.tabs.setCurrentIndex(4)
    dialog.submit()
    settle()
    dialog.confirming.grab().save(str(out / "service-erase-confirm.png"))
    dialog.confirming._confirm()  # Ctrl+Enter
    settle(800)
    dialog.grab().save(str(out / "service-erase.png"))
    dialog.reject()
    settle()


def _grab_scans(till, out: Path) -> None:  # type: ignore[no-untyped-def]
    """What the scan routing shows: a coupon code told it is not supported yet
    (scan-coupon.png), the pay dialog opened by a scanned dynamic code (scan-paycode.png), the
    picture chooser of Ctrl+O (decode-image.png), an unplugged serial scanner
    (scan-serial-lost.png)."""
    till.scan_code("CP1:W7X2-99QK")
    settle()
    till.grab().save(str(out / "scan-coupon.png"))
    _grab_new_window(lambda: till.scan_code("246810"), out / "scan-paycode.png",
                     lambda w: w.amount.setText("88.00"))  # type: ignore[attr-defined]
    _grab_new_window(till.buttons["decode_image"].click, out / "decode-image.png")
    from pos_member.errors import ScannerUnavailable

    till.show_error(ScannerUnavailable())  # what an unplugged serial scanner says, once
    settle()
    till.grab().save(str(out / "scan-serial-lost.png"))


def _grab_confirmations(till, out: Path) -> None:  # type: ignore[no-untyped-def]
    """The figures a money action asks to confirm (ui/confirm.py): a sale's refund
    (confirm-refund.png), a stored-value payment's refund (confirm-sv-refund.png), a gift
    exchange (confirm-gift.png)."""

    def refund(d: QWidget) -> None:
        d.bill.setText("A-103")  # type: ignore[attr-defined]
        d.amount.setText("228.00")  # type: ignore[attr-defined]
        d.submit()  # type: ignore[attr-defined]

    def sv_refund(d: QWidget) -> None:
        d.table.selectRow(0)  # type: ignore[attr-defined]
        d.refund()  # type: ignore[attr-defined]

    for name, key, start in (("confirm-refund", "refund", refund),
                             ("confirm-sv-refund", "sv_ledger", sv_refund),
                             ("confirm-gift", "gifts", lambda d: d.submit())):  # type: ignore[attr-defined]
        till.buttons[key].click()
        settle(800)
        dialog = till.dialog
        if dialog is None:
            print(f"nothing opened for {name}")
            continue
        start(dialog)
        settle(800)
        asking = getattr(dialog, "confirming", None)
        if asking is None:
            print(f"no confirmation for {name}")
        else:
            asking.grab().save(str(out / f"{name}.png"))
            asking.reject()
        dialog.reject()
        settle()


def _grab_member_pick(app, clerk, till, out: Path) -> None:  # type: ignore[no-untyped-def]
    """The list a search with several matches opens (member-search.png): six members of the
    demo store, as a search shows them."""
    from sqlalchemy import select

    from pos_member.db.models import Member
    from pos_member.services.member_cards import get_member
    from ui.member_search import MemberPickDialog

    with app.uow.read() as s:
        ids = s.scalars(select(Member.id).where(Member.name_enc.is_not(None)).limit(6)).all()
    cards = [get_member(app.uow, clerk=clerk, member_id=i) for i in ids]
    _grab_new_window(lambda: till.open_dialog(MemberPickDialog("5678", cards, parent=till)),
                     out / "member-search.png")


def _give_history(app, clerk, member_id: str) -> None:  # type: ignore[no-untyped-def]
    """A few sales, a refund and stored-value movements, so the ledgers have lines to show."""
    from pos_member.services import member_auth, sales
    from pos_member.services import stored_value as sv
    from pos_member.services.sale_refunds import refund_sale

    for i, fen in enumerate((128_00, 356_50, 89_90)):
        sales.record_sale(app.uow, clerk, txn_id=f"shot-sale-{i}", bill_no=f"A-10{i}",
                          amount_fen=fen, member_id=member_id,
                          redeem_points=100 if i == 2 else 0)
    refund_sale(app.uow, clerk, approver=clerk, txn_id="shot-refund", bill_no="A-101",
                      amount_fen=50_00)
    sv.top_up(app.uow, clerk=clerk, member_id=member_id, amount_fen=500_00, method="card",
              txn_id="shot-topup")
    member_auth.set_member_pin(app.uow, clerk=clerk, approver=clerk, member_id=member_id,
                               pin="731946")
    sv.pay(app.uow, clerk=clerk, member_id=member_id, amount_fen=66_00, txn_id="shot-pay",
           factor=sv.PinFactor("731946"), online=True)
    from pos_member.services.checkout import Tender, checkout

    checkout(app.uow, clerk, txn_id="shot-checkout", bill_no="A-103", amount_fen=268_00,
             member_id=member_id, tenders=(Tender("stored_value", 200_00),
                                           Tender("card", 68_00)),
             factor=sv.PinFactor("731946"), online=True)


def _some_member_no(app) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from pos_member.db.models import Member

    with app.uow.read() as s:
        return s.scalar(select(Member.member_no).where(Member.name_enc.is_not(None)).limit(1))


if __name__ == "__main__":
    main()
