"""A real branch server process connected to a simulated cloud, driven through its HTTP
API as a desk would (nothing from ``app`` is imported).

``python -m app.sync serve --data-dir D --cloud NAME --cloud-url URL --cloud-account ID
[--<field> V ...] --hot-every S`` (the key in ``ISTIQBAL_CLOUD_KEY``; the headless server
of ``main.py --server-only`` with the engine's pull period exposed, so that a case does not
wait 5 s for the next pull). The server prints its URL and writes its token to
``D/local-token``. ``sync --once`` runs ``python -m app.sync sync --data-dir D --once``.

Settling (:meth:`Branch.settle`): nothing pending, then ``POST /sync/now`` and two pulls
that finished after it (``lastPullAt`` is kept to the second, so the second change seen is
a pull that began after the first one ended, i.e. after the request: the full pull the
request asked for has run), and still nothing pending.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from .declared import ROOT, described

DB_NAME = "branch.sqlite3"


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def cli_arguments(harness) -> list[str]:
    """``--cloud NAME --cloud-url URL --cloud-account ID``, and ``--<cli>`` (else
    ``--<key>``) for each other field the connector declares, with the harness's values."""
    info = described(harness.name)
    values = harness.config_values()
    args = ["--cloud", harness.name, "--cloud-url", values["baseUrl"]]
    for field in info.get("fields") or []:
        key = field["key"]
        if key in ("baseUrl", "secret"):
            continue
        if key not in values:
            if field.get("required", True) and field.get("default") is None:
                raise AssertionError(
                    f"the {harness.name} harness has no value for the connector's field {key!r}"
                )
            continue
        if key == "account":
            option = "--cloud-account"
        else:
            option = "--" + (field.get("cli") or key)
        args += [option, str(values[key])]
    return args


