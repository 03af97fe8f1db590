"""Make the bridge's certificates: ``python -m mt5guard.terminal.bridge.certs DIR``.

A private CA (its key is thrown away once it has signed), a server and a
client certificate, written as two folders, one for each side::

    DIR/bridge/  ca.pem server.pem server.key client.pem   (server.py --tls DIR/bridge)
    DIR/client/  ca.pem client.pem client.key server.pem   (terminal.tls: DIR/client)

Each side pins the other's certificate (see ``_tls.py``), so rotating is
running this again and giving both sides their new folder. Private keys are
written with mode 0600 (the folders 0700). Needs ``mt5guard[tls]``
(``cryptography``) on the machine that runs it; the bridge itself stays
standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from typing import Any

__all__ = ["main", "make_certificates"]

_DAYS = 825


def _name(common: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: str, key: Any, issuer: str, signer: Any, *, ca: bool,
                 client: bool, days: int) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(subject)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _write(path: str, data: bytes, private: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(path, flags, 0o600 if private else 0o644), "wb") as file:
        file.write(data)
    if private:
        os.chmod(path, 0o600)


def make_certificates(folder: str, *, days: int = _DAYS) -> tuple[str, str]:
    """Write a fresh CA, server and client certificate; ``(bridge folder, client folder)``."""
    from cryptography.hazmat.primitives import serialization

    ca_key = _key()
    ca = _certificate("mt5guard bridge CA", ca_key, "mt5guard bridge CA", ca_key, ca=True,
                      client=False, days=days)
    pem = serialization.Encoding.PEM
    files: dict[str, tuple[bytes, bool]] = {"ca.pem": (ca.public_bytes(pem), False)}
    for role in ("server", "client"):
        key = _key()
        cert = _certificate(f"mt5guard-{role}", key, "mt5guard bridge CA", ca_key, ca=False,
                            client=role == "client", days=days)
        files[f"{role}.pem"] = (cert.public_bytes(pem), False)
        files[f"{role}.key"] = (key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()), True)
    sides = {"bridge": ("ca.pem", "server.pem", "server.key", "client.pem"),
             "client": ("ca.pem", "client.pem", "client.key", "server.pem")}
    for side, names in sides.items():
        target = os.path.join(folder, side)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.makedirs(target, mode=0o700)
        os.chmod(target, 0o700)
        for name in names:
            data, private = files[name]
            _write(os.path.join(target, name), data, private)
    return os.path.join(folder, "bridge"), os.path.join(folder, "client")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mt5guard.terminal.bridge.certs",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="where to write bridge/ and client/ (replaced if present)")
    parser.add_argument("--days", type=int, default=_DAYS, help="validity (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        bridge, client = make_certificates(args.folder, days=args.days)
    except ImportError:
        print("the cryptography package is missing: pip install 'mt5guard[tls]'", file=sys.stderr)
        return 2
    print(f"bridge side: {bridge}  (server.py --tls {bridge})")
    print(f"client side: {client}  (terminal.tls: {client})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
