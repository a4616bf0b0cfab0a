"""Run the simulated cloud on 127.0.0.1 in a background thread (uvicorn).

The socket is bound before the server thread starts (a bind failure raises here, in the
caller) and is made with ``IPPROTO_TCP`` so accepted connections get ``TCP_NODELAY``
(``shared/STYLE.md``, "Embedded server" and the Nagle note).
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from .app import build_app
from .cloud import EhjznyCloud


class RunningCloud:
    """A started cloud: ``url``, ``cloud``, ``app_id``, ``api_key``; ``stop()`` or use ``with``."""

    def __init__(self, cloud: EhjznyCloud, server: uvicorn.Server, thread: threading.Thread, port: int):
        self.cloud = cloud
        self.url = f"http://127.0.0.1:{port}"
        self._server = server
        self._thread = thread

    @property
    def app_id(self) -> str:
        return self.cloud.app_id

    @property
    def api_key(self) -> str:
        return self.cloud.api_key

    @property
    def headers(self) -> dict:
        """Headers a management client sends (app id and the API key)."""
        return {"X-APP-ID": self.app_id, "Authorization": f"Bearer {self.api_key}"}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningCloud:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_cloud(port: int = 0, clinic: dict | None = None, clock=None,
                **options) -> RunningCloud:
    """Start a cloud serving ``clinic`` (the shape of :meth:`CloudState.load`) on ``port`` (0 = free).

    ``clock`` is any object with ``now()`` (aware UTC) and ``shift(timedelta)``.
    ``options`` go to :class:`EhjznyCloud` (``zone``, ``app_id``, ``api_key``,
    ``access_token_ttl``, ``page_token_ttl``, ``otp_code``, ``fault_seed``, ``extensions``).
    """
    cloud = EhjznyCloud(clock, **options)
    if clinic:
        cloud.load(clinic)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    config = uvicorn.Config(build_app(cloud), http="h11", lifespan="off", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ehjzny-sim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the simulated Ehjzny cloud did not start")
        time.sleep(0.005)
    return RunningCloud(cloud, server, thread, sock.getsockname()[1])
