"""Command-line entry points of the sync engine, for ``main.py`` and scripts.

* ``main.py --server-only --data-dir D --cloud NAME --cloud-url URL --cloud-account ID``:
  the headless branch server, kept in sync with cloud ``NAME`` (a registered connector,
  :mod:`app.sync.registry`; :func:`server_only_sync` gives its ``BranchServer`` options).
  A connector may give ``--cloud-account`` another spelling too (e.g. ``--app-id``). The
  key, token or password comes from ``ISTIQBAL_CLOUD_KEY`` or the keyring / secrets file of
  :mod:`app.sync.connection`.
* ``main.py sync --data-dir D --once``: one full push and pull (:func:`run_sync_command`).
  Exit status: 0 nothing pending and no case needs attention; 1 cases need attention;
  2 changes still pending (cloud unreachable or failing); 3 no cloud connection known;
  4 refused: another process holds the branch and its server could not be asked to sync.
  With a branch server running on D, the run asks that server to sync (its HTTP API, with
  the token in ``D/local-token``) instead of opening the database beside it.
* ``python -m app.sync serve|sync|connect ...`` runs the same without ``main.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from app.sync import registry
from app.sync.connector import CloudConfig

# app.sync.connection (the store, the keyring) is imported where it is used: the desk parses
# these arguments on its start-up path, before any window shows.

log = logging.getLogger(__name__)
EXIT_OK, EXIT_ATTENTION, EXIT_PENDING, EXIT_NOT_CONNECTED, EXIT_IN_USE = 0, 1, 2, 3, 4
#: the running headless server's token for local scripts (``Authorization: Bearer <token>``)


def add_sync_arguments(parser: argparse.ArgumentParser, *, once: bool = False) -> None:
    """Add ``--cloud`` (the registered clouds), ``--cloud-url``, ``--cloud-account`` and each
    connector's own spelling of it (and ``--once``, ``--deadline`` with ``once=True``)."""
    group = parser.add_argument_group("cloud sync")
    group.add_argument(
        "--cloud", choices=registry.names(), default=None, help="keep the branch in sync with this cloud"
    )
    group.add_argument("--cloud-url", metavar="URL", help="the cloud's base URL (https://host/api)")
    aliases = []
    for info in registry.connectors():
        declared = info.field("account")
        if declared is not None and declared.cli and f"--{declared.cli}" not in aliases:
            aliases.append(f"--{declared.cli}")
    group.add_argument(
        "--cloud-account",
        *aliases,
        dest="cloud_account",
        metavar="ID",
        help="the cloud account (app id, tenant, company or key id)",
    )
    for option, (key, help_text) in extra_options().items():  # a connector's other fields
        group.add_argument(option, dest=f"cloud_extra_{key}", metavar="VALUE", help=help_text)
    if once:
        group.add_argument("--once", action="store_true", help="one push and pull, then exit")
        group.add_argument(
            "--deadline",
            type=float,
            default=60.0,
            help="seconds to keep retrying transient failures (default: %(default)s)",
        )


def extra_options() -> dict[str, tuple[str, str]]:
    """``{"--option": (field key, help)}`` for the connectors' declared fields other than the
    URL, the account and the secret: ``--<cli>`` when the field names one, else ``--<key>``
    (the first connector declaring an option has it). The values go to
    :attr:`~app.sync.connector.CloudConfig.extra`."""
    out: dict[str, tuple[str, str]] = {}
    for info in registry.connectors():
        for declared in info.fields:
            option = "--" + (declared.cli or declared.key)
            if declared.key in ("baseUrl", "account", "secret") or option in out:
                continue
            out[option] = (declared.key, f"{info.title}: {declared.help or declared.label}")
    return out


def _config(args: argparse.Namespace, store) -> CloudConfig | None:
    from app.sync.connection import connect, load_config

    url, account = getattr(args, "cloud_url", None), getattr(args, "cloud_account", None)
    extra = {k[len("cloud_extra_") :]: v for k, v in vars(args).items() if k.startswith("cloud_extra_") and v}
    config = load_config(
        store, cloud=getattr(args, "cloud", None), base_url=url, account=account, extra=extra
    )
    if config is not None and url and account:
        connect(
            store,
            CloudConfig(
                config.base_url, config.account, auth=config.auth, cloud=config.cloud, extra=config.extra
            ),
        )  # remember, no secret
    return config


