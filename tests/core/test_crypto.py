from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from cryptography.exceptions import InvalidTag
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked

from pos_member.bootstrap import bootstrap
from pos_member.crypto import KeyringKeyStore, MemoryKeyStore, PiiCipher
from pos_member.errors import KeyStoreUnavailable
from pos_member.services.members import update_profile
from pos_member.services.setup import get_setting
from tests.factories import Till, make_till
from tests.keyrings import DictKeyring

PHONE, NAME, NEW_NAME = "13812345678", "王小明", "欧阳娜娜"
TEST_SERVICE = "pos-member-test"


def cipher() -> PiiCipher:
    return PiiCipher(os.urandom(64))


# --- the cipher --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [PHONE, NAME, "", "Ünïcödé 🙂"])
def test_decrypt_gives_back_what_was_encrypted(text: str) -> None:
    c = cipher()
    assert c.decrypt(c.encrypt(text, context="member.name"), context="member.name") == text


def test_the_same_value_encrypts_differently_each_time() -> None:
    c = cipher()
    assert c.encrypt(PHONE, context="member.phone") != c.encrypt(PHONE, context="member.phone")


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    assert PHONE.encode() not in cipher().encrypt(PHONE, context="member.phone")


def test_a_ciphertext_is_bound_to_its_context() -> None:
    c = cipher()
    blob = c.encrypt(PHONE, context="member.phone")
    with pytest.raises(InvalidTag):
        c.decrypt(blob, context="member.name")


def test_a_ciphertext_does_not_decrypt_under_another_key() -> None:
    blob = cipher().encrypt(PHONE, context="member.phone")
    with pytest.raises(InvalidTag):
        cipher().decrypt(blob, context="member.phone")


