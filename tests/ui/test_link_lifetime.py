"""The POS link runs while the till runs, not only while a cashier's window is open (issue 16):
the register reports sales at the login screen between cashiers; a window lends the link its
pay desk while open; quitting the till application stops it. ``pos-member api`` serves the
same link with no window at all (pos_member_app/headless.py)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from integration_api.service import LinkService
from pos_member.config import Integration as IntegrationConfig
from pos_member.integration.tokens import issue_token
from pos_member_app.cli import build_parser
from pos_member_app.headless import serve_api
from tests.factories import Till
from tests.integration_api.conftest import sale_body
from tests.ui.test_till_integration import free_port, member_with_balance
from ui import till_integration
from ui.app import TillController

pytestmark = pytest.mark.usefixtures("cheap_hash")


def _token(till: Till) -> str:
    ident = till.app.identity
    assert ident is not None
    token, _ = issue_token(till.keystore, device_id=ident.device_id, now=till.clock.now())
    return token


def _post(port: int, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}{path}", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _refused(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
    except httpx.ConnectError:
        return True
    return False


def test_the_link_serves_between_cashiers_and_stops_when_the_till_quits(
        qtbot: QtBot, till: Till) -> None:
    till.app.integration = IntegrationConfig(port=free_port())
    token = _token(till)  # issued before the till starts: the link reads it from the keyring
    c = TillController(lambda: till.app, "门店1", "zh_CN", keystore=lambda: till.keystore)
    qtbot.addWidget(c.login)
    c.start()
    qtbot.waitUntil(lambda: c.app is not None and c.app.link is not None
                    and c.app.link.started.is_set())
    link: LinkService = c.app.link  # type: ignore[union-attr]
    assert link.port is not None, link.problem
    port = link.port
    member_no = member_with_balance(till)
    try:
        # Only the login window is open: sales are still taken, a payment is refused.
        r = _post(port, token, "/v1/sales", sale_body("POS-1", "B-1", member=member_no))
        assert r.status_code == 200, r.text
        paying = {"txn_id": "POS-P1", "bill_no": "B-2", "member": member_no,
                  "amount_fen": 1_000}
        r = _post(port, token, "/v1/payments", paying)
        assert (r.status_code, r.json()["error"]) == (409, "payment_not_possible")
        c.open_till(till.cashier)  # the window lends its pay desk and shares the one link
        assert c.till is not None and till_integration.of(c.till).port == port
        assert link._ctx.payments is till_integration.of(c.till).desk  # type: ignore[union-attr]
        c.logout()
        assert link._ctx.payments is None  # type: ignore[union-attr]
        r = _post(port, token, "/v1/sales", sale_body("POS-2", "B-3", member=member_no))
        assert r.status_code == 200, r.text
    finally:
        c.close()
    assert c.app.link is None and _refused(port)


def test_pos_member_api_serves_headless_until_stopped(till: Till) -> None:
    assert build_parser().parse_args(["api"]).command == "api"
    till.app.integration = IntegrationConfig(port=free_port())
    token = _token(till)
    stop, ready = threading.Event(), threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(serve_api(
        till.app, keystore=lambda: till.keystore, stop=stop, ready=lambda _: ready.set())))
    thread.start()
    try:
        assert ready.wait(30)
        port = till.app.link.port
        r = _post(port, token, "/v1/sales", sale_body("POS-1", "B-1"))
        assert r.status_code == 200, r.text
        assert _post(port, "pmt_wrong", "/v1/sales", sale_body("POS-2", "B-2")).status_code \
            == 401
    finally:
        stop.set()
        thread.join(30)
    assert codes == [0] and _refused(port)


def test_pos_member_api_says_when_the_link_is_off(till: Till) -> None:
    till.app.integration = IntegrationConfig(port=0, folder=None)
    assert serve_api(till.app, keystore=lambda: till.keystore, stop=threading.Event()) == 2
