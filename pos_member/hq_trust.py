"""Which certificates the till trusts for HQ's HTTPS address (``hq_ca`` in ``config.toml``).

A chain's HQ often sits behind the chain's own certificate authority, which the certificates
bundled with httpx (certifi) do not know. ``hq_ca`` says what to trust instead:

- absent: the bundled public authorities (httpx's default);
- ``"system"``: the operating system's store (``truststore``: Windows' certificate store, where
  a chain's IT rolls out its CA by group policy; macOS' keychain; OpenSSL's store on Linux);
- a path: that PEM file of one or more CA certificates (the chain's CA alone is trusted).

The setting is checked when the config is read — a missing or unreadable file is refused there,
naming the key — so a till never starts with a trust it cannot use.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pos_member.errors import ConfigInvalid

SYSTEM = "system"
KEY = "hq_ca"

Verify = ssl.SSLContext | bool  # what httpx's ``verify=`` takes


def hq_verify(hq_ca: str | None) -> Verify:
    """The ``verify`` for HQ's client; ``ConfigInvalid`` when ``hq_ca`` cannot be used."""
    if hq_ca is None:
        return True
    if hq_ca == SYSTEM:
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    path = Path(hq_ca).expanduser()
    if not path.is_file():
        raise ConfigInvalid(field=KEY, problem=f'no file {path} (a PEM file, or "{SYSTEM}")')
    try:
        return ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, UnicodeDecodeError) as e:
        raise ConfigInvalid(field=KEY,
                            problem=f"{path} is not a PEM certificate file: {e}") from None
