"""A till that takes a new identity on its own and keeps every event it recorded (headless).

- :func:`reidentify`: HQ answered 409 ``fork`` (this till's data were restored from an older
  copy, or copied) or ``device_retired`` (the other copy took a new identity first). The till
  asks ``/v1/reidentify`` with its token, under a request id it committed first (a lost
  answer is asked again and names the same new device).
- :func:`reenrol`: a till enrolled again in place with a fresh code (its old device revoked):
  ``/v1/enrol``.

Then both ask ``/v1/adopt`` which unacknowledged events HQ stores already and which member
numbers another member holds, and take the new identity in one local transaction
(``pos_member.services.reidentity.take_over``); the caller pushes what waits. Every step is
decided by HQ's answers and the till's database: no clock, no randomness, no sleeping.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select

from pos_member.bootstrap import App
from pos_member.crypto import KeyStore
from pos_member.db.models import Device
from pos_member.errors import StoreNotSetUp, TillNotFresh, TillStillEnrolled
from pos_member.services.enrolment import Enrolment, device_token
from pos_member.services.outbox import SERVER_URL, get_sync_setting, on_its_own
from pos_member.services.reidentity import (
    FORK,
    REENROLLED,
    Reidentity,
    pending,
    request_id,
    take_over,
)
from pos_member.services.setup import TillIdentity
from sync.errors import ServerRefused
from sync.protocol import (
    MAX_ADOPT,
    AdoptMember,
    AdoptRequest,
    AdoptResponse,
    EnrolRequest,
    EnrolResponse,
    ReidentifyRequest,
    StoresResponse,
)

NEW_IDENTITY = ("fork", "device_retired")  # the 409 codes a new identity answers


class IdentityClient(Protocol):
    def enrol(self, request: EnrolRequest) -> EnrolResponse: ...

    def reidentify(self, request: ReidentifyRequest) -> EnrolResponse: ...

    def adopt(self, request: AdoptRequest) -> AdoptResponse: ...

    def stores(self) -> StoresResponse: ...

    def use_token(self, token: str) -> None: ...


def needs_new_identity(error: BaseException) -> bool:
    """HQ's answer says this till must take a new identity (a fork, a retired device)."""
    return (isinstance(error, ServerRefused) and error.status == 409
            and error.code in NEW_IDENTITY)


def reidentify(app: App, client: IdentityClient, keystore: KeyStore) -> Reidentity:
    """A forked till's new identity; its unsent events move to it. ``client`` calls as the
    new device afterwards."""
    old = _identity(app)
    rid = request_id(app.uow, device_id=old.device_id)
    answer = client.reidentify(ReidentifyRequest(device_id=old.device_id, request_id=rid))
    return _adopt(app, client, keystore, answer, old, reason=FORK,
                  device_name=_device_name(app, old))


def reenrol(app: App, client: IdentityClient, keystore: KeyStore, *, code: str,
            device_name: str) -> Reidentity:
    """Enrols this till again in place with a fresh code (its old device revoked): its data
    stay, its unsent events move to the new device. Refused before the code is spent: a till
    never enrolled with a server (a demo store, ``TillNotFresh``) and a till whose token HQ
    still accepts (``TillStillEnrolled``: it needs no new identity)."""
    old = _identity(app)
    if on_its_own(app.uow):
        raise TillNotFresh(what=f"a store ({old.store_number} {old.store_name})")
    _refuse_if_still_accepted(client, keystore, old)
    # the old device's request id, as for /v1/reidentify (dropped when the new identity is
    # taken): a retry after a lost answer gets the same device (docs/sync.md, "Enrolment and
    # tokens"); a till killed after adopting asks /v1/reidentify with it and gets it too
    answer = client.enrol(EnrolRequest(code=code, device_name=device_name,
                                       request_id=request_id(app.uow, device_id=old.device_id)))
    return _adopt(app, client, keystore, answer, old, reason=REENROLLED,
                  device_name=device_name)


def _refuse_if_still_accepted(client: IdentityClient, keystore: KeyStore,
                              old: TillIdentity) -> None:
    """Asks HQ with the till's own token (when it still has one); only a refused token (401,
    403: revoked, retired) or a lost one may enrol again. No answer raises ``ServerUnavailable``."""
    token = device_token(keystore, old.device_id)
    if token is None:  # re-imaged keyring, token lost: HQ cannot be asked as this till
        return
    client.use_token(token)
    try:
        client.stores()
    except ServerRefused as e:
        if e.token_refused:
            return
        raise
    raise TillStillEnrolled(store=old.store_number, device=old.device_number)


def _adopt(app: App, client: IdentityClient, keystore: KeyStore, answer: EnrolResponse,
           old: TillIdentity, *, reason: str, device_name: str) -> Reidentity:
    client.use_token(answer.token)
    waiting = pending(app.uow, device_id=old.device_id)
    ids, members = waiting.event_ids, waiting.members
    stored: set[str] = set()
    taken: set[str] = set()
    for start in range(0, max(len(ids), len(members), 1), MAX_ADOPT):
        adopted = client.adopt(AdoptRequest(
            device_id=old.device_id, event_ids=ids[start:start + MAX_ADOPT],
            members=[AdoptMember(member_id=m, member_no=n)
                     for m, n in members[start:start + MAX_ADOPT]]))
        stored.update(adopted.stored)
        taken.update(adopted.taken)
    enrolment = Enrolment(
        store_id=answer.store_id, store_number=answer.store_number,
        store_name=answer.store_name, device_id=answer.device_id,
        device_number=answer.device_number, device_name=device_name, token=answer.token,
        data_key=answer.data_key, server_url=get_sync_setting(app.uow, SERVER_URL) or "")
    ident, notice = take_over(app.uow, keystore, enrolment, old=old, stored=stored,
                              renumber=[(m, n) for m, n in members if n in taken],
                              reason=reason)
    app.identity = ident
    return notice


def _identity(app: App) -> TillIdentity:
    if app.identity is None:
        raise StoreNotSetUp()
    return app.identity


def _device_name(app: App, ident: TillIdentity) -> str:
    with app.uow.read() as s:
        name = s.scalar(select(Device.name).where(Device.id == ident.device_id))
    return name or "till"
