"""The integration token in the real OS credential store: what another process finds there is
the token's fingerprint and scopes, never the token; issuing again replaces it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime

import keyring
import pytest

from pos_member.crypto import KeyringKeyStore
from pos_member.integration.tokens import Authenticator, issue_token, keystore_name, load_token
from tests.keyring_check import require_os_keyring

SERVICE = "pos-member-test-integration"
_READ_BACK = """
import sys
from pos_member.crypto import KeyringKeyStore
print(KeyringKeyStore(service=sys.argv[1]).get(sys.argv[2]))
"""


@pytest.mark.keyring_real
def test_the_os_store_keeps_the_tokens_fingerprint_and_the_till_accepts_the_token() -> None:
    require_os_keyring()
    store, device = KeyringKeyStore(service=SERVICE), str(uuid.uuid4())
    now = datetime(2026, 12, 4, 10, tzinfo=UTC)
    try:
        token, _ = issue_token(store, device_id=device, now=now)
        kept = subprocess.run([sys.executable, "-c", _READ_BACK, SERVICE,
                               keystore_name(device)], capture_output=True, text=True,
                              timeout=60, check=True).stdout
        assert '"sha256"' in kept and token not in kept
        record = load_token(store, device_id=device)
        assert record is not None and Authenticator(record).check(token)
        second, _ = issue_token(store, device_id=device, now=now)
        auth = Authenticator(load_token(store, device_id=device))
        assert auth.check(second)
        with pytest.raises(Exception, match="wrong"):
            auth.check(token)
    finally:
        keyring.delete_password(SERVICE, keystore_name(device))