def server_only_sync(args: argparse.Namespace, claim=None) -> dict:
    """The ``BranchServer`` keyword options for ``args``: ``{"cloud": CloudConfig}`` when
    ``--cloud`` is given (or the data dir is already connected), else ``{}``. ``claim``: the
    branch lock the caller holds (:func:`app.server.claim_data_dir`); without it the lock is
    taken for the read. A remembered connection whose key is gone (a new PC, a wiped keyring)
    is logged and the branch starts without sync (its settings say to connect again).
    Raises SystemExit (status 3) when ``--cloud`` is given without URL, app id or key, :class:`app.store.BranchInUse` when another process holds the branch."""
    from app.composition import DB_NAME
    from app.store import open_store
    from app.sync.connection import ENV_KEY

    wanted = getattr(args, "cloud", None)
    data_dir = Path(args.data_dir)
    store = open_store(data_dir / DB_NAME, claim=claim)
    try:
        config = _config(args, store)
    finally:
        store.close()
    if config is None:
        if wanted:
            raise SystemExit(f"--cloud {wanted} needs --cloud-url and --cloud-account")
        return {}
    if not config.secret and registry.get(config.cloud).secret_required:
        if wanted:
            raise SystemExit(f"no key for {config.secret_user}: set {ENV_KEY} or connect the branch first")
        log.warning(
            "the branch's cloud connection (%s) has no key here (a new PC or a wiped keyring): "
            "the branch runs without sync until it is connected again",
            config.secret_user,
        )
        return {}
    return {"cloud": config}


def run_sync_command(args: argparse.Namespace) -> int:
    """``sync --once``: push everything, pull every window, print a summary, return the
    exit status (module docstring). When another process holds the branch, the sync is
    asked of that server over its HTTP API (:func:`_sync_through_server`) or refused."""
    from app.composition import DB_NAME
    from app.server.service import BookingService
    from app.store import BranchInUse, open_store
    from app.sync.connection import ENV_KEY
    from app.sync.engine import SyncEngine

    try:
        store = open_store(Path(args.data_dir) / DB_NAME)
    except BranchInUse as exc:
        return _sync_through_server(args, exc)
    try:
        config = _config(args, store)
        if config is None or (not config.secret and registry.get(config.cloud).secret_required):
            print(
                "sync: this branch is not connected to a cloud (give --cloud, --cloud-url, --cloud-account and "
                f"{ENV_KEY})",
                file=sys.stderr,
            )
            return EXIT_NOT_CONNECTED
        engine = SyncEngine(BookingService(store), config).attach()

        async def once() -> dict:
            try:
                return await engine.sync_once(deadline=float(getattr(args, "deadline", 60.0)))
            finally:
                await engine.close()

        status = asyncio.run(once())
        cases = engine.outbox.attention()
    finally:
        store.close()
    return _report(status, cases)


def _report(status: dict, cases: list[dict]) -> int:
    print(json.dumps(status, ensure_ascii=False))
    for case in cases:
        print(
            f"needs attention: booking {case['bookingId']} {case['action']}: {case['code']}: {case['message']}"
        )
    if status["pending"]:
        print(f"sync: {status['pending']} change(s) still pending ({status['lastError']})", file=sys.stderr)
        return EXIT_PENDING
    return EXIT_ATTENTION if status["needsAttention"] else EXIT_OK


def _sync_through_server(args: argparse.Namespace, in_use: Exception) -> int:
    """The branch is held by a running server: ask it to sync now (``POST /sync/now``, with
    the token of ``<data dir>/local-token``), wait until nothing is pending and a pull has
    finished after the request (or ``--deadline``), and report as a local run would. Without
    a server address or token, or when it does not answer: refuse (:data:`EXIT_IN_USE`)."""
    from app.client import ApiError, DeskClient, local_token
    from app.composition import running_server

    data_dir = Path(args.data_dir)
    info = running_server(data_dir)
    token = local_token(data_dir)
    if info is None or not token:
        print(
            f"sync: refused: {in_use}. A running desk or branch server syncs this branch itself; "
            "stop it to sync from here.",
            file=sys.stderr,
        )
        return EXIT_IN_USE
    deadline = float(getattr(args, "deadline", 60.0))

    async def ask() -> tuple[dict, list[dict]]:
        client = DeskClient(info["url"], token=token, timeout=10.0)
        try:
            before = await client.sync_status()
            if not before.get("connected"):
                return before, []
            await client.sync_now()
            end = asyncio.get_running_loop().time() + deadline
            while True:
                status = await client.sync_status()
                pulled = status.get("lastPullAt") and status.get("lastPullAt") != before.get("lastPullAt")
                if (pulled and not status["pending"]) or asyncio.get_running_loop().time() > end:
                    return status, await client.attention()
                await asyncio.sleep(0.25)
        finally:
            await client.aclose()

    try:
        status, cases = asyncio.run(ask())
    except (ApiError, OSError) as exc:
        print(f"sync: refused: {in_use}; its server at {info['url']} did not sync: {exc}", file=sys.stderr)
        return EXIT_IN_USE
    if not status.get("connected"):
        print("sync: the running branch server is not connected to a cloud", file=sys.stderr)
        return EXIT_NOT_CONNECTED
    print(f"sync: done by the running branch server at {info['url']}", file=sys.stderr)
    return _report(status, cases)


