"""A member number in a pushed registration is unpatterned text: the snapshot takes only
ASCII-digit numbers (``str.isdigit`` takes superscripts, which ``int`` refuses, and other
scripts' digits)."""

from __future__ import annotations

import json
import uuid

from sync.server import services
from sync.server.snapshot import snapshot_json
from tests.server.factories import LiveServer


def test_the_snapshot_leaves_out_a_member_number_of_other_digits(server: LiveServer) -> None:
    reader, till = server.enrol(), server.enrol()
    numbers = ["²" * 14, "".join(chr(0x661 + n % 9) for n in range(14)), f"{2:04d}{1:010d}"]
    till.push([till.event(seq=i, type="member.registered", payload=till.registered({
        "member_id": str(uuid.uuid4()), "member_no": number, "phone_index": f"{i:064x}",
        "store_id": till.store_id})) for i, number in enumerate(numbers, start=1)])
    identity = services.authenticate(server.ctx, token=reader.enrolment.token)
    members = json.loads(snapshot_json(server.ctx, device=identity))["members"]
    assert [m[0] for m in members] == [numbers[2]]
