"""Whether the OS credential store (Secret Service / GNOME Keyring on Linux) is reachable.

Tests that need the real one are marked ``keyring_real`` and call :func:`require_os_keyring`:
they are skipped when no keyring is reachable, unless ``POS_MEMBER_REQUIRE_KEYRING=1`` (as
``make test`` and CI set it), where a missing keyring fails them instead of hiding them.
Run them with ``scripts/with-keyring.sh``, which starts D-Bus and an unlocked GNOME Keyring.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import pytest

PROBE_SERVICE = "pos-member-test-probe"

# Run in a fresh interpreter, like the program under test: no keyring backend a test may have
# set in this process can make the answer look better than it is.
_PROBE = """
import sys, uuid
from pos_member.crypto import KeyringKeyStore
from pos_member.errors import KeyStoreUnavailable
store, name, value = KeyringKeyStore(service=sys.argv[1]), f"probe-{uuid.uuid4()}", uuid.uuid4().hex
try:
    store.put(name, value)
    ok = store.get(name) == value
    import keyring
    keyring.delete_password(sys.argv[1], name)
except KeyStoreUnavailable as e:
    print(e.text()); sys.exit(1)
if not ok:
    print("the keyring did not give back what was stored"); sys.exit(1)
"""


@functools.cache
def os_keyring_problem() -> str | None:
    """None when a value round-trips through the OS keyring, else what went wrong."""
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE, PROBE_SERVICE],
                               capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "the keyring did not answer within 60 s (locked, waiting for a password?)"
    if probe.returncode != 0:
        lines = (probe.stdout.strip() or probe.stderr.strip()).splitlines()
        return lines[-1] if lines else f"the probe exited with status {probe.returncode}"
    return None


def require_os_keyring() -> None:
    """Skips the calling test without an OS keyring, or fails it if one is required."""
    problem = os_keyring_problem()
    if problem is None:
        return
    if os.environ.get("POS_MEMBER_REQUIRE_KEYRING") == "1":
        pytest.fail(f"POS_MEMBER_REQUIRE_KEYRING=1 but the OS keyring is not reachable: {problem}")
    pytest.skip(f"no OS keyring reachable (run under scripts/with-keyring.sh): {problem}")
