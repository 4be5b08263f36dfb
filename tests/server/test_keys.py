"""HQ keeps the chain's personal-data key wrapped by a key-encryption key (KEK) from its
environment or the OS keyring: a copy of the database alone reveals no phone, the server
refuses to start without the right KEK, and an older database's plain key is wrapped in place."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select

from pos_member.crypto import PiiCipher
from pos_member.events.members import PHONE_CTX
from sync.server.cli import main
from sync.server.db import open_server_database, schema_revision, upgrade
from sync.server.errors import KekMissing, KekWrong
from sync.server.keys import DATA_KEY, ENV_KEK, KEYRING_NAME, is_wrapped, new_kek
from sync.server.models import ChainSetting, ServerBase
from tests.keyrings import DictKeyring
from tests.server.factories import Device, LiveServer
from tests.server.migrating import downgrade

PHONE = "13987654321"


@pytest.fixture
def no_keyring_kek() -> Iterator[DictKeyring]:
    """An OS keyring that holds no KEK (until a test puts one there)."""
    previous = keyring.get_keyring()
    backend = DictKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    monkeypatch.setenv("POS_MEMBER_SERVER_DB", url)
    return url


def register(device: Device, phone: str = PHONE) -> None:
    """A member registered as a till sends it: the phone sealed with the chain's data key."""
    cipher = PiiCipher(base64.b64decode(device.enrolment.data_key))
    device.push([device.event(type="member.registered", payload=device.registered({
        "member_id": "m-key", "member_no": "M000000000001",
        "phone_index": cipher.blind_index(phone, context=PHONE_CTX),
        "phone_enc": base64.b64encode(cipher.encrypt(phone, context=PHONE_CTX)).decode()}))])


def dump(server: LiveServer) -> str:
    """Every value in every table, as a copy of the database would show them."""
    with server.ctx.db.read() as conn:
        return "\n".join(repr(tuple(row)) for table in ServerBase.metadata.sorted_tables
                         for row in conn.execute(select(table)))


def stored_key(url: str) -> str:
    db = open_server_database(url)
    try:
        with db.read() as conn:
            return conn.execute(select(ChainSetting.value)
                                .where(ChainSetting.key == DATA_KEY)).scalar_one()
    finally:
        db.dispose()


def test_a_copy_of_the_database_holds_neither_the_data_key_nor_a_phone(
        server: LiveServer) -> None:
    device = server.enrol()
    register(device)
    key = base64.b64decode(device.enrolment.data_key)
    text = dump(server)
    assert PHONE not in text
    for form in (device.enrolment.data_key, key.hex(), key[:32].hex(),
                 base64.b64encode(key[:32]).decode()):
        assert form not in text
    assert is_wrapped(stored_key(server.url))
    if server.backend == "sqlite":  # the file itself, write-ahead log included
        path = Path(server.url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert key[:32] not in raw and device.enrolment.data_key.encode() not in raw
        assert PHONE.encode() not in raw


def test_the_server_refuses_to_start_without_its_kek(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_keyring_kek: DictKeyring,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    monkeypatch.delenv(ENV_KEK)
    capsys.readouterr()
    for argv in (["serve", "--port", "1"], ["db", "upgrade"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "No key-encryption key" in err and ENV_KEK in err and "Traceback" not in err


def test_the_server_refuses_to_start_with_a_wrong_or_malformed_kek(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_keyring_kek: DictKeyring,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    before = stored_key(db_url)
    monkeypatch.setenv(ENV_KEK, new_kek())
    capsys.readouterr()
    assert main(["serve", "--port", "1"]) == 1
    assert "does not open the chain's personal-data key" in capsys.readouterr().err
    monkeypatch.setenv(ENV_KEK, "not-a-key")
    assert main(["serve", "--port", "1"]) == 1
    assert "is not a key: 32 bytes in base64" in capsys.readouterr().err
    assert stored_key(db_url) == before


def test_a_fresh_database_is_not_given_a_key_without_a_kek(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_keyring_kek: DictKeyring,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(ENV_KEK)
    assert main(["db", "upgrade"]) == 1
    assert "kek new" in capsys.readouterr().err
    db = open_server_database(db_url)
    try:
        assert schema_revision(db) is None  # nothing applied: one transaction
    finally:
        db.dispose()


def test_the_kek_can_live_in_the_os_keyring_and_rotate_there(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_keyring_kek: DictKeyring,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(ENV_KEK)
    assert main(["kek", "new", "--keyring"]) == 0
    first = no_keyring_kek.get_password("pos-member", KEYRING_NAME)
    assert first is not None and first not in capsys.readouterr().out
    assert main(["kek", "new", "--keyring"]) == 1  # never overwrites the one that opens the DB
    assert main(["db", "upgrade"]) == 0
    key = data_key(db_url)
    assert main(["kek", "rotate", "--keyring"]) == 0
    second = no_keyring_kek.get_password("pos-member", KEYRING_NAME)
    assert second not in (None, first)
    assert data_key(db_url) == key
    no_keyring_kek.set_password("pos-member", KEYRING_NAME, first)
    with pytest.raises(KekWrong):
        data_key(db_url)


def test_rotating_an_environment_kek_prints_the_new_one_and_retires_the_old(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_keyring_kek: DictKeyring,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    key = data_key(db_url)
    capsys.readouterr()
    assert main(["kek", "rotate"]) == 0
    printed = capsys.readouterr().out.strip()
    with pytest.raises(KekWrong):
        data_key(db_url)  # the old KEK from the environment
    monkeypatch.setenv(ENV_KEK, printed)
    assert data_key(db_url) == key


def data_key(url: str) -> str:
    """The data key as a newly started server opens it (KEK from its environment/keyring)."""
    db = open_server_database(url)
    try:
        with db.write() as conn:
            return db.keys.data_key(conn)
    finally:
        db.dispose()


def test_an_older_database_with_a_plain_key_is_wrapped_in_place(
        server: LiveServer, monkeypatch: pytest.MonkeyPatch, no_keyring_kek: DictKeyring) -> None:
    device = server.enrol()
    register(device)
    db = open_server_database(server.url)
    try:
        downgrade(db, "0005")  # as the previous server left it: the key in plain
        assert stored_key(server.url) == device.enrolment.data_key
        kek = os.environ[ENV_KEK]
        monkeypatch.delenv(ENV_KEK)
        with pytest.raises(KekMissing):
            upgrade(db)
        assert schema_revision(db) == "0005"
        assert stored_key(server.url) == device.enrolment.data_key  # nothing changed
        monkeypatch.setenv(ENV_KEK, kek)
        upgrade(db)
    finally:
        db.dispose()
    assert is_wrapped(stored_key(server.url))
    assert device.enrolment.data_key not in dump(server)
    assert data_key(server.url) == device.enrolment.data_key  # as a restarted server opens it
    other = Device(server=server, enrolment=server.enrol().enrolment)
    assert other.enrolment.data_key == device.enrolment.data_key
    [event] = [c.event for c in other.pull_all() if c.event.type == "member.registered"]
    sealed = base64.b64decode(event.payload["phone_enc"])
    cipher = PiiCipher(base64.b64decode(other.enrolment.data_key))
    assert cipher.decrypt(sealed, context=PHONE_CTX) == PHONE
