"""Acts on what was scanned, whatever brought it (the scan field, a picture, a serial
scanner): a member's code shows the card, a coupon goes to the checkout (issue 18), the
member's dynamic payment code opens the pay dialog for the member on screen with the code
filled in (docs/rules.md, "Scanning"). The rule itself is :mod:`pos_member.scan_route`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from pos_member.errors import (
    CouponNeedsMember,
    DomainError,
    PaymentCodeNeedsMember,
    ScanWhileDialogOpen,
)
from pos_member.scan_route import Route, RouteKind, route

if TYPE_CHECKING:
    from pos_member.services.member_cards import MemberCard
    from ui.host import TillHost

log = logging.getLogger(__name__)

PaymentCodeSlot = Callable[["MemberCard", str], None]


class ScanRouter:
    """``lookup(code)`` shows a member's card (the window's, which clears the card when the
    code is refused); ``failed(error)`` shows a refusal that does not touch the card."""

    def __init__(self, host: TillHost, *, lookup: Callable[[str], None],
                 malformed: Callable[[DomainError], None],
                 search: Callable[[str], None] | None = None) -> None:
        self.host, self.lookup, self.malformed = host, lookup, malformed
        self.search = search
        self._payment_code: PaymentCodeSlot | None = None
        self._coupon: Callable[[str], None] | None = None

    def on_payment_code(self, slot: PaymentCodeSlot) -> None:
        """The stored-value feature's: ``slot(card, code)`` opens (or fills) the pay dialog."""
        self._payment_code = slot

    def on_coupon(self, slot: Callable[[str], None]) -> None:
        """The checkout's: ``slot(code)`` adds the coupon to the open checkout, or opens one
        for the member on screen."""
        self._coupon = slot

    def submit(self, text: str) -> None:
        try:
            found = route(text)
        except DomainError as e:
            log.info("scan refused: %s", type(e).__name__)
            if self.host.dialog is not None:  # the card behind an open dialog stays
                self.host.show_error(e)
            else:
                self.malformed(e)
            return
        log.info("scan routed: %s", found.kind.value)  # the kind only: never the code
        self._act(found)

    def _act(self, found: Route) -> None:
        host = self.host
        if found.kind is RouteKind.PAYMENT_CODE:
            card = host.current_card()
            if card is None or self._payment_code is None:
                host.show_error(PaymentCodeNeedsMember())
            else:
                self._payment_code(card, found.code)
        elif found.kind is RouteKind.COUPON:
            if self._coupon is None:
                host.show_error(CouponNeedsMember())
            else:
                self._coupon(found.code)
        elif host.dialog is not None:  # the card behind an open dialog must not change
            host.show_error(ScanWhileDialogOpen())
        elif found.kind is RouteKind.SEARCH:
            if self.search is not None:
                self.search(found.code)
        else:
            self.lookup(found.code)
