"""Setting up a till: its store, its device identity, and the data key id.

Until the sync issue brings enrolment from HQ, a till is set up locally (``pos-member demo``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.db.models import Device, DeviceCounter, Setting, Store
from pos_member.db.uow import UnitOfWork
from pos_member.errors import StoreNotSetUp
from pos_member.permissions import Clerk, Role


@dataclass(frozen=True, slots=True)
class TillIdentity:
    store_id: str
    store_number: int
    store_name: str
    device_id: str
    device_number: int

    def system_clerk(self) -> Clerk:
        return Clerk(None, "system", Role.ADMIN, self.store_id, self.device_id)


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def load_identity(session: Session) -> TillIdentity:
    device_id = get_setting(session, "device_id")
    if device_id is None:
        raise StoreNotSetUp()
    device = session.get(Device, device_id)
    if device is None:
        raise StoreNotSetUp()
    store = session.get(Store, device.store_id)
    if store is None:
        raise StoreNotSetUp()
    return TillIdentity(store.id, store.number, store.name, device.id, device.number)


def set_up_till(
    uow: UnitOfWork, *, store_number: int, store_name: str, device_number: int, device_name: str,
    store_id: str | None = None,
) -> TillIdentity:
    """Creates the store and this device, once. Calling it again returns what exists.
    ``store_id``: the store's id when it exists elsewhere already (another till of it)."""
    with uow.begin() as tx:
        s = tx.session
        if get_setting(s, "device_id") is not None:
            return load_identity(s)
        now = uow.clock.now()
        store = s.scalar(select(Store).where(Store.number == store_number))
        if store is None:
            store = Store(id=store_id or tx.new_id(), number=store_number, name=store_name,
                          created_at=now)
            s.add(store)
            s.flush()
        device = Device(
            id=tx.new_id(),
            store_id=store.id,
            number=device_number,
            name=device_name,
            created_at=now,
        )
        s.add(device)
        s.flush()
        s.add(DeviceCounter(device_id=device.id))
        s.add(Setting(key="device_id", value=device.id))
        s.add(Setting(key="data_key_id", value=tx.new_id()))
        s.flush()
        ident = TillIdentity(store.id, store.number, store.name, device.id, device.number)
        clerk = ident.system_clerk()
        ev = tx.record(
            clerk,
            events.DEVICE_SET_UP,
            events.DeviceSetUp(
                store_id=store.id,
                store_number=store_number,
                store_name=store_name,
                device_id=device.id,
                device_number=device_number,
                device_name=device_name,
            ),
            entity_id=device.id,
        )
        tx.audit(clerk, events.DEVICE_SET_UP.type, "device", device.id, after=ev.payload,
                 event=ev)
        tx.commit()
        return ident
