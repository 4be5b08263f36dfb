"""The sample POS of docs/examples/ against a real till: a day of member and walk-in sales
through the API and through the watched folder; the manager's dashboard (the same service the
till's F11 shows) then has the 会销比 and the guide's figures of what was sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from integration_api.app import create_app
from integration_api.folder import FolderWatcher
from integration_api.server import ApiServer
from pos_member.integration.reports import pos_clerk
from pos_member.services import kpi
from tests.factories import Till
from tests.integration_api.conftest import GUIDE_CODE, make_api

SAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "sample_pos.py"


def test_the_sample_pos_reports_a_day_and_the_dashboard_shows_what_it_sent(
        till: Till, tmp_path: Path) -> None:
    members = [till.register().member_no for _ in range(4)]
    ctx, token = make_api(till)
    server = ApiServer(create_app(ctx), port=0)
    port = server.start()
    inbox = tmp_path / "drop"
    watcher = FolderWatcher(inbox, uow=till.uow, clerk=pos_clerk(
        store_id=till.cashier.store_id, device_id=till.cashier.device_id), interval=0.05)
    watcher.start()
    try:
        run = subprocess.run(
            [sys.executable, str(SAMPLE), "--url", f"http://127.0.0.1:{port}", "--token", token,
             "--folder", str(inbox), "--members", ",".join(members), "--guides", GUIDE_CODE,
             "--sales", "30", "--day", "2026-12-04"],
            capture_output=True, text=True, timeout=300)
    finally:
        watcher.stop()
        server.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    sent = json.loads(run.stdout.strip().splitlines()[-1])["sent"]
    assert sent["sales"] == 30 and 0 < sent["member_sales"] < 30
    board = kpi.dashboard(till.uow, clerk=till.manager)
    assert board.sales.sales == sent["sales"]
    assert board.sales.member_sales == sent["member_sales"]
    assert board.sales.ratio_permille == kpi.permille(sent["member_sales"], sent["sales"])
    assert board.sales.amount_fen == sent["amount_fen"]
    [guide] = [g for g in board.guides if g.code == GUIDE_CODE]
    assert (guide.sales.sales, guide.sales.member_sales, guide.sales.amount_fen) == (
        sent["guides"][GUIDE_CODE]["sales"], sent["guides"][GUIDE_CODE]["member_sales"],
        sent["guides"][GUIDE_CODE]["amount_fen"])
    assert len(list((inbox / "done").iterdir())) == 15 and not (inbox / "rejected").exists()
