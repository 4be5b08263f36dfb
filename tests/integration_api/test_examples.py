"""The sample files of docs/examples/ are what the docs say: the till applies each one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from integration_api.folder import FolderWatcher
from pos_member.integration.reports import pos_clerk
from tests.factories import Till
from tests.integration_api.conftest import Api

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def demo_guide(till: Till) -> None:
    """The examples name guide 2001, the demo store's first guide (README's walk-through), so
    that an integrator trying them on `make demo`'s till has them taken."""
    from pos_member.permissions import Role
    from pos_member.services.staff import create_staff

    create_staff(till.uow, clerk=till.manager, code="2001", name="王芳", role=Role.GUIDE,
                 secret="246801")


def test_the_sample_files_apply_sale_then_refund(till: Till, tmp_path: Path) -> None:
    demo_guide(till)
    inbox = tmp_path / "drop"
    inbox.mkdir()
    watcher = FolderWatcher(inbox, uow=till.uow, clerk=pos_clerk(
        store_id=till.cashier.store_id, device_id=till.cashier.device_id))
    for n, name in enumerate(("sale.json", "refund.json", "sale.csv", "refund.csv")):
        shutil.copy(EXAMPLES / name, inbox / f"{n}-{name}")
    outcomes = watcher.scan_once()
    assert [(o.applied, o.reason) for o in outcomes] == [(True, None)] * 4
    assert till.table_counts()["pos_refunds"] == 2


def test_the_curl_example_body_is_a_sale_the_api_takes(api: Api) -> None:
    demo_guide(api.till)
    body = json.loads((EXAMPLES / "sale-body.json").read_text(encoding="utf-8"))
    r = api.post("/v1/sales", body)
    assert r.status_code == 200, r.text
