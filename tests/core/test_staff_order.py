"""Staff events of two tills of a store, pulled by a third in any order and with repeats, end
in the same staff and the same open alerts: last writer wins per field, and a number both
tills gave out is held by the first claim everywhere (docs/rules.md, "Staff numbers")."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_member.bootstrap import bootstrap
from pos_member.clock import FakeClock
from pos_member.crypto import MemoryKeyStore
from pos_member.services.pulled_events import apply_page
from pos_member.services.staff import hash_secret
from tests.factories import as_changes, make_till, server_event

HASH_1, HASH_2, HASH_3 = (hash_secret(s) for s in ("first-pw", "second-pw", "third-pw"))


def event(store_id: str, device: str, n: int, type: str, payload: dict[str, Any]
          ) -> dict[str, Any]:
    """A staff event of ``device`` (X or Y) of the store, the ``n``-th in time."""
    return {**server_event(type, {**payload, "store_id": store_id},
                           hlc=f"{1767600000000 + n * 1000:015d}-000000"),
            "id": str(uuid.uuid4()), "store_id": store_id, "device_id": device}


def scenario_events(store_id: str, *, renumbered: bool) -> list[dict[str, Any]]:
    e = [
        event(store_id, "X", 1, "staff.created", {"id": "s1", "code": "201", "name": "Early",
                                                 "role": "guide", "secret_hash": HASH_1}),
        event(store_id, "Y", 2, "staff.created", {"id": "s2", "code": "201", "name": "Late",
                                                 "role": "guide", "secret_hash": HASH_2}),
        event(store_id, "Y", 3, "staff.updated", {"staff_id": "s1", "name": "Y-name"}),
        event(store_id, "X", 4, "staff.updated", {"staff_id": "s1", "name": "X-name",
                                                 "role": "cashier"}),
        event(store_id, "Y", 5, "staff.deactivated", {"staff_id": "s2"}),
        event(store_id, "X", 6, "staff.pin_reset", {"staff_id": "s1", "secret_hash": HASH_3}),
        event(store_id, "Y", 7, "staff.reactivated", {"staff_id": "s2"}),
    ]
    if renumbered:
        e.append(event(store_id, "X", 8, "staff.updated", {"staff_id": "s2", "code": "202"}))
    return e


def end_state(pristine: Path, key_id_and_key: tuple[str, str], work: Path,
              pages: list[list[dict[str, Any]]]) -> dict[str, Any]:
    path = work / "c.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(pristine, path)
    keystore = MemoryKeyStore()
    keystore.put(f"data-key:{key_id_and_key[0]}", key_id_and_key[1])
    app = bootstrap(path, keystore=keystore, clock=FakeClock())
    try:
        assert app.identity is not None
        for page in pages:
            apply_page(app.uow, device_id=app.identity.device_id, changes=page,
                       cursor=page[-1]["position"])
    finally:
        app.close()
    con = sqlite3.connect(path)
    try:
        staff = con.execute(
            "SELECT id, code, code_claim, name, role, active, secret_hash, locked_until "
            "FROM staff WHERE id IN ('s1', 's2') ORDER BY id").fetchall()
        flags = sorted(r[0] for r in con.execute(
            "SELECT detail FROM flags WHERE kind = 'staff_number_clash' "
            "AND resolved_at IS NULL"))
    finally:
        con.close()
    return {"staff": staff, "flags": flags}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("staff-order")
    c = make_till(tmp, store_number=1)
    assert c.app.identity is not None
    store_id = c.app.identity.store_id
    con = sqlite3.connect(c.path)
    try:
        (key_id,) = con.execute("SELECT value FROM settings WHERE key='data_key_id'").fetchone()
    finally:
        con.close()
    key = c.keystore.get(f"data-key:{key_id}")
    assert key is not None
    c.app.close()
    return c.path, store_id, (key_id, key)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), renumbered=st.booleans())
def test_any_order_and_repetition_ends_alike(
    pristine: tuple[Path, str, tuple[str, str]], tmp_path: Path, data: st.DataObject,
    renumbered: bool,
) -> None:
    path, store_id, key = pristine
    changes = as_changes(scenario_events(store_id, renumbered=renumbered))
    in_order = [[c] for c in changes]
    shuffled = data.draw(st.permutations(in_order))
    repeats = data.draw(st.lists(st.sampled_from(in_order), max_size=3))
    expected = end_state(path, key, tmp_path, in_order)
    assert end_state(path, key, tmp_path, [*shuffled, *repeats]) == expected


@pytest.mark.parametrize("renumbered", [False, True])
def test_the_scenario_ends_with_the_last_writers_and_the_first_claim(
    pristine: tuple[Path, str, tuple[str, str]], tmp_path: Path, renumbered: bool,
) -> None:
    """Guards the property above: the end state is the one the rules say."""
    path, store_id, key = pristine
    changes = as_changes(scenario_events(store_id, renumbered=renumbered))
    end = end_state(path, key, tmp_path, [[c] for c in reversed(changes)])
    (s1, s2) = end["staff"]
    assert s1[1:2] + s1[3:7] == ("201", "X-name", "cashier", 1, HASH_3)
    assert s2[1] == ("202" if renumbered else "201") and s2[5] == 1  # reactivated last
    assert s1[2] < s2[2] or renumbered  # the first claim holds 201
    assert len(end["flags"]) == (0 if renumbered else 1)
