"""The branch API's sync routes (issue #3 §4), mounted by :class:`app.server.BranchServer`
next to ``GET /sync/status`` (which :mod:`app.server.api` serves from
``api.state.sync_status``):

* ``GET /sync/attention`` → ``{"result": [case, ...]}`` (open cases, oldest first; the
  shape of :mod:`app.sync.outbox`). ``?all=true`` includes resolved ones. Without a cloud
  connection: ``[]``.
* ``POST /sync/attention/{id}/resolve`` ``{"resolution": "accept-cloud" | "reapply"}`` →
  the resolved case; 404 ``NOT-FOUND`` for an unknown or already resolved case, 400
  ``VALIDATION`` for another resolution.
* ``POST /sync/now`` → ``{"result": <sync status>}``: retry every waiting operation now and
  pull soon (the reply does not wait for the cycle).

Connection settings (issue #3 §3, "Settings"; :func:`make_settings_router`). Changing them
is for a manager desk (the server's own desk is one; 403 ``FORBIDDEN`` otherwise). Each
route declares its role (:func:`app.server.security.require`):

* ``GET /sync/settings`` → ``{cloud, baseUrl, appId, auth, secretStore ("keyring" |
  "file" | null), secretPath, hasSecret, connected}`` — never the secret.
* ``PUT /sync/settings`` ``{cloud: "ehjzny", baseUrl, appId, apiKey}`` → the same shape:
  the key is tried against the cloud first (400 ``CLOUD-AUTH-FAILED`` when refused, 502
  ``CLOUD-UNREACHABLE`` without an answer), then saved (key in the OS keyring, else a 0600
  file) and the sync engine (re)started inside the running server. Without ``apiKey`` the
  stored secret of the same account is kept.
* ``POST /sync/otp/request`` ``{cloud, baseUrl, appId, phone | email}`` → ``{"sent": true}``;
  ``POST /sync/otp/verify`` (same plus ``code``) → the settings, connected with the OTP
  login's refresh token (``auth: "otp"``); 400 ``CLOUD-AUTH-FAILED`` for a wrong code.
* ``DELETE /sync/settings`` → the settings after disconnecting (the engine stops; the
  connection and its secret are forgotten; local data stays).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.domain import errors
from app.domain.errors import BookingError
from app.server.security import Role, require
from app.sync.engine import SyncEngine
from app.sync.settings import CloudConfig

CLOUDS = ("ehjzny",)


class ResolveBody(BaseModel):
    resolution: str


class SettingsBody(BaseModel):
    cloud: str = "ehjzny"
    baseUrl: str = Field(min_length=1, max_length=500)
    appId: str = Field(min_length=1, max_length=200)
    apiKey: str | None = Field(None, max_length=2000)


class OtpBody(BaseModel):
    cloud: str = "ehjzny"
    baseUrl: str = Field(min_length=1, max_length=500)
    appId: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    code: str | None = Field(None, max_length=20)


def make_router(engine: SyncEngine | Callable[[], SyncEngine | None]) -> APIRouter:
    """The attention and sync-now routes over ``engine``, or over ``engine()`` (the engine
    running now, None when the branch has no cloud connection)."""
    current = engine if callable(engine) and not isinstance(engine, SyncEngine) else (lambda: engine)
    router = APIRouter(prefix="/sync")

    @router.get("/attention", dependencies=[require(Role.RECEPTION)])
    async def attention(all: bool = False):
        running = current()
        return {"result": running.outbox.attention(include_resolved=all) if running else []}

    @router.post("/attention/{case_id}/resolve", dependencies=[require(Role.RECEPTION)])
    async def resolve(case_id: str, body: ResolveBody):
        running = current()
        if running is None:
            raise errors.not_found("attention case", case_id)
        try:
            return {"result": running.resolve(case_id, body.resolution)}
        except KeyError:
            raise errors.not_found("attention case", case_id) from None
        except ValueError as exc:
            raise errors.invalid(str(exc), field="resolution") from None

    @router.post("/upload-local", dependencies=[require(Role.MANAGER)])
    async def upload_local(request: Request):
        """Offer made on connecting: queue a create for every local booking the cloud does
        not have (``{"result": {"queued": n, ...status}}``). The demo clinic is refused
        (409 SYNC-DEMO-DATA): its made-up patients must never reach the cloud."""
        running = current()
        if running is None:
            raise BookingError("SYNC-NOT-CONNECTED", "the branch is not connected to a cloud account", 409)
        if running.store.db.execute("select 1 from cloud_ids where cloud = 'demo' limit 1").fetchone():
            raise BookingError("SYNC-DEMO-DATA", "this branch holds the demo clinic; its bookings are not "
                               "uploaded to a real cloud account", 409)
        queued = running.upload_local()
        return {"result": {"queued": queued, **running.status()}}

    @router.post("/now", dependencies=[require(Role.RECEPTION)])
    async def now():
        running = current()
        if running is None:
            return {"result": {"online": False, "connected": False, "cloud": None, "lastPullAt": None,
                               "pending": 0, "needsAttention": 0}}
        running.request_cycle()
        return {"result": running.status()}

    return router


def _cloud(name: str) -> None:
    if name not in CLOUDS:
        raise errors.invalid(f"cloud must be one of {', '.join(CLOUDS)}", field="cloud")


def _url(text: str) -> str:
    url = text.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise errors.invalid("the cloud address starts with https://", field="baseUrl")
    return url


def _cloud_failure(exc: Exception) -> BookingError:
    from app.sync.ehjzny.client import CloudError

    if isinstance(exc, CloudError) and not exc.transient:
        return BookingError("CLOUD-AUTH-FAILED", f"the cloud refused the credentials ({exc.code}: {exc.message})",
                            400, cloudCode=exc.code)
    return BookingError("CLOUD-UNREACHABLE", f"the cloud did not answer ({exc})", 502)


async def check_credentials(config: CloudConfig) -> None:
    """One authenticated call (a page of one resource). Raises CLOUD-AUTH-FAILED or
    CLOUD-UNREACHABLE (:class:`BookingError`)."""
    from app.sync.ehjzny.client import CloudError, EhjznyClient, TransportError

    async def token() -> str:
        return config.secret or ""

    client = EhjznyClient(config.base_url, config.app_id, token, timeout=10.0)
    try:
        await client.call("resources", params={"limit": 1})
    except (CloudError, TransportError) as exc:
        raise _cloud_failure(exc) from None
    finally:
        await client.aclose()


def make_settings_router(store, connect: Callable[[CloudConfig], Awaitable[None]],
                         disconnect: Callable[[], Awaitable[None]],
                         connected: Callable[[], bool]) -> APIRouter:
    """``/sync/settings`` and the OTP sign-in over ``store``; ``connect(config)`` starts (or
    restarts) the sync engine in the running server, ``disconnect()`` stops it,
    ``connected()`` tells whether one runs."""
    from app.sync import settings

    router = APIRouter(prefix="/sync")

    def shown() -> dict:
        return {"result": settings.public_settings(store, connected())}

    def no_demo() -> None:
        """A branch filled with the demo clinic is not connected to a real account: its made-up
        patients would be pushed to the cloud and mixed with the real ones."""
        if store.db.execute("select 1 from cloud_ids where cloud = 'demo' limit 1").fetchone():
            raise BookingError("SYNC-DEMO-DATA", "this branch holds the demo clinic; connect the cloud "
                               "account from a new branch (the first-run page or another data directory)", 409)

    async def save(config: CloudConfig) -> dict:
        settings.connect(store, config)
        await connect(config)
        return shown()

    @router.get("/settings", dependencies=[require(Role.RECEPTION)])
    async def get_settings():
        return shown()

    @router.put("/settings", dependencies=[require(Role.MANAGER)])
    async def put_settings(body: SettingsBody, request: Request):
        _cloud(body.cloud)
        no_demo()
        config = CloudConfig(_url(body.baseUrl), body.appId.strip(), (body.apiKey or "").strip() or None,
                             auth="apiKey", cloud=body.cloud)
        if config.secret is None:
            stored = settings.load_config(store, base_url=config.base_url, app_id=config.app_id)
            if stored is None or not stored.secret:
                raise errors.invalid("the API key is required", field="apiKey")
            config.secret, config.auth = stored.secret, stored.auth
        if config.auth == "apiKey":
            await check_credentials(config)
        return await save(config)

    @router.delete("/settings", dependencies=[require(Role.MANAGER)])
    async def delete_settings(request: Request):
        await disconnect()
        settings.disconnect(store)
        return shown()

    async def otp(body: OtpBody, request: Request, verify: bool) -> dict:
        from app.sync.ehjzny.client import CloudError, TransportError

        _cloud(body.cloud)
        no_demo()
        if not (body.phone or body.email):
            raise errors.invalid("give the phone number (or email) the code goes to", field="phone")
        if verify and not body.code:
            raise errors.invalid("give the code you received", field="code")
        url = _url(body.baseUrl)
        try:
            answer = await settings.otp_login(url, body.appId.strip(), phone=body.phone or None,
                                              email=body.email or None, code=body.code if verify else None)
        except (CloudError, TransportError) as exc:
            raise _cloud_failure(exc) from None
        if not verify:
            return {"result": {"sent": True}}
        if not answer.get("refreshToken"):
            raise BookingError("CLOUD-AUTH-FAILED", "the cloud gave no refresh token", 400)
        return await save(CloudConfig(url, body.appId.strip(), answer["refreshToken"], auth="otp", cloud=body.cloud))

    @router.post("/otp/request", dependencies=[require(Role.MANAGER)])
    async def otp_request(body: OtpBody, request: Request):
        return await otp(body, request, verify=False)

    @router.post("/otp/verify", dependencies=[require(Role.MANAGER)])
    async def otp_verify(body: OtpBody, request: Request):
        return await otp(body, request, verify=True)

    return router
