"""HQ's SMS sender in tests: keeps what it was asked to send, so a test reads the code a member
would have received."""

from __future__ import annotations

import re
from dataclasses import dataclass


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


class FakeSms:
    """The SMS gateway; ``down``: it refuses every message (as the HTTP adapter does)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.down = False

    def send_code(self, *, phone: str, text: str, message_id: str) -> None:
        if self.down:
            raise RuntimeError("gateway answered 502")
        self.sent.append(Sent(phone, text, message_id))
