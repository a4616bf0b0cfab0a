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
import sys
from pathlib import Path

from app.user_dirs import data_dir

log = logging.getLogger("istiqbal")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="istiqbal", description="Istiqbal: the desktop front desk for clinics."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help=f"where the branch database lives (default: {data_dir()})"
    )
    parser.add_argument(
        "--lang",
        choices=("en", "ar", "pseudo"),
        default=None,
        help="the desk's language for this run (default: the saved one; "
        "pseudo: stretched, bracketed and right to left, for layout checks)",
    )
    parser.add_argument("--port", type=int, default=0, help="branch server port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="branch server address to listen on")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--server-only", action="store_true", help="run the branch server without a window")
    mode.add_argument("--connect", metavar="URL", help="open a desk on another machine's branch server")
    parser.add_argument(
        "--provider",
        metavar="NAME_OR_ID",
        help="open this desk in doctor mode for one provider (doctor or room): its id or its"
        " name in either language (case and diacritics ignored; the choices are listed"
        " when it matches none or several)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the main window to PNG after loading, then exit",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--first-run", action="store_true", help="show the first-run page even when a choice is remembered"
    )
    parser.add_argument(
        "--restore", metavar="NAME", help="restore this backup (from <data-dir>/backups) before starting"
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        default=None,
        help="trust X-Forwarded-* headers from these proxy addresses (comma-separated; default: ignore them)",
    )
    args = _parse(parser, sys.argv[1:] if argv is None else argv)
    args.data_dir_given = args.data_dir is not None
    if args.data_dir is None:
        args.data_dir = data_dir()
    if args.server_only and args.screenshot:
        parser.error("--screenshot needs a window; it cannot be used with --server-only")
    return args


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``argv`` parsed with the cloud sync options added (:mod:`app.composition.sync_cli`)
    only when they may be there: listing them means finding every connector (and importing
    the branch server's package), work the desk's start-up path leaves to the server's
    thread. Every ``--option`` of ``argv`` must be one of the desk's own, spelled out, to
    skip them; otherwise (a cloud option, an abbreviation, ``--help``) the full parser
    decides, with the same result and messages as always."""
    own = {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}
    if all(not word.startswith("-") or word.split("=", 1)[0] in own for word in argv):
        return parser.parse_args(argv)
    from app.composition.sync_cli import add_sync_arguments

    add_sync_arguments(parser)
    return parser.parse_args(argv)


def start_server(
    args: argparse.Namespace,
    demo: bool = True,
    local_token_file: bool = False,
    local_token: str | None = None,
):
    """The branch server for ``args`` (started). The branch lock is taken first, before a
    ``--restore`` is scheduled or the database is read, and freed when anything fails.
    ``local_token_file`` also writes the server's token to ``<data-dir>/local-token``;
    ``local_token`` keeps a given token (a restart of the embedded server). Raises
    DataDirInUse (a RuntimeError) when another process holds the branch, OSError for a port
    in use or an unknown backup."""
    from app.composition import DB_NAME, BranchServer, claim_data_dir

    lock = claim_data_dir(args.data_dir)
    try:
        from app.composition.sync_cli import server_only_sync

        if getattr(args, "restore", None):
            from app.store import backup

            backup.schedule_restore(args.data_dir / DB_NAME, args.restore)  # done as the store opens
        options = server_only_sync(args, claim=lock)
        return BranchServer(
            args.data_dir,
            host=args.host,
            port=args.port,
            demo=demo,
            claim=lock,
            local_token_file=local_token_file,
            local_token=local_token,
            forwarded_allow_ips=getattr(args, "forwarded_allow_ips", None),
            **options,
        ).start()
    except BaseException:
        lock.release()
        raise


def serve_headless(args: argparse.Namespace) -> int:
    """The headless branch server until SIGINT/SIGTERM/SIGHUP (any number, in any burst):
    the signals are read on the main thread (:mod:`app.stop_signals`), never handled inside
    a signal handler, and the branch is freed on every way out."""
    from app.stop_signals import StopSignals

    stop = StopSignals()  # before anything starts: a signal during start-up stops it right after
    try:
        server = start_server(args, local_token_file=True)  # <data-dir>/local-token for scripts
    except (OSError, RuntimeError) as exc:
        log.error("could not start the branch server on %s:%s: %s", args.host, args.port, exc)
        return 2
    try:
        log.info("branch server ready at %s (data: %s); stop with Ctrl+C", server.url, args.data_dir)
        print(server.url, flush=True)
        if server.lan_url:
            print(f"LAN desks: {server.lan_url}  certificate SHA-256: {server.fingerprint}", flush=True)
            print(f"pairing code (10 min): {server.app.state.desks.pairing_code()['code']}", flush=True)
        signum = stop.wait()
        log.info("stopping the branch server (signal %d)", signum)
    finally:
        server.stop()
        stop.ignore_from_now()
    log.info("branch server stopped")
    return 0  # a late signal while the interpreter exits is ignored (StopSignals.ignore_from_now)


def first_run_wanted(args: argparse.Namespace) -> bool:
    """The first-run page: with ``--first-run``, or on a plain start with no remembered choice
    (never with ``--data-dir``, ``--screenshot`` alone or ``--connect``: scripts and tests)."""
    if args.first_run:
        return True
    if args.data_dir_given or args.screenshot or args.connect:
        return False
    from app.desk_prefs import start_choice

    return start_choice() is None


def run_desk(args: argparse.Namespace) -> int:
    if args.connect:
        from ui import app as desk

        return desk.main(args.connect, lang=args.lang, screenshot=args.screenshot, provider=args.provider)
    choice = None
    if first_run_wanted(args):
        from ui.windows import first_run

        choice = first_run.run(args.lang, screenshot=args.screenshot)
        if choice is None or isinstance(choice, int):
            return choice or 0  # closed, or the page's screenshot was taken
        if choice["mode"] == "cloud":
            first_run.open_cloud_settings_when_shown()
    elif not args.data_dir_given:
        from app.desk_prefs import start_choice

        choice = start_choice()
    if choice and choice["mode"] == "lan":
        from ui import app as desk

        return desk.main(choice["url"], lang=args.lang, screenshot=args.screenshot, provider=args.provider)
    # one desk per data directory, decided before the branch server opens the database
    from ui import startup_window
    from ui.core.single_instance import SingleInstance

    startup_window.application().setWindowIcon(startup_window.app_icon())
    instance = SingleInstance(args.data_dir)
    if not instance.claim():
        if args.screenshot:
            log.error("another desk is running on %s; no screenshot taken", args.data_dir)
            return 3
        return 0
    running: list = []

    def restart_server() -> str:
        """The embedded server stopped: start it again on the same data directory (and the
        same loopback port when it has no LAN listener, so the URL stays); returns its URL."""
        old = running[0]
        again = argparse.Namespace(
            **{**vars(args), "restore": None, "port": args.port if old.lan_url else old.thread.port}
        )
        old.stop()
        running[0] = start_server(again, demo=False, local_token=old.token)
        return running[0].url

    def starting() -> dict:
        """The branch server, started off the GUI thread while the window already shows (its
        imports — FastAPI, uvicorn, cryptography — and the database's opening with it)."""
        try:
            server = start_server(args, demo=not (choice and choice["mode"] == "cloud"))
        except (OSError, RuntimeError) as exc:
            log.error("could not start the branch server on %s:%s: %s", args.host, args.port, exc)
            raise
        running.append(server)
        return {
            "url": server.url,
            "token": server.token,  # handed in-process, never written anywhere
            "server_alive": lambda: running[0].alive,
            "restart_server": restart_server,
        }

    try:
        shown = startup_window.show_for(args.lang, args.screenshot)  # before the rest is imported
        from ui import app as desk

        return desk.main(
            None,
            lang=args.lang,
            screenshot=args.screenshot,
            provider=args.provider,
            start_server=starting,
            startup_window=shown,
        )
    finally:
        if running:
            running[0].stop()
        instance.release()


def run_sync(argv: list[str]) -> int:
    """``main.py sync --data-dir D --once``: one full push and pull; exit 0 when nothing is
    left pending, 1 when cases need attention, 2 when changes are still pending, 3 with no cloud."""
    from app.composition.sync_cli import add_sync_arguments, run_sync_command

    parser = argparse.ArgumentParser(prog="istiqbal sync", description="Sync the branch with its cloud.")
    parser.add_argument("--data-dir", type=Path, default=data_dir())
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
