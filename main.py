"""Istiqbal (استقبال): the desktop front desk for clinics.

    main.py [--data-dir DIR] [--lang en|ar] [--port N] [--host H]
            [--server-only] [--connect URL] [--screenshot PNG]

Default: start the embedded branch server (its own thread) on ``--host``:``--port``
(0 = any free port) and open the desk on its URL. ``--server-only`` serves headless (no
Qt is imported on that path). ``--connect URL`` opens a desk against another machine's
server. ``--screenshot PNG`` renders the main window after its first full load and exits.

A plain start (no ``--data-dir``, ``--connect`` or ``--screenshot``) on a machine with no
remembered choice shows the first-run page (demo clinic, cloud account, or a LAN branch
server; ``--first-run`` shows it again). One desk per data directory: a second start
brings the running window to the front (checked before the database opens). Logs go to
stderr and to rotating files in the per-user log directory (:mod:`app.logs`).
``--restore NAME`` puts a backup from ``<data-dir>/backups`` in place before starting.
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
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"where the branch database lives (default: {user_data_dir('Istiqbal')})")
    parser.add_argument("--lang", choices=("en", "ar", "pseudo"), default=None,
                        help="the desk's language for this run (default: the saved one; "
                             "pseudo: stretched, bracketed and right to left, for layout checks)")
    parser.add_argument("--port", type=int, default=0, help="branch server port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="branch server address to listen on")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--server-only", action="store_true", help="run the branch server without a window")
    mode.add_argument("--connect", metavar="URL", help="open a desk on another machine's branch server")
    parser.add_argument("--provider", metavar="NAME_OR_ID",
                        help="open this desk in doctor mode for one provider (doctor or room): its id or its"
                             " name in either language (case and diacritics ignored; the choices are listed"
                             " when it matches none or several)")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="render the main window to PNG after loading, then exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--first-run", action="store_true",
                        help="show the first-run page even when a choice is remembered")
    parser.add_argument("--restore", metavar="NAME",
                        help="restore this backup (from <data-dir>/backups) before starting")
    from app.sync.cli import add_sync_arguments

    add_sync_arguments(parser)
    args = parser.parse_args(argv)
    args.data_dir_given = args.data_dir is not None
    if args.data_dir is None:
        args.data_dir = Path(user_data_dir("Istiqbal"))
    if args.server_only and args.screenshot:
        parser.error("--screenshot needs a window; it cannot be used with --server-only")
    return args


def start_server(args: argparse.Namespace, demo: bool = True):
    from app.server import DB_NAME, BranchServer

    args.data_dir.mkdir(parents=True, exist_ok=True)
    from app.sync.cli import server_only_sync

    if getattr(args, "restore", None):
        from app.store import backup

        backup.schedule_restore(args.data_dir / DB_NAME, args.restore)  # done as the store opens
    return BranchServer(args.data_dir, host=args.host, port=args.port, demo=demo, **server_only_sync(args)).start()


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


def first_run_wanted(args: argparse.Namespace) -> bool:
    """The first-run page: with ``--first-run``, or on a plain start with no remembered choice
    (never with ``--data-dir``, ``--screenshot`` alone or ``--connect``: scripts and tests)."""
    if args.first_run:
        return True
    if args.data_dir_given or args.screenshot or args.connect:
        return False
    from app.settings import start_choice

    return start_choice() is None


def run_desk(args: argparse.Namespace) -> int:
    from ui import app as desk

    if args.connect:
        return desk.main(args.connect, lang=args.lang, screenshot=args.screenshot, provider=args.provider)
    choice = None
    if first_run_wanted(args):
        from ui import first_run

        choice = first_run.run(args.lang, screenshot=args.screenshot)
        if choice is None or isinstance(choice, int):
            return choice or 0  # closed, or the page's screenshot was taken
        if choice["mode"] == "cloud":
            first_run.open_cloud_settings_when_shown()
    elif not args.data_dir_given:
        from app.settings import start_choice

        choice = start_choice()
    if choice and choice["mode"] == "lan":
        return desk.main(choice["url"], lang=args.lang, screenshot=args.screenshot, provider=args.provider)
    # one desk per data directory, decided before the branch server opens the database
    from ui.first_run import app_icon
    from ui.single_instance import SingleInstance

    desk.application().setWindowIcon(app_icon())
    instance = SingleInstance(args.data_dir)
    if not instance.claim():
        if args.screenshot:
            log.error("another desk is running on %s; no screenshot taken", args.data_dir)
            return 3
        return 0
    try:
        server = start_server(args, demo=not (choice and choice["mode"] == "cloud"))
    except (OSError, RuntimeError) as exc:
        log.error("could not start the branch server on %s:%s: %s", args.host, args.port, exc)
        if not args.screenshot:
            desk.show_fatal(args.lang, str(exc))
        return 2
    try:
        return desk.main(server.url, lang=args.lang, screenshot=args.screenshot, provider=args.provider)
    finally:
        server.stop()
        instance.release()


def run_sync(argv: list[str]) -> int:
    """``main.py sync --data-dir D --once``: one full push and pull; exit 0 when nothing is
    left pending, 1 when cases need attention, 2 when changes are still pending, 3 with no cloud."""
    from app.sync.cli import add_sync_arguments, run_sync_command

    parser = argparse.ArgumentParser(prog="istiqbal sync", description="Sync the branch with its cloud.")
    parser.add_argument("--data-dir", type=Path, default=Path(user_data_dir("Istiqbal")))
    add_sync_arguments(parser, once=True)
    from app import logs

    logs.setup(role="sync")
    return run_sync_command(parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sync"]:
        return run_sync(argv[1:])
    args = parse_args(argv)
    from app import logs

    logs.setup(args.verbose, role="server" if args.server_only else "desk")
    if args.server_only:
        return serve_headless(args)
    return run_desk(args)


if __name__ == "__main__":
    sys.exit(main())
