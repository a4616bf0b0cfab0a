"""The desk's only way to the branch server: an ``httpx.AsyncClient`` wrapper.

Every method is a coroutine returning plain dicts in the API's shape (see
:mod:`app.domain.model`) or raising :class:`ApiError` — a refused request carries the
server's ``code`` and ``message``; a network failure has code ``NETWORK``. Create the
client inside the running event loop (qasync: ``docs/architecture.md``, "Pitfalls").

Every request carries a token (``Authorization: Bearer <token>``): the embedded desk gets
its server's in-process (``BranchServer.token``); a script on the machine of a headless
server reads it with :func:`local_token` from ``<data dir>/local-token``; a LAN desk uses
the token :func:`pair` returned.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

# httpx's command-line tool (httpx._main) imports click, rich and pygments when they are
# installed; the desk never runs it, and skipping it keeps them off the start-up path
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
import httpx  # noqa: E402
from httpx_sse import SSEError, aconnect_sse  # noqa: E402

from app.domain.actions import ACTIONS  # noqa: E402
from app.domain.model import Action, AttendanceKind, EventType  # noqa: E402
from app.trust import pairing_proof, pinned_context  # noqa: E402

log = logging.getLogger(__name__)
INCLUDES = "customer,type"
LOCAL_TOKEN_FILE = "local-token"


def local_token(data_dir: str | Path) -> str | None:
    """The token a headless branch server on this machine wrote to ``<data_dir>/local-token``
    (readable by its owner only), or None when no server is running there."""
    try:
        return (Path(data_dir) / LOCAL_TOKEN_FILE).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _no_tls_context() -> ssl.SSLContext:
    """The TLS context of a client for a plain ``http://`` server (the desk's own, on
    loopback): it never makes a TLS connection, so it loads no certificate authorities —
    loading the system's takes a tenth of a second on the desk's start-up path. Should it
    ever reach an ``https://`` address, it trusts no certificate and refuses to connect."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies host names and certificates
    return context