def test_a_tampered_ciphertext_is_refused() -> None:
    c = cipher()
    blob = bytearray(c.encrypt(PHONE, context="member.phone"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        c.decrypt(bytes(blob), context="member.phone")


def test_an_unknown_ciphertext_version_is_refused() -> None:
    c = cipher()
    blob = c.encrypt(PHONE, context="member.phone")
    with pytest.raises(ValueError):
        c.decrypt(b"\x02" + blob[1:], context="member.phone")


def test_the_data_key_must_be_64_bytes() -> None:
    with pytest.raises(ValueError):
        PiiCipher(os.urandom(32))


def test_blind_index_is_deterministic_for_one_key() -> None:
    key = os.urandom(64)
    a = PiiCipher(key).blind_index(PHONE, context="member.phone")
    b = PiiCipher(key).blind_index(PHONE, context="member.phone")
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0


def test_blind_index_differs_between_keys() -> None:
    assert (cipher().blind_index(PHONE, context="member.phone")
            != cipher().blind_index(PHONE, context="member.phone"))


def test_blind_index_differs_between_contexts_and_values() -> None:
    c = cipher()
    assert c.blind_index(PHONE, context="member.phone") != c.blind_index(PHONE, context="x")
    assert (c.blind_index(PHONE, context="member.phone")
            != c.blind_index("13812345679", context="member.phone"))


# --- the data key and the key store ------------------------------------------------------


def test_a_missing_data_key_is_refused_unless_asked_to_create_it() -> None:
    with pytest.raises(KeyStoreUnavailable):
        PiiCipher.from_keystore(MemoryKeyStore(), "k1", create=False)


def test_a_created_data_key_is_stored_and_found_again() -> None:
    store = MemoryKeyStore()
    blob = PiiCipher.from_keystore(store, "k1", create=True).encrypt(PHONE, context="p")
    again = PiiCipher.from_keystore(store, "k1", create=False)
    assert again.decrypt(blob, context="p") == PHONE
    assert len(base64.b64decode(store.get("data-key:k1") or "")) == 64


def test_bootstrap_refuses_to_open_a_till_whose_data_key_is_gone(till: Till) -> None:
    with pytest.raises(KeyStoreUnavailable):
        bootstrap(till.path, keystore=MemoryKeyStore(), clock=till.clock)


def _data_key(till: Till) -> str:
    with till.uow.read() as s:
        key_id = get_setting(s, "data_key_id")
    key = till.keystore.get(f"data-key:{key_id}")
    assert key is not None
    return key


def test_the_data_key_is_not_in_the_database_nor_beside_it(till: Till) -> None:
    till.register(PHONE, name=NAME)
    encoded = _data_key(till)
    raw = base64.b64decode(encoded)
    for f in till.path.parent.iterdir():
        content = f.read_bytes()
        assert encoded.encode() not in content, f
        assert raw[:32] not in content and raw[32:] not in content, f


# --- nothing personal in clear at rest ---------------------------------------------------


def _database_bytes(till: Till) -> bytes:
    """The main file and its write-ahead log: recent commits live in the -wal file."""
    files = [till.path, till.path.with_name(till.path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def _forms(text: str) -> list[bytes]:
    """The ways a value could sit in the file: UTF-8, UTF-16 and JSON's \\u escapes."""
    escaped = json.dumps(text)[1:-1]
    return [text.encode(), text.encode("utf-16-le"), escaped.encode()]


@pytest.fixture(scope="module")
def till_with_personal_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Till]:
    """One till, shared by the read-only checks below: a member registered with phone and
    name, then renamed."""
    till = make_till(tmp_path_factory.mktemp("pii"))
    card = till.register("+86 138-1234-5678", name=NAME)
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, name=NEW_NAME)
    yield till
    till.app.close()


@pytest.mark.parametrize("secret", [PHONE, NAME, NEW_NAME])
def test_the_database_file_holds_no_phone_or_name_in_clear(
    till_with_personal_data: Till, secret: str
) -> None:
    content = _database_bytes(till_with_personal_data)
    for form in _forms(secret):
        assert form not in content


def test_the_raw_file_scan_does_find_what_is_stored_in_clear(till: Till) -> None:
    """The scan above can fail: the member number, stored in clear, is found by it."""
    card = till.register(PHONE)
    assert card.member_no.encode() in _database_bytes(till)


def _all_text_of(path: Path, table: str) -> str:
    con = sqlite3.connect(path)
    try:
        rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
    finally:
        con.close()
    out = []
    for row in rows:
        for value in row:
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):  # JSON columns: compare decoded text
                    value = json.dumps(json.loads(value), ensure_ascii=False)
            out.append(value.hex() if isinstance(value, bytes) else str(value))
    return "\n".join(out)


@pytest.mark.parametrize("table", ["events", "audit_log", "members", "flags"])
@pytest.mark.parametrize("secret", [PHONE, NAME, NEW_NAME])
def test_no_row_holds_a_phone_or_name_in_clear(
    till_with_personal_data: Till, table: str, secret: str
) -> None:
    assert secret not in _all_text_of(till_with_personal_data.path, table)


def test_the_audit_log_shows_the_phone_masked(till_with_personal_data: Till) -> None:
    assert "138****5678" in _all_text_of(till_with_personal_data.path, "audit_log")


# --- KeyringKeyStore through keyring's backend interface ---------------------------------


class LockedKeyring(DictKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")


@pytest.fixture
def use_backend() -> Iterator[object]:
    previous = keyring.get_keyring()
    chosen: list[KeyringBackend] = []

    def use(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        chosen.append(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


def test_keyring_key_store_writes_to_its_service(use_backend) -> None:  # type: ignore[no-untyped-def]
    backend = use_backend(DictKeyring())
    KeyringKeyStore(service="svc-a").put("data-key:1", "secret")
    assert backend.values == {("svc-a", "data-key:1"): "secret"}


def test_keyring_key_store_reads_back_what_it_stored(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(DictKeyring())
    KeyringKeyStore(service="svc-a").put("data-key:1", "secret")
    assert KeyringKeyStore(service="svc-a").get("data-key:1") == "secret"
    assert KeyringKeyStore(service="svc-b").get("data-key:1") is None


def test_keyring_key_store_refuses_the_fail_backend(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(fail.Keyring())
    with pytest.raises(KeyStoreUnavailable):
        KeyringKeyStore(service=TEST_SERVICE).put("x", "y")
    with pytest.raises(KeyStoreUnavailable):
        KeyringKeyStore(service=TEST_SERVICE).get("x")


def test_keyring_key_store_reports_a_locked_keyring_as_unavailable(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(LockedKeyring())
    with pytest.raises(KeyStoreUnavailable) as refused:
        KeyringKeyStore(service=TEST_SERVICE).get("x")
    assert "locked" in refused.value.text()


# --- the real OS credential store -------------------------------------------------------


_READ_BACK = """
import sys
from pos_member.crypto import KeyringKeyStore
print(KeyringKeyStore(service=sys.argv[1]).get(sys.argv[2]))
"""


@pytest.mark.keyring_real
def test_keyring_key_store_keeps_a_value_in_the_os_credential_store() -> None:
    store = KeyringKeyStore(service=TEST_SERVICE)
    name, value = f"probe-{uuid.uuid4()}", base64.b64encode(os.urandom(64)).decode()
    try:
        store.put(name, value)
    except KeyStoreUnavailable as e:
        if os.environ.get("POS_MEMBER_REQUIRE_KEYRING") == "1":
            pytest.fail(f"POS_MEMBER_REQUIRE_KEYRING=1 but no OS keyring: {e.text()}")
        pytest.skip(f"no OS keyring reachable (run under scripts/with-keyring.sh): {e.text()}")
    try:
        assert not isinstance(keyring.get_keyring(), DictKeyring | fail.Keyring)
        assert store.get(name) == value
        # Another process sees it: the value lives in the OS store, not in this process.
        other = subprocess.run([sys.executable, "-c", _READ_BACK, TEST_SERVICE, name],
                               capture_output=True, text=True, timeout=60, check=True)
        assert other.stdout.strip() == value
    finally:
        keyring.delete_password(TEST_SERVICE, name)
    assert store.get(name) is None
