"""HQ's view of its tills: the devices with their last push, acknowledged and held events and
state; flags filtered and resolved with a note; the health answer a load balancer asks for."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert

from sync.protocol import API
from sync.server import fleet, services
from sync.server.app import create_app
from sync.server.cli import main
from sync.server.errors import BadRequest, FlagNotFound, StoreNotFound
from sync.server.models import Flag
from tests.server.factories import LiveServer
from tests.server.live import serve


def _raise(server: LiveServer, kind: str, store_id: str | None) -> int:
    with server.ctx.db.write() as conn:
        return conn.execute(insert(Flag).values(
            kind=kind, store_id=store_id, detail={"n": 1}, raised_at=server.clock.now(),
            resolved_at=None).returning(Flag.id)).scalar_one()


def test_devices_show_their_last_push_acknowledged_held_and_state(server: LiveServer) -> None:
    one = server.enrol(41, "前台")
    two = server.enrol(41, "后台")
    other = server.enrol(42, "一号")
    one.push(one.events(3))
    server.clock.advance(minutes=5)
    one.push([one.event(seq=5)])  # 4 is missing: 5 is held
    services.revoke_device(server.ctx, device_id=two.id)

    devices = fleet.list_devices(server.ctx, store_number=41)

    assert [(d.number, d.name, d.state, d.acked_through, d.held) for d in devices] == [
        (1, "前台", "active", 3, 1), (2, "后台", "revoked", 0, 0)]
    assert devices[0].last_push_at is not None and devices[1].last_push_at is None
    assert {d.id for d in fleet.list_devices(server.ctx)} >= {one.id, two.id, other.id}
    with pytest.raises(StoreNotFound):
        fleet.list_devices(server.ctx, store_number=99)


def test_flags_are_filtered_and_resolved_once_with_a_note_and_who(server: LiveServer) -> None:
    server.store(43)
    store_id = server.stores[43]
    fork = _raise(server, "fork", store_id)
    _raise(server, "clock_ahead", None)
    overdraw = _raise(server, "overdraw", store_id)

    assert [f.id for f in services.list_flags(server.ctx, kind="fork")] == [fork]
    assert {f.id for f in services.list_flags(server.ctx, store_number=43)} == {fork, overdraw}
    assert services.list_flags(server.ctx, since=date(2999, 1, 1)) == []

    done = fleet.resolve_flag(server.ctx, flag_id=fork, note="  till re-imaged, checked  ",
                              by="hq-ops")
    assert done.resolved_at is not None
    assert done.detail["resolution"]["note"] == "till re-imaged, checked"
    assert done.detail["resolution"]["by"] == "hq-ops" and done.detail["n"] == 1
    assert fork not in {f.id for f in services.list_flags(server.ctx, open_only=True)}
    for bad, error in ((dict(flag_id=fork, note="again"), BadRequest),
                       (dict(flag_id=overdraw, note="x"), BadRequest),
                       (dict(flag_id=10**9, note="x"), FlagNotFound),
                       (dict(flag_id=fork, note="   "), BadRequest)):
        with pytest.raises(error):
            fleet.resolve_flag(server.ctx, **bad)  # type: ignore[arg-type]
    (still,) = [f for f in services.list_flags(server.ctx) if f.id == overdraw]
    assert still.resolved_at is None


def test_the_command_line_lists_devices_and_resolves_a_flag(
        server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    till = server.enrol(44, "收银一")
    flag = _raise(server, "fork", server.stores[44])
    db = ["--database", server.url]
    assert main([*db, "list-devices", "--store", "44"]) == 0
    out = capsys.readouterr().out
    assert f"44\t1\t收银一\tactive\tnever\t0\t0\t{till.id}" in out
    assert main([*db, "list-flags", "--open", "--kind", "fork", "--store", "44"]) == 0
    assert out_has_flag(capsys.readouterr().out, flag)
    assert main([*db, "resolve-flag", str(flag), "--note", "checked the till"]) == 0
    assert f"flag {flag} (fork) resolved" in capsys.readouterr().out
    assert main([*db, "resolve-flag", str(flag), "--note", "again"]) == 1
    assert "resolved before" in capsys.readouterr().err
    for argv in (["list-devices", "--store", "x"], ["list-flags", "--since", "12/4"],
                 ["resolve-flag", "0", "--note", "n"], ["resolve-flag", "1"],
                 ["list-devices", "--store", str(2**40)]):
        with pytest.raises(SystemExit) as exit_:
            main([*db, *argv])
        assert exit_.value.code == 2


def out_has_flag(out: str, flag: int) -> bool:
    lines = [line.split("\t") for line in out.splitlines()]
    return any(cols[0] == str(flag) and cols[2] == "fork" and json.loads(cols[5]) == {"n": 1}
               for cols in lines)


def test_health_answers_ok_without_a_token(server: LiveServer) -> None:
    answer = server.http.get(f"{API}/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["schema_version"] == fleet.SCHEMA_HEAD


def test_health_is_503_on_a_database_not_at_the_servers_schema(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        answer = http.get(f"{API}/health")
    assert answer.status_code == 503
    assert answer.json()["code"] == "schema_not_current"
