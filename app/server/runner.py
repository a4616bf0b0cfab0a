"""Run the branch server off the caller's thread (uvicorn in a background thread).

The socket is bound before the thread starts, so a port already in use is reported to the
caller at once (calibre ``srv/embedded.py``); the socket is made with ``IPPROTO_TCP`` so
asyncio turns Nagle off for accepted connections (``shared/STYLE.md``, pitfalls).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = any free port). Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ServerThread:
    """``ServerThread(asgi_app, host, port).start()`` → ``.url``; ``.stop()`` shuts down."""

    def __init__(self, asgi_app, host: str = "127.0.0.1", port: int = 0):
        self.sock = bind(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(asgi_app, log_level="warning", access_log=False, lifespan="on",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="branch-server", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported through .error and the log
            self.error = exc
            log.exception("branch server stopped with an error")

    def start(self, timeout: float = 15.0) -> ServerThread:
        """Start serving; returns once the server accepts requests. Raises RuntimeError."""
        self._thread.start()
        waited = 0.0
        while not self.server.started:
            if self.error or not self._thread.is_alive():
                raise RuntimeError(f"branch server failed to start: {self.error}")
            if waited > timeout:
                raise RuntimeError("branch server did not start in time")
            threading.Event().wait(0.02)
            waited += 0.02
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.sock.close()
