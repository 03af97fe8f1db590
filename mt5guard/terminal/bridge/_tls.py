"""TLS for the bridge, both ways, with each side pinning the other's certificate.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`. The
certificates come from ``python -m mt5guard.terminal.bridge.certs DIR``: a
private CA that signs one server and one client certificate. A side accepts
a peer only if its chain ends at that CA *and* its certificate is exactly
the one in the folder (SHA-256 of its DER form): a second certificate from
the same CA, or from any public CA, is refused. Host names are not checked:
the pin is stronger, and the bridge's address is whatever the operator uses.

The bridge reads ``ca.pem``, ``server.pem``, ``server.key`` and ``client.pem``
from its folder; mt5guard reads ``ca.pem``, ``client.pem``, ``client.key`` and
``server.pem`` from its own. A private key readable by group or others is
refused.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from typing import Any

__all__ = ["TlsSide", "client_side", "fingerprint", "server_side"]


def fingerprint(pem_path: str) -> bytes:
    """SHA-256 of the DER form of the certificate in ``pem_path``."""
    with open(pem_path, encoding="ascii") as file:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(file.read())).digest()


def _private(path: str) -> str:
    if os.name == "posix":
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise PermissionError(f"{path} is readable by group or others (mode "
                                  f"{mode & 0o777:o}); chmod 600 {path}")
    return path


class TlsSide:
    """One side's context and the certificate it pins on the other side."""

    def __init__(self, context: ssl.SSLContext, pin: bytes) -> None:
        self.context, self.pin = context, pin

    def check(self, sock: Any) -> None:
        """Raise ``ssl.SSLError`` unless the peer presented exactly the pinned certificate."""
        der = sock.getpeercert(binary_form=True)
        if der is None or hashlib.sha256(der).digest() != self.pin:
            raise ssl.SSLError("the peer's certificate is not the pinned one")


def _context(purpose: int, folder: str, mine: str, theirs: str) -> TlsSide:
    context = ssl.SSLContext(purpose)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(os.path.join(folder, "ca.pem"))
    context.load_cert_chain(os.path.join(folder, f"{mine}.pem"),
                            _private(os.path.join(folder, f"{mine}.key")))
    return TlsSide(context, fingerprint(os.path.join(folder, f"{theirs}.pem")))


def server_side(folder: str) -> TlsSide:
    """The bridge's side: its certificate, the client's pinned."""
    return _context(ssl.PROTOCOL_TLS_SERVER, folder, "server", "client")


def client_side(folder: str) -> TlsSide:
    """mt5guard's side: its client certificate, the bridge's pinned."""
    return _context(ssl.PROTOCOL_TLS_CLIENT, folder, "client", "server")
