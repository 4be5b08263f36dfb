"""HQ behind the chain's own certificate authority (``hq_ca`` in config.toml): a till told to
trust the chain's CA enrols and syncs over real HTTPS on loopback; one that is not told refuses
the certificate and changes nothing, whether it trusts the bundled public CAs or the system's
store."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pos_member.clock import FakeClock
from pos_member_app.cli import main
from sync.server import services
from sync.server.app import create_app
from tests.keyrings import DictKeyring
from tests.server.live import migrated, serve


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def chain_ca(folder: Path) -> tuple[Path, tuple[Path, Path]]:
    """A chain's CA and HQ's certificate for 127.0.0.1 signed by it: (ca.pem, (cert, key))."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("连锁总部 CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("hq")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "hq.pem", folder / "hq.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem(key))
    return paths[0], (paths[1], paths[2])


@pytest.fixture
def https_hq(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """HQ over HTTPS with the chain's CA: (base URL, ca.pem, an enrolment code of store 1)."""
    url = f"sqlite:///{tmp_path / 'hq.sqlite'}"
    migrated(url)
    app = create_app(url, clock=FakeClock())
    services.create_store(app.state.ctx, number=1, name="一号店")
    code = services.issue_enrolment_code(app.state.ctx, store_number=1).code
    ca, tls = chain_ca(tmp_path)
    previous = keyring.get_keyring()
    keyring.set_keyring(DictKeyring())
    try:
        with serve(app, tls=tls) as base_url:
            yield base_url, ca, code
    finally:
        keyring.set_keyring(previous)


def enrol(base_url: str, code: str, data: Path, config: Path) -> int:
    return main(["enrol", "--server", base_url, "--code", code, "--data-dir", str(data),
                 "--config", str(config), "--admin-code", "900", "--admin-pin", "246810"])


def test_a_till_trusting_the_chains_ca_enrols_and_syncs(
        https_hq: tuple[str, Path, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    base_url, ca, code = https_hq
    config = tmp_path / "config.toml"
    config.write_text(f"hq_ca = '{ca}'\n", encoding="utf-8")
    data = tmp_path / "till"
    assert enrol(base_url, code, data, config) == 0
    assert "Enrolled: store 1 一号店" in capsys.readouterr().out
    assert main(["sync", "--data-dir", str(data), "--config", str(config)]) == 0


@pytest.mark.parametrize("trust", ["", "hq_ca = 'system'\n"])
def test_a_till_not_told_of_the_chains_ca_refuses_hq_and_changes_nothing(
        https_hq: tuple[str, Path, str], tmp_path: Path, trust: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    base_url, ca, code = https_hq
    config = tmp_path / "config.toml"
    config.write_text(trust, encoding="utf-8")
    data = tmp_path / "till"
    assert enrol(base_url, code, data, config) == 1
    assert "certificate" in capsys.readouterr().err.lower()
    config.write_text(f"hq_ca = '{ca}'\n", encoding="utf-8")
    assert enrol(base_url, code, data, config) == 0  # the code was not spent
