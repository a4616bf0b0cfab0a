"""Serve a simulated cloud's ASGI app on 127.0.0.1 in a background thread (uvicorn), the
pieces every simulator shares: :func:`serve_in_thread`, :class:`RunningCloud` (the started
cloud), :func:`http_errors` (Starlette's own 404/405 in the cloud's error shape) and, for
``python -m tests.clouds.<name>``, :func:`runner_arguments` and :func:`serve_until_interrupted`.
Imports nothing from ``app/`` (the simulators stand for the clouds, not the desk).

The socket is bound before the server thread starts, so a bind failure (a port in use)
raises in the caller, and it is made with ``IPPROTO_TCP`` so accepted connections get
``TCP_NODELAY`` (an asyncio server on a plain ``socket.socket`` leaves Nagle's algorithm on
and every reply waits about 40 ms).
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse


def serve_in_thread(app, port: int, name: str) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Start ``app`` on 127.0.0.1:``port`` (0 = any free); returns the server, its thread and
    the bound port once it accepts connections. Raises OSError when the port cannot be bound,
    RuntimeError when the server does not start within 10 s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    config = uvicorn.Config(
        app, http="h11", lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the simulated cloud {name} did not start")
        time.sleep(0.005)
    return server, thread, sock.getsockname()[1]


class RunningCloud:
    """A started cloud: ``cloud``, ``port``, ``root`` (``http://127.0.0.1:<port>``), ``admin``
    (the ``X-Sim-Admin`` header of a cloud with an ``admin_key``); ``stop()`` or use ``with``.
    Each simulator's own class adds its ``url`` and the headers a client sends."""

    def __init__(self, cloud, server: uvicorn.Server, thread: threading.Thread, port: int):
        self.cloud = cloud
        self.port = port
        self.root = f"http://127.0.0.1:{port}"
        self._server, self._thread = server, thread

    @property
    def admin(self) -> dict:
        return {"X-Sim-Admin": self.cloud.admin_key}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def http_errors(body: Callable[[int, str], dict]) -> dict:
    """Starlette's ``exception_handlers`` for its own HTTP errors (an unknown path: 404, a
    wrong method: 405): the reply is ``body(status, detail)`` as JSON with that status, so
    even these speak the cloud's error shape (each API reference's "Errors")."""

    async def handler(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(body(exc.status_code, str(exc.detail)), status_code=exc.status_code)

    return {HTTPException: handler}


def runner_arguments(
    name: str, doc: str | None, port: int, *, seed: bool = True, admin_key: bool = True
) -> argparse.ArgumentParser:
    """The argument parser of ``python -m tests.clouds.<name>``: ``--port`` (``port`` by
    default; 0 = any free port) and, unless told not to, ``--seed`` of the generated clinic
    and a fixed ``--admin-key``. The simulator adds its own arguments."""
    parser = argparse.ArgumentParser(prog=f"python -m tests.clouds.{name}", description=doc)
    parser.add_argument("--port", type=int, default=port, help="port on 127.0.0.1 (0 = any free port)")
    if seed:
        parser.add_argument("--seed", type=int, default=7, help="seed of the generated clinic")
    if admin_key:
        parser.add_argument("--admin-key", help="fixed X-Sim-Admin key (default: generated)")
    return parser


def serve_until_interrupted(running: RunningCloud, lines: list[str]) -> None:
    """Print ``lines`` (how to reach the cloud) and, for a cloud with an ``admin_key``, its
    admin address; keep serving in the foreground until Ctrl+C; the cloud is stopped on the
    way out."""
    with running:
        for line in lines:
            print(line)
        if getattr(running.cloud, "admin_key", None):
            print(f"admin (X-Sim-Admin: {running.cloud.admin_key}): {running.root}/_sim/...")
        print("Ctrl+C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
