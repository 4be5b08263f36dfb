"""Wires the core together: database, rules, till identity, data key. Nothing happens at import.

The UI, the CLI, the benchmarks and the tests all start here.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos_member.clock import Clock, SystemClock
from pos_member.config import DEFAULT_HOURS, Integration, OpeningHours, ScannerPort
from pos_member.crypto import KeyringKeyStore, KeyStore, PiiCipher
from pos_member.db.backups import BackupKeeper
from pos_member.db.engine import Database, open_database
from pos_member.db.uow import UnitOfWork
from pos_member.errors import RulesInvalid, StoreNotSetUp
from pos_member.rules_config import default_rules_path
from pos_member.services.enrolment import Enrolment, enrol_till
from pos_member.services.pulled_events import retry_held
from pos_member.services.rules_in_force import RulesInForce, activate_rules, pulled_rules
from pos_member.services.setup import TillIdentity, get_setting, load_identity, set_up_till


@dataclass
class App:
    uow: UnitOfWork
    identity: TillIdentity | None  # None until the till is set up
    rules_refused: RulesInvalid | None  # the rules file's problem, if the last good one is used
    opening_hours: OpeningHours = DEFAULT_HOURS  # from config.toml (recruitment pace)
    hq_ca: str | None = None  # from config.toml: what to trust for HQ (pos_member.hq_trust)
    scanner: ScannerPort | None = None  # from config.toml: a serial-port scanner, if any
    backups: BackupKeeper | None = None  # the daily copies, while the till window runs
    # From config.toml: the POS's local API and watched folder (None: neither, as in tests)
    integration: Integration | None = None
    # The running POS link (integration_api.service.LinkService), while the till application
    # runs: its windows lend it their pay desk. None: each window runs its own (tests).
    link: Any = None

    @property
    def db(self) -> Database:
        return self.uow.db

    def close(self) -> None:
        if self.backups is not None:
            self.backups.stop()
            self.backups = None
        self.uow.db.dispose()

    def set_up(
        self,
        keystore: KeyStore,
        *,
        store_number: int,
        store_name: str,
        device_number: int,
        device_name: str,
        store_id: str | None = None,
    ) -> TillIdentity:
        """First start of a till: its store and device, and a new data key in ``keystore``.
        ``store_id``: the store's id when another till of it exists already."""
        ident = set_up_till(
            self.uow,
            store_number=store_number,
            store_name=store_name,
            device_number=device_number,
            device_name=device_name,
            store_id=store_id,
        )
        with self.uow.read() as s:
            key_id = get_setting(s, "data_key_id")
        if key_id is None:  # set_up_till writes it in the same transaction
            raise StoreNotSetUp()
        self.uow.cipher = PiiCipher.from_keystore(keystore, key_id, create=True)
        self.identity = ident
        return ident

    def enrol(self, keystore: KeyStore, enrolment: Enrolment) -> TillIdentity:
        """First start of a till enrolled with the server: its ids, numbers and the chain's
        data key come from the server's answer (:mod:`pos_member.services.enrolment`)."""
        ident = enrol_till(self.uow, keystore, enrolment)
        self.identity = ident
        return ident


def bootstrap(
    db_path: Path,
    *,
    rules_file: Path | None = None,
    keystore: KeyStore | None = None,
    clock: Clock | None = None,
    create_key: bool = False,
) -> App:
    """Opens the till at ``db_path``: migrations, rules in force, identity and the data key.

    ``keystore`` defaults to the OS credential store. ``create_key`` makes the data key when the
    credential store has none (first set-up); otherwise a missing key is an error, because the
    personal data already stored could not be read.
    """
    clock = clock or SystemClock()
    db = open_database(db_path)
    pulled = pulled_rules(db, clock.now())  # started by now; later ones switch in uow
    in_force = (
        RulesInForce(pulled, None) if pulled is not None
        else activate_rules(db, clock, rules_file or default_rules_path())
    )
    uow = UnitOfWork(db, clock=clock, rules=in_force.rules)
    app = App(uow=uow, identity=None, rules_refused=in_force.refused)
    with uow.read() as s:
        try:
            app.identity = load_identity(s)
        except StoreNotSetUp:
            return app
        key_id = get_setting(s, "data_key_id")
    if key_id is None:
        raise StoreNotSetUp()
    uow.cipher = PiiCipher.from_keystore(keystore or KeyringKeyStore(), key_id, create=create_key)
    _seal_plain_profiles(uow)
    retry_held(uow, device_id=app.identity.device_id)  # upgraded since? try the held events
    # Everything imported and built so far lives as long as the process: move it out of the
    # collector's generations, so a collection during a till operation scans only new objects.
    gc.freeze()
    return app


def _seal_plain_profiles(uow: UnitOfWork) -> None:
    """Gender, birthday and tags an older version kept in the clear, sealed with the data key
    now at hand: the members' (migration 0017; ``services/profile_seal``: a partial index
    finds them) and the field versions' (migration 0018 leaves a mark)."""
    import sqlite3

    from pos_member.services.field_versions import seal_plain_versions
    from pos_member.services.profile_seal import seal_plain

    with uow.db.write.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("PRAGMA secure_delete = ON")  # clear bytes zeroed, not freed
            sealed = seal_plain(conn, uow.cipher)
            # Migration 0018: the field versions' clear values, once (a mark, not a scan).
            mark = {"k": "seal_field_versions"}
            if conn.exec_driver_sql("SELECT 1 FROM settings WHERE key = :k", mark).first():
                sealed += seal_plain_versions(conn, uow.cipher)
                conn.exec_driver_sql("DELETE FROM settings WHERE key = :k", mark)
        conn.exec_driver_sql("PRAGMA secure_delete = OFF")
        conn.commit()
    if sealed:  # the pages with clear values leave the WAL for the file, zeroed
        con = sqlite3.connect(uow.db.path)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
