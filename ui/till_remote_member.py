"""Another store's member at the till (issue 14): a scan that finds nobody here asks HQ when
the till is online (``sync.remote_lookup``, on the operations pool, off the GUI thread, like
the till's other calls to HQ) and shows the card with the member's chain-wide balances; offline
it shows what HQ last said. The card's stored-value and points tiles then show HQ's figures,
marked as HQ's (the till's own loaders leave a remote card alone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from pos_member.errors import DomainError, MemberNotFound
from pos_member.money import format_yuan
from pos_member.services.member_cards import MemberCard
from sync.remote_lookup import MemberLookup, find_remote
from ui.host import TillHost
from ui.qr import with_qr
from ui.sync_worker import SyncState

if TYPE_CHECKING:
    from sync.client import SyncClient


class RemoteMembers:
    def __init__(self, host: TillHost) -> None:
        self.host = host
        self._client: MemberLookup | None = None
        self._made = False

    def lookup(self, code: str, not_found: Exception | None,
               failed: Callable[[Exception], None]) -> None:
        """After ``not_found`` here (or a directory card: None): HQ's card (online) or the
        cached one (offline); a member nobody knows is told as the local refusal was."""
        host = self.host
        uow, clerk = host.uow, host.clerk
        hq = self._hq() if host.sync_status().state is SyncState.ONLINE else None

        def refused(error: Exception) -> None:
            failed(not_found if isinstance(error, MemberNotFound) and not_found else error)

        host.ops.run(lambda: with_qr(find_remote(uow, clerk=clerk, code=code, hq=hq)),
                     host.show_card, refused)

    def _hq(self) -> MemberLookup | None:
        """A client of HQ, made at the first remote scan and kept until the window closes."""
        if self._made:
            return self._client
        client = new_hq_client(self.host)
        if client is None:
            return None
        self.host.window().destroyed.connect(lambda *_: client.close())
        self._client, self._made = client, True
        return client


def new_hq_client(host: TillHost) -> SyncClient | None:
    """A new client of HQ for this till (its server address and device token), or None when
    the till is not enrolled or its token cannot be read. The caller closes it."""
    if host.sync is None:
        return None
    try:
        from pos_member.hq_trust import hq_verify
        from pos_member.services.enrolment import device_token
        from pos_member.services.outbox import SERVER_URL, get_sync_setting
        from sync.client import SyncClient

        url = get_sync_setting(host.uow, SERVER_URL)
        token = device_token(host.sync.keystore(), host.identity.device_id)
    except DomainError:
        return None
    if url is None or token is None:
        return None
    return SyncClient(url, token, verify=hq_verify(host.app.hq_ca))


def show_tiles(host: TillHost, card: MemberCard) -> None:
    """HQ's figures in the stored-value and points tiles of a remote card."""
    remote = card.hq
    if remote is None:
        return
    when = host.uow.clock.local(remote.as_of).strftime("%m-%d %H:%M")
    source = (QCoreApplication.translate("RemoteMember", "head office, now") if remote.fresh
              else QCoreApplication.translate("RemoteMember", "head office, as of %1")
              .replace("%1", when))
    text = format_yuan(remote.balance_fen)
    if remote.blocked:
        text += " " + QCoreApplication.translate("StoredValue", "(blocked by HQ)")
    host.card_view.set_tile_value(1, text, source)
    host.card_view.set_points(str(remote.points), source)


def register(host: TillHost) -> None:
    remote = RemoteMembers(host)
    host.remote_lookup = remote.lookup
    host.on_card_shown(lambda card: show_tiles(host, card))
