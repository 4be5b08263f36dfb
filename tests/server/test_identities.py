"""A till's identity handed on: ``/v1/reidentify`` (a forked till, proven by its old token),
``/v1/adopt`` (the new device takes over its predecessor's unsent events) and HQ's
``reinstate-device``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sync.protocol import API, AdoptResponse, EnrolResponse, ErrorBody
from sync.server import services
from sync.server.errors import Conflict
from sync.server.identities import reinstate_device
from tests.server.factories import Device, LiveServer


def _post(server: LiveServer, path: str, token: str, body: dict[str, Any]) -> Any:
    return server.http.post(f"{API}{path}", json=body,
                            headers={"Authorization": f"Bearer {token}"})


def _reidentify(server: LiveServer, till: Device, request_id: str | None = None) -> Any:
    return _post(server, "/reidentify", till.enrolment.token,
                 {"device_id": till.id, "request_id": request_id or str(uuid.uuid4())})


def _successor(server: LiveServer, response: Any) -> Device:
    assert response.status_code == 200, response.text
    return Device(server=server, enrolment=EnrolResponse.model_validate_json(response.content))


def _code(response: Any) -> str:
    return ErrorBody.model_validate_json(response.content).code


def _registration(till: Device, member_id: str, member_no: str) -> Any:
    return till.event(type="member.registered",
                      payload=till.registered({"member_id": member_id, "member_no": member_no,
                                               "phone_index": uuid.uuid4().hex}))


def test_a_forked_till_takes_a_new_device_and_its_old_token_is_retired(
    server: LiveServer,
) -> None:
    till = server.enrol(name="front")
    till.push(till.events(2))
    new = _successor(server, _reidentify(server, till))
    assert new.store_id == till.store_id and new.id != till.id
    assert new.enrolment.device_number == till.enrolment.device_number + 1
    assert new.enrolment.data_key == till.enrolment.data_key
    for response in (till.push_raw(till.events(1)),
                     server.http.get(f"{API}/pull", headers=till.headers)):
        assert response.status_code == 409 and _code(response) == "device_retired"
    assert new.push(new.events(1)).acked_through == 1
    flags = [f for f in services.list_flags(server.ctx) if f.kind == "device_reidentified"]
    assert [(f.detail["old_device_id"], f.detail["device_id"]) for f in flags] == [
        (till.id, new.id)]


def test_asked_again_with_its_request_id_the_same_device_comes_back_with_a_new_token(
    server: LiveServer,
) -> None:
    till = server.enrol()
    request_id = str(uuid.uuid4())
    lost = _successor(server, _reidentify(server, till, request_id))
    again = _successor(server, _reidentify(server, till, request_id))
    assert again.id == lost.id and again.enrolment.token != lost.enrolment.token
    assert lost.push_raw(lost.events(1)).status_code == 401
    again.push(again.events(1))
    # a copy restored from before the answer came asks with the same request id: the device
    # is in use, so it gets one of its own (it was refused for ever, stranding its events)
    other = _successor(server, _reidentify(server, till, request_id))
    assert other.id not in (till.id, again.id)
    again.push(again.events(1))
    assert other.push(other.events(1)).acked_through == 1


def test_a_second_copy_of_the_till_gets_a_device_of_its_own(server: LiveServer) -> None:
    till = server.enrol()
    one = _successor(server, _reidentify(server, till))
    two = _successor(server, _reidentify(server, till))
    assert len({till.id, one.id, two.id}) == 3
    assert two.enrolment.device_number == one.enrolment.device_number + 1


def test_a_revoked_till_cannot_take_a_new_identity(server: LiveServer) -> None:
    till = server.enrol()
    services.revoke_device(server.ctx, device_id=till.id)
    before = server.table_counts()
    assert _reidentify(server, till).status_code == 401
    assert server.table_counts() == before


def test_adopting_answers_what_is_stored_and_which_numbers_another_member_holds(
    server: LiveServer,
) -> None:
    till = server.enrol()
    stored = _registration(till, "member-a", "00010100000018")
    till.push([stored])
    new = _successor(server, _reidentify(server, till))
    body = {"device_id": till.id, "event_ids": [stored.id, str(uuid.uuid4())],
            "members": [{"member_id": "member-b", "member_no": "00010100000018"},
                        {"member_id": "member-c", "member_no": "00010100000026"}]}
    answer = AdoptResponse.model_validate_json(
        _post(server, "/adopt", new.enrolment.token, body).content)
    assert answer.stored == [stored.id]
    assert answer.taken == ["00010100000018"]
    again = AdoptResponse.model_validate_json(
        _post(server, "/adopt", new.enrolment.token, body).content)
    assert again == answer  # idempotent: its own claim is not "taken"
    other = _successor(server, _reidentify(server, till))  # a second copy of the till
    clash = {"device_id": till.id, "event_ids": [],
             "members": [{"member_id": "member-d", "member_no": "00010100000026"}]}
    answer = AdoptResponse.model_validate_json(
        _post(server, "/adopt", other.enrolment.token, clash).content)
    assert answer.taken == ["00010100000026"]


def test_adopting_an_active_device_or_another_stores_is_refused(server: LiveServer) -> None:
    store = server.store()
    active, newcomer = server.enrol(store), server.enrol(store)
    elsewhere = server.enrol()
    before = server.table_counts()
    body = {"device_id": active.id, "event_ids": [], "members": []}
    response = _post(server, "/adopt", newcomer.enrolment.token, body)
    assert response.status_code == 409 and "still active" in response.text
    response = _post(server, "/adopt", newcomer.enrolment.token,
                     {**body, "device_id": elsewhere.id})
    assert response.status_code == 404
    assert server.table_counts() == before


def test_a_re_enrolled_till_adopts_its_revoked_predecessor(server: LiveServer) -> None:
    store = server.store()
    revoked = server.enrol(store)
    revoked.push(revoked.events(1))
    services.revoke_device(server.ctx, device_id=revoked.id)
    fresh = server.enrol(store)
    response = _post(server, "/adopt", fresh.enrolment.token,
                     {"device_id": revoked.id, "event_ids": [], "members": []})
    assert response.status_code == 200, response.text
    with pytest.raises(Conflict):  # its identity went on: it cannot come back
        reinstate_device(server.ctx, device_id=revoked.id)


def test_hq_reinstates_a_revoked_device(server: LiveServer) -> None:
    till = server.enrol()
    services.revoke_device(server.ctx, device_id=till.id)
    waiting = till.events(1)
    assert till.push_raw(waiting).status_code == 401
    reinstate_device(server.ctx, device_id=till.id)
    assert till.push(waiting).acked_through == 1