def serve(args: argparse.Namespace) -> int:
    """Headless branch server kept in sync, until SIGINT/SIGTERM (prints its URL). The
    branch lock is taken before the database is read; signals are read on the main thread
    (:mod:`app.stop_signals`)."""
    from app.composition import BranchServer, claim_data_dir
    from app.stop_signals import StopSignals

    stop = StopSignals()
    lock = claim_data_dir(Path(args.data_dir))
    try:
        options = server_only_sync(args, claim=lock)
        sync_options = {
            k: v
            for k, v in (
                ("hot_every", getattr(args, "hot_every", None)),
                ("page_limit", getattr(args, "page_limit", None)),
            )
            if v
        }
        server = BranchServer(
            args.data_dir,
            host=args.host,
            port=args.port,
            sync_options=sync_options,
            claim=lock,
            local_token_file=True,
            **options,
        ).start()
    except BaseException:
        lock.release()
        raise
    print(server.url, flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
        stop.ignore_from_now()
    return 0


def _connect(args: argparse.Namespace) -> int:
    from app.composition import DB_NAME
    from app.store import open_store
    from app.sync.connection import ENV_KEY, connect

    info = registry.get(args.cloud)
    config = CloudConfig(
        args.cloud_url.rstrip("/"),
        args.cloud_account,
        os.environ.get(ENV_KEY),
        auth=info.auth_kinds[0][0],
        cloud=info.name,
    )
    values = {
        k: v for k, v in (("phone", args.otp_phone), ("email", args.otp_email), ("code", args.otp_code)) if v
    }
    if values and info.sign_in_step is not None:
        step = info.sign_in[-1].name if args.otp_code else info.sign_in[0].name
        answer = asyncio.run(info.sign_in_step(config, step, values))
        if not answer.done:
            print("code sent: run again with --otp-code")
            return 0
        config.secret, config.auth = answer.secret, answer.auth or config.auth
    elif not config.secret:
        config.secret = sys.stdin.readline().strip()
    store = open_store(Path(args.data_dir) / DB_NAME)  # raises BranchInUse beside a running server
    try:
        where = connect(store, config)
    finally:
        store.close()
    print(f"connected; the secret is kept in: {where}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m app.sync serve|sync|connect --data-dir D ...``"""
    parser = argparse.ArgumentParser(prog="python -m app.sync")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "sync", "connect"):
        sub = commands.add_parser(name)
        sub.add_argument("--data-dir", type=Path, required=True)
        add_sync_arguments(sub, once=name == "sync")
        if name == "serve":
            sub.add_argument("--host", default="127.0.0.1")
            sub.add_argument("--port", type=int, default=0)
            sub.add_argument("--hot-every", type=float, default=None, help="seconds between hot pulls")
            sub.add_argument("--page-limit", type=int, default=None, help="bookings per listed page")
        if name == "connect":
            sub.add_argument("--otp-phone")
            sub.add_argument("--otp-email")
            sub.add_argument("--otp-code")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from app.store import BranchInUse

    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "connect":
            if not (args.cloud_url and args.cloud_account):
                parser.error("connect needs --cloud-url and --cloud-account")
            return _connect(args)
        return run_sync_command(args)
    except BranchInUse as exc:  # serve or connect beside a running desk or server
        print(f"{args.command}: refused: {exc}", file=sys.stderr)
        return EXIT_IN_USE
