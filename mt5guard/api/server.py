"""Serving the app with uvicorn on a thread of its own (no signal handlers: it is
not the main thread), bound before any account connects, like the health endpoint."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn
from starlette.applications import Starlette

__all__ = ["ApiServer"]

_log = logging.getLogger("mt5guard.api")


class ApiServer:
    """The same surface as :class:`~mt5guard.observability.HealthServer`: start, announce,
    stop, port, url. ``certfile``/``keyfile`` (PEM) serve HTTPS."""

    def __init__(self, app: Starlette, *, host: str = "127.0.0.1", port: int = 0,
                 certfile: str | None = None, keyfile: str | None = None) -> None:
        self._host, self._requested_port = host, port
        self._tls = certfile is not None
        self._config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", log_config=None, access_log=False,
            server_header=False, timeout_graceful_shutdown=1, ssl_certfile=certfile,
            ssl_keyfile=keyfile)
        self._server = uvicorn.Server(self._config)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self, *, announce: bool = True) -> None:
        """Bind (``OSError`` naming the config keys if it cannot) and serve in the background."""
        if self._thread is not None:
            raise RuntimeError("api server already started")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:  # as uvicorn binds (asyncio listens on it); a socket already listening stalls h11
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted ones
            sock.bind((self._host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot bind the health endpoint and api to {self._host}:"
                          f"{self._requested_port} ({exc.strerror or exc}); choose another "
                          "observability.http.host / observability.http.port") from exc
        self._socket = sock
        ready = threading.Event()

        def serve() -> None:
            async def main() -> None:
                task = asyncio.create_task(self._server.serve(sockets=[sock]))
                while not self._server.started and not task.done():
                    await asyncio.sleep(0.005)
                ready.set()
                await task

            try:
                asyncio.run(main())
            finally:
                ready.set()

        self._thread = threading.Thread(target=serve, name=f"mt5guard-api:{self.port}", daemon=True)
        self._thread.start()
        ready.wait(10.0)
        if announce:
            self.announce()

    def announce(self) -> None:
        _log.info("health endpoint listening on %s", self.url)
        _log.info("trading api listening on %s/v1 (OpenAPI: %s/v1/openapi.json)", self.url, self.url)

    def stop(self) -> None:
        """Stop serving (open streams are closed within ~1 s). Idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._server.should_exit = True
        thread.join(timeout=3.0)
        if self._socket is not None:
            self._socket.close()

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("api server is not running")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{'https' if self._tls else 'http'}://{host}:{self.port}"