class ApiError(Exception):
    """A failed request: ``code`` (server code or ``NETWORK``), ``message``, HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 0, details: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.details = code, message, status, details or {}


class DeskClient:
    """A desk's connection to the branch server.

    On the server's own machine: ``DeskClient("http://127.0.0.1:<port>", token=...)`` with
    the server's own token (in-process, or :func:`local_token`). On the LAN: ``DeskClient("https://<server>:<port>", token=..., fingerprint=...)`` with what
    :func:`pair` returned; the client then refuses (``ApiError`` code ``NETWORK``) any server
    whose certificate's SHA-256 is not ``fingerprint``, before sending a byte.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        desk_id: str | None = None,
        user: str | None = None,
        timeout: float = 10.0,
        verify=True,
        fingerprint: str | None = None,
    ):
        headers = {"X-Desk-Id": desk_id or "", "X-Desk-User": user or ""}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if fingerprint:
            verify = pinned_context(fingerprint)
        elif verify is True and self._plain(base_url):
            verify = _no_tls_context()
        self.base_url = base_url.rstrip("/")
        self.fingerprint = fingerprint
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout, verify=verify)

    @staticmethod
    def _plain(base_url: str) -> bool:
        return base_url.lower().startswith("http://")

    async def aclose(self) -> None:
        await self.http.aclose()

    def use_url(self, base_url: str) -> None:
        """Talk to the branch server at ``base_url`` from now on (the desk's own server,
        restarted on another port)."""
        self.base_url = base_url.rstrip("/")
        self.http.base_url = self.base_url

    def use_token(self, token: str) -> None:
        """Send ``token`` from now on (the embedded server's, once it has started)."""
        self.http.headers["Authorization"] = f"Bearer {token}"

    async def _call(self, method: str, path: str, **kwargs):
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError("NETWORK", f"the branch server at {self.base_url} did not answer ({exc})") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error = body.get("error", body) if isinstance(body, dict) else {}
            raise ApiError(
                error.get("code", f"HTTP-{response.status_code}"),
                error.get("message", response.reason_phrase),
                response.status_code,
                error.get("details"),
            )
        return body

    async def _result(self, method: str, path: str, **kwargs):
        return (await self._call(method, path, **kwargs))["result"]

    async def _all(self, path: str, params: dict | None = None) -> list[dict]:
        """Every page of a list operation."""
        params, out = dict(params or {}), []
        while True:
            body = await self._call("GET", path, params=params)
            out += body["result"]
            token = body.get("pagination", {}).get("nextPageToken")
            if not token:
                return out
            params["nextPageToken"] = token

    # reference data
    async def ready(self) -> dict:
        return await self._result("GET", "/readyz")

    async def branch(self) -> dict:
        return await self._result("GET", "/branch")

    async def resources(self) -> list[dict]:
        return await self._all("/management/resources")

    async def types(self) -> list[dict]:
        return await self._all("/management/types")

    async def customers(self, search: str = "", limit: int = 30) -> list[dict]:
        return (await self._call("GET", "/management/customers", params={"search": search, "limit": limit}))[
            "result"
        ]

    async def create_customer(
        self, firstName: str, lastName: str = "", phone: str | None = None, email: str | None = None
    ) -> dict:
        body = {"firstName": firstName, "lastName": lastName, "phone": phone, "email": email}
        return await self._result("POST", "/management/customers", json={k: v for k, v in body.items() if v})

    # reading bookings
    async def day(self, day: date, resource_ids: list[str] | None = None) -> list[dict]:
        """The branch-local day's scheduled bookings, with ``customer`` and ``type`` embedded."""
        params = {"date": day.isoformat(), "includes": INCLUDES}
        if resource_ids:
            params["resources"] = ",".join(resource_ids)
        return await self._all("/management/bookings", params)

    async def bookings(self, start_iso: str, end_iso: str) -> list[dict]:
        return await self._all(
            "/management/bookings", {"from": start_iso, "to": end_iso, "includes": INCLUDES}
        )

    async def booking(self, booking_id: str) -> dict:
        return await self._result("GET", f"/management/bookings/{booking_id}", params={"includes": INCLUDES})

    async def waiting(self) -> list[dict]:
        return await self._result("GET", "/management/bookings/waiting", params={"includes": INCLUDES})

    async def queue(self, resource_id: str) -> list[dict]:
        return await self._result(
            "GET", "/management/bookings/unassigned", params={"resourceId": resource_id, "includes": INCLUDES}
        )

    async def attendances(self, day: date) -> list[dict]:
        return await self._result("GET", "/management/attendances", params={"date": day.isoformat()})

    async def history(self, booking_id: str) -> list[dict]:
        return await self._result("GET", f"/management/bookings/{booking_id}/history")

    async def free_times(
        self,
        type_id: str,
        day: date,
        resource_id: str | None = None,
        ignore_id: str | None = None,
        granularity: str | None = None,
        fixed_times: list[int] | None = None,
    ) -> list[dict]:
        """Free starts ``[{resourceId, startDateTime, date, time}]``; ``granularity`` hour, half,
        third, quarter (default), sixth, optimize or fixed (with ``fixed_times``, military)."""
        body = {
            "type": type_id,
            "date": day.isoformat(),
            "resourceId": resource_id,
            "rescheduleBookingId": ignore_id,
            "granularity": granularity,
            "fixedTimes": fixed_times,
        }
        return await self._result("POST", "/availability/times", json={k: v for k, v in body.items() if v})

    async def available_types(self, resource_id: str | None = None) -> list[dict]:
        """Booking types with ``pendingCount`` (people waiting), of one resource or all."""
        body = {"resourceId": resource_id} if resource_id else {}
        return await self._result("POST", "/availability/types", json=body)

    async def available_resources(self, type_id: str | None = None) -> list[dict]:
        body = {"type": type_id} if type_id else {}
        return await self._result("POST", "/availability/resources", json=body)

    async def my_resources(self) -> list[dict]:
        """A provider desk's own resources (all resources for other desks)."""
        return await self._result("GET", "/management/resources/mine")

    async def queues(self) -> list[dict]:
        """Every resource's queue: ``[{"resourceId", "queue": [...]}]``."""
        return await self._result("GET", "/management/queues", params={"includes": INCLUDES})

    async def time_rules(self, resource_id: str) -> dict:
        return await self._result("GET", f"/management/resources/{resource_id}/timeRules")

    async def set_time_rules(self, resource_id: str, rules: dict) -> dict:
        """Replace working hours (manager desks only)."""
        return await self._result("PUT", f"/management/resources/{resource_id}/timeRules", json=rules)

    async def set_ticket_prefix(self, type_id: str, prefix: str) -> dict:
        """Set a booking type's ticket prefix (manager desks only); returns the type."""
        return await self._result(
            "PUT", f"/management/types/{type_id}/ticketPrefix", json={"ticketPrefix": prefix}
        )

    async def customer(self, customer_id: str) -> dict:
        return await self._result("GET", f"/management/customers/{customer_id}")

    async def update_customer(self, customer_id: str, **changes) -> dict:
        """Correct a customer (``changes``: any of ``firstName``, ``lastName``, ``phone``,
        ``email``, ``note``; ``""`` clears one) → the customer as stored. Raises
        :class:`ApiError` (CUSTOMER-EXISTS with ``details["candidate"]``, VALIDATION, NOT-FOUND)."""
        return await self._result("PATCH", f"/management/customers/{customer_id}", json=changes)

    async def customer_bookings(self, customer_id: str, limit: int = 200) -> list[dict]:
        """The customer's bookings, newest first, with ``type`` and ``resource`` embedded."""
        return await self._result(
            "GET",
            f"/management/customers/{customer_id}/bookings",
            params={"includes": "type,resource", "limit": limit},
        )

    async def sync_status(self) -> dict:
        return await self._result("GET", "/sync/status")

    # actions
    async def book(
        self,
        type_id: str,
        customer_id: str,
        day: date,
        time: int,
        resource_id: str | None = None,
        note: str | None = None,
        overbook_reason: str | None = None,
    ) -> dict:
        body = {
            "type": type_id,
            "customerIdentifier": {"id": customer_id},
            "date": day.isoformat(),
            "time": time,
            "resourceId": resource_id,
            "note": note,
            "overbookReason": overbook_reason,
        }
        return await self._result(
            "PUT", ACTIONS[Action.CREATE].route, json={k: v for k, v in body.items() if v is not None}
        )

    async def walk_in(self, type_id: str, customer_id: str, note: str | None = None) -> dict:
        body = {"type": type_id, "customerIdentifier": {"id": customer_id}, "assign": False, "note": note}
        return await self._result(
            "PUT", ACTIONS[Action.CREATE].route, json={k: v for k, v in body.items() if v is not None}
        )

    async def reschedule(
        self,
        booking_id: str,
        day: date,
        time: int,
        resource_id: str | None = None,
        overbook_reason: str | None = None,
        type_id: str | None = None,
    ) -> dict:
        body = {
            "rescheduleBookingId": booking_id,
            "type": type_id or "-",
            "date": day.isoformat(),
            "time": time,
            "resourceId": resource_id,
            "overbookReason": overbook_reason,
        }
        return await self._result(
            "PUT", ACTIONS[Action.CREATE].route, json={k: v for k, v in body.items() if v is not None}
        )

    async def hold(
        self,
        type_id: str,
        customer_id: str,
        day: date,
        time: int,
        resource_id: str | None = None,
        minutes: int = 15,
        note: str | None = None,
    ) -> dict:
        """Keep a slot for ``minutes`` (``heldUntil``) while the patient decides; :meth:`confirm`
        makes it a booking, else it lapses and the slot is free."""
        body = {
            "type": type_id,
            "customerIdentifier": {"id": customer_id},
            "date": day.isoformat(),
            "time": time,
            "resourceId": resource_id,
            "reservedForMinutes": minutes,
            "note": note,
        }
        return await self._result(
            "PUT", ACTIONS[Action.HOLD].route, json={k: v for k, v in body.items() if v is not None}
        )

    async def confirm(self, booking_id: str) -> dict:
        return await self.act(Action.CONFIRM, booking_id)

    async def record_attendance(self, booking_id: str, action_type: str = AttendanceKind.CHECK_IN) -> dict:
        """Rekaz-style attendance: ``CheckIn`` or ``CheckOut`` (ends the visit)."""
        return await self._result(
            "POST", "/management/attendances", json={"bookingId": booking_id, "actionType": action_type}
        )

    # desks (pairing; the server's own desk or a manager)
    async def pairing_code(self, role: str | None = None, resource_ids: list[str] | None = None) -> dict:
        """``{"code": "ABCD-EFGH", "expiresAt", "role", "resourceIds", "fingerprint"}`` to show."""
        return await self._result(
            "POST", "/desks/pairing-code", json={"role": role, "resourceIds": resource_ids or []}
        )

    async def desks(self) -> list[dict]:
        return await self._result("GET", "/desks")

    async def revoke_desk(self, desk_id: str) -> dict:
        return await self._result("POST", "/desks/revoke", json={"deskId": desk_id})

    async def server_info(self) -> dict:
        """``{"lanUrl", "fingerprint", "loopbackUrl"}``: where LAN desks reach this server and
        the certificate they pin (``lanUrl`` None when it serves this machine only)."""
        return await self._result("GET", "/desks/server")

    # cloud sync: the registered clouds, connection settings, needs-attention cases, sync now
    async def sync_clouds(self) -> list[dict]:
        """Every registered cloud: ``[{name, title, capabilities, fields: [{key, label, kind,
        required, help, default, choices, cli}], authKinds, signIn: [{name, label, fields}],
        defaultUrl}]`` — the cloud settings dialog is built from it."""
        return await self._result("GET", "/sync/clouds")

    async def sync_settings(self) -> dict:
        """``{cloud, baseUrl, account, appId, auth, extra, secretStore ("keyring" | "file" |
        None), secretPath, hasSecret, connected, clouds}`` — never the secret itself."""
        return await self._result("GET", "/sync/settings")

    async def connect_cloud(
        self, cloud: str, base_url: str, account: str, secret: str | None = None, extra: dict | None = None
    ) -> dict:
        """Connect the branch to ``cloud`` with its key, token or password (tried against the
        cloud first; ApiError ``CLOUD-AUTH-FAILED`` or ``CLOUD-UNREACHABLE``); no secret keeps
        the stored one of the same account. ``extra``: the connector's other declared fields."""
        body = {
            "cloud": cloud,
            "baseUrl": base_url,
            "account": account,
            "secret": secret,
            "extra": extra or None,
        }
        return await self._result(
            "PUT", "/sync/settings", json={k: v for k, v in body.items() if v is not None}
        )

    async def cloud_choices(
        self,
        key: str,
        cloud: str,
        base_url: str,
        account: str,
        secret: str | None = None,
        extra: dict | None = None,
    ) -> list[dict]:
        """The values ``cloud`` lists for its field ``key`` (declared ``listed``), asked with
        these credentials (no secret: the stored one of the same account):
        ``[{value, label, labels: {en, ar}}]``. ApiError as for :meth:`connect_cloud`."""
        body = {
            "cloud": cloud,
            "baseUrl": base_url,
            "account": account,
            "secret": secret,
            "extra": extra or None,
        }
        return await self._result(
            "POST", f"/sync/choices/{key}", json={k: v for k, v in body.items() if v is not None}
        )

    async def save_sync_settings(
        self, base_url: str, app_id: str, api_key: str | None = None, cloud: str | None = None
    ) -> dict:
        """:meth:`connect_cloud` with the first cloud's names (app id, API key)."""
        body = {"cloud": cloud, "baseUrl": base_url, "appId": app_id, "apiKey": api_key}
        return await self._result(
            "PUT", "/sync/settings", json={k: v for k, v in body.items() if v is not None}
        )

    async def disconnect_sync(self) -> dict:
        return await self._result("DELETE", "/sync/settings")

    async def sign_in_step(self, cloud: str, base_url: str, account: str, step: str, values: dict) -> dict:
        """One step of the cloud's sign-in (its declared ``signIn`` steps): ``{"sent": True,
        "message"}`` before the last step; the last one connects and returns the settings."""
        return await self._result(
            "POST",
            f"/sync/sign-in/{step}",
            json={"cloud": cloud, "baseUrl": base_url, "account": account, "values": values},
        )

    async def request_sync_otp(
        self, base_url: str, app_id: str, phone: str, cloud: str | None = None
    ) -> dict:
        """Ask the cloud to send a sign-in code to ``phone`` (a staff member's)."""
        body = {"cloud": cloud, "baseUrl": base_url, "appId": app_id, "phone": phone}
        return await self._result(
            "POST", "/sync/otp/request", json={k: v for k, v in body.items() if v is not None}
        )

    async def verify_sync_otp(
        self, base_url: str, app_id: str, phone: str, code: str, cloud: str | None = None
    ) -> dict:
        """Sign in with the received code and connect the branch; returns the settings."""
        body = {"cloud": cloud, "baseUrl": base_url, "appId": app_id, "phone": phone, "code": code}
        return await self._result(
            "POST", "/sync/otp/verify", json={k: v for k, v in body.items() if v is not None}
        )

    async def attention(self) -> list[dict]:
        """Open needs-attention cases (changes the cloud refused), oldest first."""
        return await self._result("GET", "/sync/attention")

    async def resolve_attention(self, case_id: str, resolution: str) -> dict:
        """``resolution``: ``accept-cloud`` (keep the cloud's version) or ``reapply``."""
        return await self._result(
            "POST", f"/sync/attention/{case_id}/resolve", json={"resolution": resolution}
        )

    async def sync_now(self) -> dict:
        return await self._result("POST", "/sync/now")

    async def upload_local(self) -> dict:
        """Send every local booking the cloud does not have (``{queued, ...sync status}``);
        409 SYNC-DEMO-DATA on a branch holding the demo clinic."""
        return await self._result("POST", "/sync/upload-local")

    async def accept(self, booking_id: str, resource_id: str, when_free: bool = False) -> dict:
        """Assign a waiting booking; ``when_free``: only while the resource has nobody called or
        in the room (ApiError ``SCH-PROVIDER-BUSY`` otherwise)."""
        body: dict[str, object] = {"bookingId": booking_id, "resourceId": resource_id}
        if when_free:
            body["whenFree"] = True
        return await self._result("POST", ACTIONS[Action.ACCEPT].route, json=body)

    async def cancel(self, booking_id: str, reason: str) -> dict:
        return await self._result(
            "POST", ACTIONS[Action.CANCEL].route, json={"bookingId": booking_id, "reason": reason}
        )

    async def act(self, action: Action | str, booking_id: str) -> dict:
        """Do ``action`` to a booking: one whose route takes ``{"bookingId"}`` alone
        (:func:`app.domain.actions.ref_actions`: check-in, start, end, no-show, confirm and the
        undos); returns the changed booking. Raises ValueError for another action."""
        spec = ACTIONS.get(Action(action))
        if spec is None or not spec.ref_only:
            raise ValueError(f"{action} needs more than the booking's id")
        return await self._result("POST", spec.route, json={"bookingId": booking_id})

    async def check_in(self, booking_id: str) -> dict:
        return await self.act(Action.CHECK_IN, booking_id)

    async def start(self, booking_id: str) -> dict:
        return await self.act(Action.START, booking_id)

    async def end(self, booking_id: str) -> dict:
        return await self.act(Action.END, booking_id)

    async def no_show(self, booking_id: str) -> dict:
        return await self.act(Action.NO_SHOW, booking_id)

    async def undo_check_in(self, booking_id: str) -> dict:
        """Take back a check-in (the patient is "not arrived" again)."""
        return await self.act(Action.UNDO_CHECK_IN, booking_id)

    async def restore(self, booking_id: str) -> dict:
        """Take back a cancel: the same booking (same id, time and ticket) is live again."""
        return await self.act(Action.RESTORE, booking_id)

    async def reopen(self, booking_id: str) -> dict:
        """Take back "end": the visit continues with its scheduled end."""
        return await self.act(Action.REOPEN, booking_id)

    # payments, receipts and the cash drawer (app.server.payment_routes; money in minor units)
    async def payments(
        self,
        booking_id: str | None = None,
        day: date | None = None,
        desk_id: str | None = None,
        user: str | None = None,
    ) -> list[dict]:
        """A booking's payments, or a branch-local day's (optionally one desk's and user's)."""
        params = {
            k: v
            for k, v in {
                "bookingId": booking_id,
                "date": day.isoformat() if day else None,
                "deskId": desk_id,
                "user": user,
            }.items()
            if v
        }
        return await self._result("GET", "/management/payments", params=params)

    async def take_payment(
        self,
        booking_id: str,
        amount: int,
        method: str,
        reference: str | None = None,
        reason: str | None = None,
    ) -> dict:
        """A payment (``amount`` > 0, minor units) or refund (< 0, with ``reason``) → the payment
        with ``invoiceNumber`` and ``booking`` ``{price, paid, balance, currency}``."""
        body = {
            "bookingId": booking_id,
            "amount": amount,
            "method": method,
            "reference": reference,
            "reason": reason,
        }
        return await self._result(
            "POST", "/management/payments", json={k: v for k, v in body.items() if v is not None}
        )

    async def receipt(self, payment_id: str) -> dict:
        return await self._result("GET", f"/management/payments/{payment_id}/receipt")

    async def set_price(self, booking_id: str, price: int, reason: str) -> dict:
        return await self._result(
            "PUT", f"/management/bookings/{booking_id}/price", json={"price": price, "reason": reason}
        )

    async def billing(self) -> dict:
        return await self._result("GET", "/management/billing")

    async def save_billing(self, **changes) -> dict:
        return await self._result("PUT", "/management/billing", json=changes)

    async def drawer(self, day: date, desk_id: str | None = None, user: str | None = None) -> dict:
        params = {k: v for k, v in {"date": day.isoformat(), "deskId": desk_id, "user": user}.items() if v}
        return await self._result("GET", "/management/drawer", params=params)

    async def close_drawer(
        self,
        day: date,
        counted: dict[str, int],
        note: str | None = None,
        desk_id: str | None = None,
        user: str | None = None,
    ) -> dict:
        body = {"date": day.isoformat(), "counted": counted, "note": note, "deskId": desk_id, "user": user}
        return await self._result(
            "POST", "/management/drawer-counts", json={k: v for k, v in body.items() if v is not None}
        )

    async def drawer_counts(self, day: date) -> list[dict]:
        return await self._result("GET", "/management/drawer-counts", params={"date": day.isoformat()})

    # reports (app.server.report_routes; minutes and minor units, branch-local days)
    async def report(
        self,
        kind: str,
        first: date,
        last: date,
        resource_id: str | None = None,
        type_id: str | None = None,
        group_by: str | None = None,
    ) -> dict:
        """The report ``kind`` (``bookings``, ``no-shows``, ``waits``, ``visits``,
        ``utilisation``, ``revenue``) over the branch-local days ``first``..``last``."""
        params = {
            k: v
            for k, v in {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "resourceId": resource_id,
                "typeId": type_id,
                "groupBy": group_by,
            }.items()
            if v
        }
        return await self._result("GET", f"/reports/{kind}", params=params)

    # live events
    async def events(
        self,
        last_event_id: int | None = None,
        retry: float = 1.0,
        on_live: Callable[[bool, str | None], None] | None = None,
    ) -> AsyncIterator[dict]:
        """Yield ``{"id", "type", "data"}`` events forever, reconnecting with the last id seen
        after a dropped connection (so no change is missed or seen twice). A ``resync``
        event means the server could not replay what was missed: refetch the view.

        ``on_live(True, None)`` is called when the stream is open (the server's ``hello``),
        ``on_live(False, reason)`` each time it drops or a reconnect fails (``retry``
        seconds between tries), so a desk can say it is not live. Raises :class:`ApiError`
        when the server refuses the desk (401/403)."""
        last = last_event_id
        while True:
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            try:
                async with aconnect_sse(
                    self.http, "GET", "/events", headers=headers, timeout=httpx.Timeout(10.0, read=None)
                ) as source:
                    if source.response.status_code in (401, 403):
                        await source.response.aread()
                        error = source.response.json().get("error", {})
                        raise ApiError(
                            error.get("code", "AUTH-REQUIRED"),
                            error.get("message", ""),
                            source.response.status_code,
                        )
                    async for sse in source.aiter_sse():
                        if sse.id and sse.id.isdigit():
                            last = int(sse.id)
                        if sse.event in (EventType.HELLO, "ping", ""):
                            if sse.event == EventType.HELLO:
                                if last is None:
                                    last = json.loads(sse.data or "{}").get("lastEventId")
                                if on_live:
                                    on_live(True, None)
                            continue
                        yield {"id": last, "type": sse.event, "data": json.loads(sse.data or "{}")}
                reason = "the server ended the event stream"
            except (httpx.HTTPError, SSEError) as exc:
                reason = str(exc) or type(exc).__name__
            log.info("event stream interrupted (%s); reconnecting", reason)
            if on_live:
                on_live(False, reason)
            await asyncio.sleep(retry)


