"""Run the simulated cloud on 127.0.0.1 in a background thread (uvicorn, through
:func:`tests.clouds.serving.serve_in_thread`: bound before the thread starts, TCP_NODELAY)."""

from __future__ import annotations

import threading

import uvicorn

from .. import serving
from ..serving import serve_in_thread
from .app import build_app
from .cloud import EhjznyCloud


class RunningCloud(serving.RunningCloud):
    """A started cloud: ``url``, ``cloud``, ``app_id``, ``api_key``; ``stop()`` or use ``with``."""

    def __init__(self, cloud: EhjznyCloud, server: uvicorn.Server, thread: threading.Thread, port: int):
        super().__init__(cloud, server, thread, port)
        self.url = self.root

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


def start_cloud(port: int = 0, clinic: dict | None = None, clock=None, **options) -> RunningCloud:
    """Start a cloud serving ``clinic`` (the shape of :meth:`CloudState.load`) on ``port`` (0 = free).

    ``clock`` is any object with ``now()`` (aware UTC) and ``shift(timedelta)``.
    ``options`` go to :class:`EhjznyCloud` (``zone``, ``app_id``, ``api_key``,
    ``access_token_ttl``, ``page_token_ttl``, ``otp_code``, ``fault_seed``, ``extensions``).
    """
    cloud = EhjznyCloud(clock, **options)
    if clinic:
        cloud.load(clinic)
    server, thread, bound = serve_in_thread(build_app(cloud), port, "ehjzny-sim")
    return RunningCloud(cloud, server, thread, bound)
