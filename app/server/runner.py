"""Run the branch server off the caller's thread (uvicorn in a background thread).

The socket is bound before the thread starts, so a port already in use is reported to the
caller at once (calibre ``srv/embedded.py``); the socket is made with ``IPPROTO_TCP`` so
asyncio turns Nagle off for accepted connections (``docs/architecture.md``, "Pitfalls").

Proxy headers (``X-Forwarded-For``/``-Proto``, ``Forwarded``) are ignored: a peer cannot
claim another address or scheme. Only when the operator names the proxies in
``forwarded_allow_ips`` (uvicorn's option) are they read, from those addresses only.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass
class Listener:
    """One more socket for the same app: ``certfile``/``keyfile`` make it HTTPS."""

    host: str
    port: int = 0
    certfile: str | None = None
    keyfile: str | None = None


class ServerThread:
    """``ServerThread(asgi_app, host, port).start()`` → ``.url``; ``.stop()`` shuts down.

    ``extra`` listeners (e.g. the LAN's HTTPS socket beside the loopback one) are bound
    here too, before the thread starts, and served by the same event loop; the app's
    lifespan runs once (with the first listener). ``.urls`` lists every listener's URL.
    """

    def __init__(
        self,
        asgi_app,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        extra: Sequence[Listener] = (),
        certfile: str | None = None,
        keyfile: str | None = None,
        forwarded_allow_ips: str | None = None,
    ):
        listeners = [Listener(host, port, certfile, keyfile), *extra]
        self.socks, self.servers, self.urls = [], [], []
        try:
            for index, listener in enumerate(listeners):
                sock = bind(listener.host, listener.port)
                self.socks.append(sock)
                config = uvicorn.Config(
                    asgi_app,
                    log_level="warning",
                    access_log=False,
                    lifespan="on" if index == 0 else "off",
                    timeout_graceful_shutdown=2,
                    ssl_certfile=listener.certfile,
                    ssl_keyfile=listener.keyfile,
                    proxy_headers=bool(forwarded_allow_ips),
                    forwarded_allow_ips=forwarded_allow_ips or "",
                )
                self.servers.append(uvicorn.Server(config))
                bound_host, bound_port = sock.getsockname()[:2]
                scheme = "https" if listener.certfile else "http"
                shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
                shown = f"[{shown}]" if ":" in shown else shown
                self.urls.append(f"{scheme}://{shown}:{bound_port}")
        except OSError:
            for sock in self.socks:
                sock.close()
            raise
        self.sock, self.server = self.socks[0], self.servers[0]
        self.host, self.port = self.sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._run, name="branch-server", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def alive(self) -> bool:
        """True while the serving thread runs (False before start and once it has ended)."""
        return self._thread.is_alive()

    async def _serve_all(self) -> None:
        await asyncio.gather(
            *(server.serve(sockets=[sock]) for server, sock in zip(self.servers, self.socks, strict=True))
        )

    def _run(self) -> None:
        try:
            # a plain asyncio loop of its own, whatever loop policy the desk's GUI thread
            # installed (qasync's would make a Qt loop here when started from a worker thread)
            with asyncio.Runner(loop_factory=asyncio.DefaultEventLoopPolicy().new_event_loop) as runner:
                runner.run(self._serve_all())
        except BaseException as exc:  # reported through .error and the log
            self.error = exc
            log.exception("branch server stopped with an error")

    def start(self, timeout: float = 15.0) -> ServerThread:
        """Start serving; returns once every listener accepts requests. Raises RuntimeError."""
        self._thread.start()
        waited = 0.0
        while not all(server.started for server in self.servers):
            if self.error or not self._thread.is_alive():
                raise RuntimeError(f"branch server failed to start: {self.error}")
            if waited > timeout:
                raise RuntimeError("branch server did not start in time")
            threading.Event().wait(0.02)
            waited += 0.02
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        for sock in self.socks:
            sock.close()