async def pair(
    base_url: str,
    code: str,
    desk_name: str,
    role: str | None = None,
    resource_ids: list[str] | None = None,
    timeout: float = 10.0,
) -> dict:
    """Pair this desk with the branch server at ``base_url`` (``https://host:port``) using the
    code shown on the server's screen. The code itself never crosses the network: the desk
    sends ``proof`` = HMAC(code, fingerprint of the certificate it sees), which a machine in
    the middle cannot forge. Returns ``{"token", "deskId", "deskName", "role", "resourceIds",
    "fingerprint"}`` — keep the token secret and pass token and fingerprint to
    :class:`DeskClient`. The role (and a provider's resources) is the one the code was made
    for; ``role``/``resource_ids``, when given, must match it. Raises ApiError
    (``PAIRING-FAILED`` for a wrong or expired code or another role,
    ``PAIRING-RATE-LIMITED`` after too many wrong codes from this machine, ``PIN-MISMATCH``
    if the certificate changed during pairing)."""

    seen: list[str] = []
    async with httpx.AsyncClient(
        base_url=base_url.rstrip("/"), timeout=timeout, verify=pinned_context(None, seen)
    ) as http:
        try:
            await http.get("/readyz")  # the TLS handshake shows the certificate (401 is fine)
        except httpx.HTTPError as exc:
            raise ApiError("NETWORK", f"the branch server at {base_url} did not answer ({exc})") from exc
        if not seen:
            raise ApiError("NETWORK", "pairing needs the server's HTTPS address")
        body = {
            "deskName": desk_name,
            "proof": pairing_proof(code, seen[0]),
            "resourceIds": resource_ids or [],
        }
        if role:
            body["role"] = role
        client = DeskClient.__new__(DeskClient)
        client.base_url, client.http = base_url.rstrip("/"), http
        result = await client._result("POST", "/desks/pair", json=body)
    if len(set(seen)) != 1 or result.get("fingerprint") != seen[0]:
        raise ApiError("PIN-MISMATCH", "the server's certificate changed during pairing; do not trust it")
    return result
