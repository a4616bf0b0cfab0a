"""The branch server's own TLS certificate for LAN desks, and the pin check desks use.

Off loopback the server speaks HTTPS with a self-signed certificate it makes on first
start and keeps in its data dir (``server-cert.pem``, ``server-key.pem`` readable by the
owner only). Desks do not trust it through a CA: pairing gives them the SHA-256
fingerprint of the certificate's DER bytes (lower-case hex), and they refuse any server
that presents another one — the Syncthing device-id way.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.trust import PinMismatch, fingerprint_of, normalize_fingerprint, pinned_context

__all__ = ["PinMismatch", "ensure_certificate", "fingerprint_of", "normalize_fingerprint", "pinned_context"]

CERT_NAME, KEY_NAME = "server-cert.pem", "server-key.pem"


def ensure_certificate(data_dir: str | Path, names: list[str] | None = None) -> tuple[Path, Path, str]:
    """The server's certificate and key files in ``data_dir`` (made on first call: EC P-256,
    10 years, SANs ``localhost``, the host name, 127.0.0.1 and ``names``) and the
    certificate's fingerprint. Returns ``(cert_path, key_path, fingerprint)``."""
    data_dir = Path(data_dir)
    cert_path, key_path = data_dir / CERT_NAME, data_dir / KEY_NAME
    if not (cert_path.exists() and key_path.exists()):
        data_dir.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = _generate(["localhost", socket.gethostname(), "127.0.0.1", *(names or [])])
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        cert_path.write_bytes(cert_pem)
    der = ssl.PEM_cert_to_DER_cert(cert_path.read_text())
    return cert_path, key_path, fingerprint_of(der)


def _generate(names: list[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Istiqbal branch server")])
    alt: list[x509.GeneralName] = []
    for name in dict.fromkeys(n for n in names if n):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
