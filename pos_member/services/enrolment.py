"""Enrolment: a fresh till takes its store, device and the chain's data key from the server.

The server's answer (``sync.protocol.EnrolResponse``) arrives here as an :class:`Enrolment`, so
the core needs no HTTP. The data key and the device token go to the OS credential store
(``data-key:<key id>``, ``device-token:<device id>``), never into the database: the database
keeps only the key's id and the server's address.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.crypto import KeyStore, PiiCipher
from pos_member.db.models import Device, DeviceCounter, Member, Setting, Staff, Store
from pos_member.db.uow import UnitOfWork
from pos_member.errors import InvalidInput, TillNotFresh
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Role
from pos_member.services.outbox import SERVER_URL
from pos_member.services.setup import TillIdentity, get_setting, load_identity
from pos_member.services.staff import StaffInfo, check_staff_fields, create_staff

DEVICE_TOKEN = "device-token:{device_id}"
# setting: the id this till sends with its enrolment until it is enrolled (``enrolment_request_id``)
ENROL_REQUEST_ID = "enrol_request_id"


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """The till's first administrator, created right after enrolment (``pos-member enrol``):
    without one nobody could log in on a till whose store has no staff yet."""

    code: str
    name: str
    secret: str

    def check(self) -> None:
        """Refuses a bad number, name or weak secret, before the one-time code is spent."""
        check_staff_fields(self.code, self.name, self.secret, Role.ADMIN)

    def create(self, uow: UnitOfWork, ident: TillIdentity) -> StaffInfo | None:
        """Creates the administrator with the system clerk, unless the store already has an
        active one (pulled from its other tills before: ``sync.engine.first_admin``): then
        ``None``, and the store's staff log in here. A number taken by a colleague gives the
        administrator the next free number up. Its ``staff.created`` event syncs."""
        with uow.read() as s:
            if s.scalar(select(Staff.id).where(Staff.role == Role.ADMIN.value,
                                               Staff.active.is_(True)).limit(1)) is not None:
                return None
            taken = set(s.scalars(select(Staff.code)))
        code = self.code.strip()
        while code in taken and len(str(int(code) + 1)) <= 8:
            code = str(int(code) + 1).zfill(len(code))
        return create_staff(uow, clerk=ident.system_clerk(), code=code, name=self.name,
                            role=Role.ADMIN, secret=self.secret)


@dataclass(frozen=True, slots=True)
class Enrolment:
    store_id: str
    store_number: int
    store_name: str
    device_id: str
    device_number: int
    device_name: str
    token: str
    data_key: str  # base64 of the 64-byte chain data key
    server_url: str


def check_fresh(session: Session) -> None:
    """Raises :class:`TillNotFresh` unless the till has no identity and no members: enrolling a
    till that already holds data would mix two identities in one event log."""
    if session.scalar(select(func.count()).select_from(Member)):
        raise TillNotFresh(what="members")
    if get_setting(session, "device_id") is not None:
        ident = load_identity(session)
        raise TillNotFresh(what=f"a store ({ident.store_number} {ident.store_name})")


def enrolment_request_id(uow: UnitOfWork) -> str:
    """The random id this fresh till sends with every enrolment request until it is enrolled
    (kept in its settings, dropped by :func:`enrol_till`): HQ answers a retry of the same code
    with it, after an answer lost on the way, with the same device (docs/sync.md, "Enrolment
    and tokens")."""
    with uow.begin() as tx:
        row = tx.session.get(Setting, ENROL_REQUEST_ID)
        if row is not None:
            return row.value
        value = str(uuid.uuid4())
        tx.session.add(Setting(key=ENROL_REQUEST_ID, value=value))
        tx.commit()
    return value


def enrol_till(uow: UnitOfWork, keystore: KeyStore, enrolment: Enrolment) -> TillIdentity:
    """Sets up this till with the server's ids and numbers, stores the key and token in
    ``keystore`` and switches the unit of work to the chain's data key. One transaction; the
    secrets are stored before it commits, so a committed enrolment always has its key."""
    try:
        key = base64.b64decode(enrolment.data_key, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 64:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The server sent an unusable data key."))
    e = enrolment
    with uow.begin() as tx:
        s = tx.session
        check_fresh(s)
        now = uow.clock.now()
        if s.get(Store, e.store_id) is None:
            s.add(Store(id=e.store_id, number=e.store_number, name=e.store_name, created_at=now))
            s.flush()
        s.add(Device(id=e.device_id, store_id=e.store_id, number=e.device_number,
                     name=e.device_name, created_at=now))
        s.flush()
        s.add(DeviceCounter(device_id=e.device_id))
        key_id = tx.new_id()
        for name, value in (("device_id", e.device_id), ("data_key_id", key_id),
                            (SERVER_URL, e.server_url)):
            s.add(Setting(key=name, value=value))
        if (asked := s.get(Setting, ENROL_REQUEST_ID)) is not None:
            s.delete(asked)  # enrolled: a later enrolment (a new code) is a new request
        s.flush()
        ident = TillIdentity(e.store_id, e.store_number, e.store_name, e.device_id,
                             e.device_number)
        clerk = ident.system_clerk()
        payload = events.DeviceSetUp(
            store_id=e.store_id, store_number=e.store_number, store_name=e.store_name,
            device_id=e.device_id, device_number=e.device_number, device_name=e.device_name,
            enrolled=True)
        ev = tx.record(clerk, events.DEVICE_SET_UP, payload, entity_id=e.device_id)
        tx.audit(clerk, "device.enrolled", "device", e.device_id,
                 after={**ev.payload, "server_url": e.server_url}, event=ev)
        keystore.put(f"data-key:{key_id}", e.data_key)
        keystore.put(DEVICE_TOKEN.format(device_id=e.device_id), e.token)
        tx.commit()
    uow.cipher = PiiCipher(key)
    return ident


def device_token(keystore: KeyStore, device_id: str) -> str | None:
    return keystore.get(DEVICE_TOKEN.format(device_id=device_id))
