"""Serve a simulated cloud's ASGI app on 127.0.0.1 in a background thread (uvicorn).

The socket is bound before the server thread starts, so a bind failure (a port in use)
raises in the caller, and it is made with ``IPPROTO_TCP`` so accepted connections get
``TCP_NODELAY`` (an asyncio server on a plain ``socket.socket`` leaves Nagle's algorithm on
and every reply waits about 40 ms).
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


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
    config = uvicorn.Config(app, http="h11", lifespan="off", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=1)
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
