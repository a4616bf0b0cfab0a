"""Istiqbal (استقبال): the desktop front desk for clinics.

    main.py [--data-dir DIR] [--lang en|ar] [--port N] [--host H]
            [--server-only] [--connect URL] [--screenshot PNG]

Default: start the embedded branch server (its own thread) on ``--host``:``--port``
(0 = any free port) and open the desk on its URL. ``--server-only`` serves headless (no
Qt is imported on that path). ``--connect URL`` opens a desk against another machine's
server. ``--screenshot PNG`` renders the main window after its first full load and exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from platformdirs import user_data_dir

log = logging.getLogger("istiqbal")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="istiqbal", description="Istiqbal: the desktop front desk for clinics.")
    parser.add_argument("--data-dir", type=Path, default=Path(user_data_dir("Istiqbal")),
                        help="where the branch database lives (default: %(default)s)")
    parser.add_argument("--lang", choices=("en", "ar", "pseudo"), default=None,
                        help="the desk's language for this run (default: the saved one; "
                             "pseudo: stretched, bracketed and right to left, for layout checks)")
    parser.add_argument("--port", type=int, default=0, help="branch server port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="branch server address to listen on")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--server-only", action="store_true", help="run the branch server without a window")
    mode.add_argument("--connect", metavar="URL", help="open a desk on another machine's branch server")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="render the main window to PNG after loading, then exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    from app.sync.cli import add_sync_arguments

    add_sync_arguments(parser)
    args = parser.parse_args(argv)
    if args.server_only and args.screenshot:
        parser.error("--screenshot needs a window; it cannot be used with --server-only")
    return args


def start_server(args: argparse.Namespace):
    from app.server import BranchServer

    args.data_dir.mkdir(parents=True, exist_ok=True)
    from app.sync.cli import server_only_sync

    return BranchServer(args.data_dir, host=args.host, port=args.port, **server_only_sync(args)).start()


def serve_headless(args: argparse.Namespace) -> int:
    try:
        server = start_server(args)
    except (OSError, RuntimeError) as exc:
        log.error("could not start the branch server on %s:%s: %s", args.host, args.port, exc)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("branch server ready at %s (data: %s); stop with Ctrl+C", server.url, args.data_dir)
    print(server.url, flush=True)
    if server.lan_url:
        print(f"LAN desks: {server.lan_url}  certificate SHA-256: {server.fingerprint}", flush=True)
        print(f"pairing code (10 min): {server.app.state.desks.pairing_code()['code']}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("stopping the branch server")
        server.stop()
    return 0


def run_desk(args: argparse.Namespace) -> int:
    from ui import app as desk

    if args.connect:
        return desk.main(args.connect, lang=args.lang, screenshot=args.screenshot)
    try:
        server = start_server(args)
    except (OSError, RuntimeError) as exc:
        log.error("could not start the branch server on %s:%s: %s", args.host, args.port, exc)
        if not args.screenshot:
            desk.show_fatal(args.lang, str(exc))
        return 2
    try:
        return desk.main(server.url, lang=args.lang, screenshot=args.screenshot)
    finally:
        server.stop()


def run_sync(argv: list[str]) -> int:
    """``main.py sync --data-dir D --once``: one full push and pull; exit 0 when nothing is
    left pending, 1 when cases need attention, 2 when changes are still pending, 3 with no cloud."""
    from app.sync.cli import add_sync_arguments, run_sync_command

    parser = argparse.ArgumentParser(prog="istiqbal sync", description="Sync the branch with its cloud.")
    parser.add_argument("--data-dir", type=Path, default=Path(user_data_dir("Istiqbal")))
    add_sync_arguments(parser, once=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return run_sync_command(parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sync"]:
        return run_sync(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    if args.server_only:
        return serve_headless(args)
    return run_desk(args)


if __name__ == "__main__":
    sys.exit(main())
