"""The SMS gateway adapter: member notifications (``pos_member.services.notifications``) and
HQ's payment codes (``sync.server.sms``) over HTTP.

``POST {url}`` with ``{"id", "to", "text"}`` as JSON, the gateway's API key as a bearer token
read from the OS keyring (service ``pos-member``, name ``sms-gateway``; never from a file), and
``Idempotency-Key: <id>`` so a retry of one message is not delivered twice. Anything but a 2xx
answer, or no answer, or no key to be had from the keyring, is a :class:`ChannelError`: the
outbox retries it with backoff. An address that is no http(s) URL with a host is refused when
the channel is made (``ValueError``), not at every send.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from pos_member.config import url_problem
from pos_member.errors import ChannelError
from pos_member.services.notifications import Notification

KEYRING_SERVICE = "pos-member"
KEYRING_NAME = "sms-gateway"


def keyring_api_key() -> str | None:
    import keyring

    return keyring.get_password(KEYRING_SERVICE, KEYRING_NAME)


class SmsGatewayChannel:
    name = "sms"

    def __init__(self, url: str, *, api_key: Callable[[], str | None] = keyring_api_key,
                 timeout: float = 5.0, transport: httpx.BaseTransport | None = None) -> None:
        problem = url_problem(url)
        if problem is not None:
            raise ValueError(f"SMS gateway address {problem}")
        self.url = url
        self._api_key = api_key
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def _post(self, message_id: str, phone: str, text: str) -> None:
        try:
            key = self._api_key()
        except Exception as e:  # keyring.errors.KeyringError and what a backend raises
            raise ChannelError(f"OS keyring not readable: {type(e).__name__}") from None
        if not key:
            raise ChannelError("no SMS gateway key in the OS keyring")
        try:
            r = self._http.post(self.url, json={"id": message_id, "to": phone, "text": text},
                                headers={"Authorization": f"Bearer {key}",
                                         "Idempotency-Key": message_id})
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise ChannelError(f"gateway unreachable: {type(e).__name__}") from None
        if not 200 <= r.status_code < 300:
            raise ChannelError(f"gateway answered {r.status_code}")

    def send(self, message: Notification) -> None:
        if not message.phone:
            raise ChannelError("no phone for this member on this till")
        self._post(message.id, message.phone, message.text)

    def send_code(self, *, phone: str, text: str, message_id: str) -> None:
        """HQ's SMS payment codes (``sync.server.sms.SmsSender``)."""
        try:
            self._post(message_id, phone, text)
        except ChannelError as e:
            raise RuntimeError(str(e)) from None

    def close(self) -> None:
        self._http.close()