class Branch:
    """One branch data directory and the server process serving it (``start()`` again after
    ``kill()`` or ``stop()``): ``url``, ``http`` (the server's own desk token)."""

    def __init__(self, harness, data_dir: Path, *, hot_every: float = 0.25, page_limit: int | None = None):
        self.harness, self.data_dir = harness, Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.hot_every, self.page_limit = hot_every, page_limit
        self.process: subprocess.Popen | None = None
        self.http: httpx.Client | None = None
        self.url: str | None = None

    # ---- the process ---------------------------------------------------------------------
    def env(self) -> dict:
        return {
            **os.environ,
            "ISTIQBAL_CLOUD_KEY": self.harness.config_values()["secret"],
            "PYTHONPATH": str(ROOT),
        }

    def command(self) -> list[str]:
        extra = ["--hot-every", str(self.hot_every)]
        if self.page_limit:
            extra += ["--page-limit", str(self.page_limit)]
        return [
            sys.executable,
            "-m",
            "app.sync",
            "serve",
            "--data-dir",
            str(self.data_dir),
            *cli_arguments(self.harness),
            *extra,
        ]

    def start(self) -> Branch:
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("http"):
            self.process.kill()
            raise AssertionError(
                f"the branch server did not start: {self.process.stderr.read().decode()[-3000:]}"
            )
        self.url = line
        token = (self.data_dir / "local-token").read_text(encoding="utf-8").strip()
        self.http = httpx.Client(base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {token}"})
        prepare = getattr(self.harness, "prepare_branch", None)
        if prepare is not None:  # what the desk does before a cloud can hold its bookings (Qmatic: customers)
            prepare(self)
        return self

    def kill(self) -> None:
        """kill -9 of the server process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        assert self.process.returncode == -signal.SIGKILL
        self._forget()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._forget()

    def _forget(self) -> None:
        if self.http is not None:
            self.http.close()
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream:
                    stream.close()
        self.http = self.url = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def sync_once(self, deadline: float = 30) -> subprocess.CompletedProcess:
        """``sync --once`` on the data dir (run with the server stopped, or it asks the server)."""
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "app.sync",
                "sync",
                "--data-dir",
                str(self.data_dir),
                "--once",
                "--deadline",
                str(deadline),
            ],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=deadline + 240,
        )

    # ---- the desk's calls ----------------------------------------------------------------
    def call(self, method: str, path: str, body: dict | None = None, *, ok: bool = True, **params):
        answer = self.http.request(method, path, json=body, params=params or None)
        if ok:
            assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text[:500]}"
            return answer.json().get("result") if answer.content else None
        return answer

    def status(self) -> dict:
        return self.call("GET", "/sync/status")

    def attention(self) -> list[dict]:
        return self.call("GET", "/sync/attention")

    def settle(self, timeout: float = 60.0) -> dict:
        """Wait until the branch has sent everything and pulled after that (module doc);
        returns the sync status. Raises AssertionError with the status on timeout."""
        end = time.monotonic() + timeout
        status = {}
        while time.monotonic() < end:
            status = self.status()
            if status["pending"]:
                self.call("POST", "/sync/now")
                time.sleep(0.1)
                continue
            asked = utc_now().replace(microsecond=0)
            self.call("POST", "/sync/now")
            first = None
            while time.monotonic() < end:
                time.sleep(0.05)
                status = self.status()
                pulled = parse_utc(status.get("lastPullAt"))
                if pulled is None or pulled <= asked:
                    continue
                if first is None:
                    first = pulled
                elif pulled > first:
                    break
            if not status["pending"] and first is not None:
                return status
        raise AssertionError(f"the branch did not settle within {timeout} s: {status}")

    def wait_for(self, probe, timeout: float = 30.0, what: str = "condition"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = probe()
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"the branch server exited: {self.process.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    # ---- reading the branch --------------------------------------------------------------
    def resources(self) -> list[dict]:
        return self.call("GET", "/management/resources", limit=500)

    def types(self) -> list[dict]:
        return self.call("GET", "/management/types", limit=500)

    def local_ids(self, items: list[dict]) -> dict[str, str]:
        """cloud id → local id for resources or types (``cloudIds`` when the branch gives
        them, else the local id is the cloud's)."""
        out = {}
        for item in items:
            cloud_id = (item.get("cloudIds") or {}).get(self.harness.name) or item["id"]
            out[str(cloud_id)] = item["id"]
        return out

    def customer(self, search: str) -> str:
        """The local id of the one customer ``search`` (a phone number or name) finds."""
        found = self.call("GET", "/management/customers", search=search)
        assert len(found) == 1, (search, found)
        return found[0]["id"]

    def bookings(self, days: tuple[int, int] = (-3, 45)) -> list[dict]:
        """Every local booking starting from today + days[0] to today + days[1] (any status),
        and every one waiting in a queue, each once."""
        today = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
        out: dict[str, dict] = {}
        start = today + timedelta(days=days[0])
        while start < today + timedelta(days=days[1]):
            stop = min(start + timedelta(days=60), today + timedelta(days=days[1]))
            token = None
            while True:
                params = {"from": iso_z(start), "to": iso_z(stop), "limit": 5000}
                if token:
                    params["nextPageToken"] = token
                page = self.http.get("/management/bookings", params=params)
                assert page.status_code == 200, page.text
                body = page.json()
                for b in body["result"]:
                    out[b["id"]] = b
                token = (body.get("pagination") or {}).get("nextPageToken")
                if not token:
                    break
            start = stop
        for b in self.call("GET", "/management/bookings/waiting"):
            out[b["id"]] = b
        return list(out.values())

    def booking(self, local_id: str) -> dict:
        return self.call("GET", f"/management/bookings/{local_id}")

    def by_cloud_id(self, bookings: list[dict] | None = None) -> dict[str, list[dict]]:
        """cloud id → the local bookings mapped to it (more than one is a doubled booking)."""
        out: dict[str, list[dict]] = {}
        for b in self.bookings() if bookings is None else bookings:
            cloud_id = (b.get("cloudIds") or {}).get(self.harness.name)
            if cloud_id:
                out.setdefault(str(cloud_id), []).append(b)
        return out

    def cloud_id(self, local_id: str) -> str | None:
        return (self.booking(local_id).get("cloudIds") or {}).get(self.harness.name)

    # ---- desk actions --------------------------------------------------------------------
    def free_times(self, type_local: str, day, resource_local: str) -> list[int]:
        found = self.call(
            "POST",
            "/availability/times",
            {"type": type_local, "date": day.isoformat(), "resourceId": resource_local, "step": 15},
        )
        return [t["time"] for t in found]

    def book(self, type_local: str, day, time_: int, resource_local: str, customer_local: str, *, ok=True):
        return self.call(
            "PUT",
            "/management/scheduling/new",
            {
                "type": type_local,
                "date": day.isoformat(),
                "time": time_,
                "resourceId": resource_local,
                "customerIdentifier": {"id": customer_local},
            },
            ok=ok,
        )

    def walk_in(self, type_local: str, customer_local: str, *, ok=True):
        return self.call(
            "PUT",
            "/management/scheduling/new",
            {"type": type_local, "assign": False, "customerIdentifier": {"id": customer_local}},
            ok=ok,
        )

    def reschedule(self, local_id: str, day, time_: int, *, ok=True):
        current = self.booking(local_id)
        return self.call(
            "PUT",
            "/management/scheduling/new",
            {
                "rescheduleBookingId": local_id,
                "type": current["typeId"],
                "resourceId": current["resourceId"],
                "date": day.isoformat(),
                "time": time_,
            },
            ok=ok,
        )

    def cancel(self, local_id: str, reason: str = "patient called", *, ok=True):
        return self.call(
            "POST", "/management/bookings/cancel", {"bookingId": local_id, "reason": reason}, ok=ok
        )

    def accept(self, local_id: str, resource_local: str, *, ok=True):
        return self.call(
            "POST",
            "/management/bookings/assign",
            {"bookingId": local_id, "resourceId": resource_local},
            ok=ok,
        )

    def visit(self, action: str, local_id: str, *, ok=True):
        """``checkin``, ``start``, ``end`` or ``noshow``."""
        return self.call("POST", f"/management/bookings/{action}", {"bookingId": local_id}, ok=ok)
