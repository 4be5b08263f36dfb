"""Enrolment: a one-time code from HQ buys one device token (and the chain's data key)."""

from __future__ import annotations

import base64
import uuid

import httpx

from sync.protocol import API, ErrorBody
from sync.server import services
from tests.server.factories import LiveServer


def _enrol(server: LiveServer, code: str, name: str = "till"):  # type: ignore[no-untyped-def]
    return server.http.post(f"{API}/enrol", json={"code": code, "device_name": name})


def test_enrol_with_a_code_returns_a_working_token_and_the_data_key(server: LiveServer) -> None:
    store = server.store()
    response = _enrol(server, server.code(store))
    assert response.status_code == 200
    body = response.json()
    assert body["store_number"] == store
    assert body["device_number"] == 1
    assert len(base64.b64decode(body["data_key"])) == 64
    pulled = server.http.get(f"{API}/pull", headers={"Authorization": f"Bearer {body['token']}"})
    assert pulled.status_code == 200


def test_code_is_typed_case_and_dash_insensitive(server: LiveServer) -> None:
    code = server.code()
    response = _enrol(server, f"{code[:5].lower()}-{code[5:]}")
    assert response.status_code == 200


def test_a_code_enrols_only_once(server: LiveServer) -> None:
    code = server.code()
    assert _enrol(server, code).status_code == 200
    before = server.table_counts()
    second = _enrol(server, code, "another till")
    assert second.status_code == 403
    assert ErrorBody.model_validate(second.json()).code == "enrolment_refused"
    assert server.table_counts() == before


def test_an_expired_code_is_refused(server: LiveServer) -> None:
    code = server.code()
    server.clock.advance(hours=24)
    response = _enrol(server, code)
    assert response.status_code == 403
    assert server.table_counts()["devices"] == 0


def test_an_hq_clock_jumping_back_does_not_bring_an_expired_code_back(
        server: LiveServer) -> None:
    """The code was issued in what is now HQ's future: refused (docs/rules.md, "Enrolment
    codes"); so is one that expired before the newest code HQ issued, whatever the clock
    says after."""
    code = server.code()
    server.clock.advance(hours=25)  # expired
    server.clock.advance(days=-2)  # HQ's clock set back: before the code was issued
    refused = _enrol(server, code)
    assert refused.status_code == 403
    assert ErrorBody.model_validate(refused.json()).code == "enrolment_refused"
    server.clock.advance(days=2)
    old = server.code()
    server.clock.advance(hours=25)
    server.code()  # a later code: HQ has been at this time
    server.clock.advance(hours=-2)  # set back within the old code's day: still expired
    before = server.table_counts()
    assert _enrol(server, old).status_code == 403
    assert server.table_counts() == before


def test_an_unknown_code_is_refused(server: LiveServer) -> None:
    server.code()
    response = _enrol(server, "ABCDEFGHJK")
    assert response.status_code == 403
    assert ErrorBody.model_validate(response.json()).code == "enrolment_refused"


def test_devices_of_a_store_are_numbered_in_enrolment_order(server: LiveServer) -> None:
    store = server.store()
    numbers = [server.enrol(store).enrolment.device_number for _ in range(3)]
    other = server.enrol().enrolment.device_number
    assert numbers == [1, 2, 3]
    assert other == 1


def test_every_device_gets_the_same_chain_data_key(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    assert a.enrolment.data_key == b.enrolment.data_key


def test_only_the_hash_of_code_and_token_is_stored(server: LiveServer) -> None:
    device = server.enrol()
    with server.ctx.db.read() as conn:
        dump = repr(conn.exec_driver_sql("SELECT * FROM devices").all())
    assert device.enrolment.token not in dump


def test_a_revoked_device_is_refused(server: LiveServer) -> None:
    device = server.enrol()
    services.revoke_device(server.ctx, device_id=device.id)
    response = device.push_raw(device.events(1))
    assert response.status_code == 401
    assert server.table_counts()["events"] == 0


def test_a_spent_code_is_answered_again_only_for_its_request_while_the_device_is_unused(
        server: LiveServer) -> None:
    """The till's request id (docs/sync.md, "Enrolment and tokens"): the same code and id
    again give the same device and a fresh token, the earlier one dead; once the device has
    pushed, or after the code's 24 hours, the spent code is refused like any other."""
    from sync.protocol import EnrolResponse
    from tests.server.factories import Device

    def enrol(code: str, request_id: str | None) -> httpx.Response:
        return server.http.post(f"{API}/enrol", json={
            "code": code, "device_name": "till", "request_id": request_id})

    code, request_id = server.code(), str(uuid.uuid4())
    first = enrol(code, request_id).json()
    again = enrol(code, request_id)
    assert again.status_code == 200, again.text
    till = Device(server=server, enrolment=EnrolResponse.model_validate_json(again.content))
    assert (till.id, till.enrolment.device_number) == (first["device_id"], 1)
    assert till.enrolment.token != first["token"]
    dead = server.http.get(f"{API}/pull", headers={"Authorization": f"Bearer {first['token']}"})
    assert dead.status_code == 401
    before = server.table_counts()
    for other in (None, str(uuid.uuid4())):
        assert enrol(code, other).status_code == 403
    till.push([till.event()])
    assert enrol(code, request_id).status_code == 403  # used: the answer was not lost
    assert server.table_counts()["devices"] == before["devices"] == 1
    late_code, late_id = server.code(), str(uuid.uuid4())
    assert enrol(late_code, late_id).status_code == 200
    server.clock.advance(hours=24)
    assert enrol(late_code, late_id).status_code == 403  # past the code's validity
