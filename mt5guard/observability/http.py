"""The health endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` over HTTP.

Built on :mod:`http.server` so it adds no dependency. The accept loop runs on
one daemon thread; each request is answered on a short-lived daemon thread, so
a slow ``readiness()`` never blocks ``/healthz``. Nothing here touches global
state: no signal handlers, no logging configuration, access logs go to the
``mt5guard.http`` logger at DEBUG.
"""

from __future__ import annotations

import enum
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST

from mt5guard.observability.metrics import Metrics

__all__ = ["HealthServer", "HealthServerBindError", "Readiness", "readiness_report"]

_log = logging.getLogger("mt5guard.http")

Readiness = Callable[[], Mapping[str, Mapping[str, Any]]]
"""Returns, per account name, a report whose ``"status"`` is ``"SERVING"`` when ready."""

_JSON = "application/json"
_POLL_INTERVAL = 0.05
"""Seconds between shutdown checks of the accept loop; bounds how long stop() takes."""


class HealthServerBindError(OSError):
    """The endpoint could not bind its address (port in use, bad host, no permission)."""


class HealthServer:
    """Serves ``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics``.

    ``readiness`` is called on a request thread for every ``/readyz``; it must
    be thread-safe and quick (ask actors with a timeout). ``/readyz`` answers
    200 only when there is at least one account and every account's report has
    ``"status": "SERVING"``; otherwise, or when ``readiness`` raises, 503.
    ``metrics=None`` turns ``/metrics`` into a 404.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        readiness: Readiness,
        metrics: Metrics | None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._readiness = readiness
        self._metrics = metrics
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, *, announce: bool = True) -> None:
        """Bind and start serving in the background; ``port=0`` picks a free port.

        Raises :class:`HealthServerBindError` (an ``OSError``) naming the
        address and the config key when the address cannot be bound.
        ``announce=False`` leaves the "listening on" log line to
        :meth:`announce` (run.py binds first and announces once started).
        """
        with self._lock:
            if self._server is not None:
                raise RuntimeError("health server already started")
            try:
                server = _Server(self._host, self._requested_port, self._readiness, self._metrics)
            except OSError as exc:
                raise HealthServerBindError(
                    exc.errno,
                    f"cannot bind the health endpoint to {self._host}:{self._requested_port} "
                    f"({exc.strerror or exc}); choose another observability.http.host / "
                    "observability.http.port (0 picks a free port)",
                ) from exc
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL},
                name=f"mt5guard-http:{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        if announce:
            self.announce()

    def announce(self) -> None:
        """Log the URL it serves on."""
        _log.info("health endpoint listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent; returns within ~0.1 s
        (a request already being answered finishes on its own daemon thread)."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(timeout=1.0)

    @property
    def port(self) -> int:
        """The bound TCP port (the real one when constructed with ``port=0``)."""
        server = self._server
        if server is None:
            raise RuntimeError("health server is not running")
        return int(server.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port`` of the running endpoint."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, host: str, port: int, readiness: Readiness, metrics: Metrics | None
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.readiness = readiness
        self.metrics = metrics
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a client hanging up is routine.
        _log.debug("error answering %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10.0  # seconds a client may take to send its request
    server_version = "mt5guard"
    sys_version = ""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send_json(200, {"status": "alive"})
        elif path == "/readyz":
            self._readyz()
        elif path == "/metrics" and self.server.metrics is not None:
            self._send(200, CONTENT_TYPE_LATEST, self.server.metrics.render())
        else:
            self._send_json(404, {"error": "not found", "path": path})

    def _readyz(self) -> None:
        status, body = readiness_report(self.server.readiness)
        self._send_json(status, body)

    def _method_not_allowed(self) -> None:
        self._send_json(405, {"error": "method not allowed"}, extra={"Allow": "GET"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def do_HEAD(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "GET")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_json(
        self, status: int, body: Mapping[str, Any], extra: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body, default=_plain, sort_keys=True).encode()
        self._send(status, _JSON, data, extra)

    def _send(
        self, status: int, content_type: str, data: bytes, extra: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)


def readiness_report(
    readiness: Callable[[], Mapping[str, Mapping[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """``/readyz``'s answer as (HTTP status, JSON-ready body), for a host's own server.

    ``readiness`` is e.g. ``guard.status.snapshot``: 200 when there is at least
    one account and every one is SERVING, else 503 (also when it raises).
    """
    try:
        reports = readiness()
        accounts = {str(name): {k: _plain(v) for k, v in report.items()}
                    for name, report in reports.items()}
    except Exception as exc:
        _log.warning("readiness check failed: %s", type(exc).__name__, exc_info=True)
        return 503, {"ready": False, "accounts": {}, "error": type(exc).__name__}
    ready = bool(accounts) and all(report.get("status") == "SERVING" for report in accounts.values())
    return (200 if ready else 503), {"ready": ready, "accounts": accounts}


def _plain(value: Any) -> Any:
    """JSON stand-in for values readiness reports may hold (enums, datetimes)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
