"""HQ's SMS sender in tests: keeps what it was asked to send, so a test reads the code a member
would have received."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from pos_member.crypto import PiiCipher
from pos_member.services.member_cards import PHONE_CTX
from sync.client import SyncClient
from tests.server.factories import Device, LiveServer

PHONES = {"m1": "13912345678", "m2": "13912345679"}  # the members the ``hq`` fixture registers


@dataclass
class Sent:
    phone: str
    text: str
    message_id: str

    @property
    def code(self) -> str:
        found = re.search(r"验证码(\d{6})", self.text)
        assert found is not None
        return found.group(1)


@dataclass
class Hq:
    """The ``hq`` fixture: the server on loopback with a fake SMS gateway, one enrolled till
    (``device``, ``client``) and the members of ``PHONES`` registered."""

    live: LiveServer
    sms: FakeSms
    client: SyncClient
    token: str
    device: Device


class FakeSms:
    """The SMS gateway; ``down``: it refuses every message (as the HTTP adapter does)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.down = False

    def send_code(self, *, phone: str, text: str, message_id: str) -> None:
        if self.down:
            raise RuntimeError("gateway answered 502")
        self.sent.append(Sent(phone, text, message_id))


def phone_index(device: Device, phone: str) -> str:
    """The blind index of ``phone`` under the chain's data key, as a till of the chain makes it."""
    cipher = PiiCipher(base64.b64decode(device.enrolment.data_key))
    return cipher.blind_index(phone, context=PHONE_CTX)


def register_member(device: Device, member_id: str, phone: str, member_no: str = "") -> None:
    """Pushes ``member.registered`` for ``member_id`` with ``phone``: HQ now knows the member."""
    device.push([device.event(type="member.registered", payload=device.registered({
        "member_id": member_id, "member_no": member_no or f"M{device.next_seq:012d}",
        "phone_index": phone_index(device, phone)}, phone=phone))])
