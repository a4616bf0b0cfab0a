"""The branch API's sync routes, mounted by :class:`app.composition.BranchServer`
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

Connection settings (:func:`make_settings_router`). Changing them
is for a manager desk (the server's own desk is one; 403 ``FORBIDDEN`` otherwise). Each
route declares its role (:func:`app.server.security.require`):

* ``GET /sync/clouds`` → ``{"result": [connector, ...]}``: every registered cloud's name,
  title, capabilities, connection fields and sign-in steps
  (:meth:`app.sync.connector.ConnectorInfo.describe`); the settings dialog is built from it.
* ``GET /sync/settings`` → ``{cloud, baseUrl, account, appId, auth, extra, secretStore
  ("keyring" | "file" | null), secretPath, hasSecret, connected, clouds}`` — never the secret.
* ``PUT /sync/settings`` ``{cloud, baseUrl, account (or appId), secret (or apiKey), extra}``
  → the same shape: the credential is tried against the cloud first (400
  ``CLOUD-AUTH-FAILED`` when refused, 502 ``CLOUD-UNREACHABLE`` without an answer), then
  saved (secret in the OS keyring, else a 0600 file) and the sync engine (re)started inside
  the running server. Without a secret the stored secret of the same account is kept. 400
  ``VALIDATION`` (field ``cloud``) for a cloud that is not registered.
* ``POST /sync/sign-in/{step}`` ``{cloud, baseUrl, account, values: {...}}`` → a step of
  the cloud's sign-in (its declared ``signIn`` steps): ``{"sent": true, "message"}`` until
  the last step, which connects (the settings, with the sign-in's credential).
  ``POST /sync/otp/request`` and ``/sync/otp/verify`` (``{cloud, baseUrl, appId, phone |
  email, code}``) are the same for the steps ``request`` and ``verify``; 400
  ``CLOUD-AUTH-FAILED`` for a wrong code.
* ``POST /sync/choices/{key}`` ``{cloud, baseUrl, account, secret, extra}`` → ``{"result":
  [{value, label, labels: {en, ar}}]}``: the values the cloud lists for a field it declares
  ``listed`` (e.g. the Rekaz branches the key can see), asked with the credentials given
  (or the stored secret of the same account); 400 ``VALIDATION`` (field ``key``) for a field
  the cloud does not list, ``CLOUD-AUTH-FAILED`` / ``CLOUD-UNREACHABLE`` as for connecting.
* ``DELETE /sync/settings`` → the settings after disconnecting (the engine stops; the
  connection and its secret are forgotten; local data stays).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.domain import errors
from app.domain.errors import BookingError
from app.server.security import Role, require
from app.sync import registry
from app.sync.connector import BareContext, CloudConfig, FailureKind
from app.sync.engine import SyncEngine


class ResolveBody(BaseModel):
    resolution: str


class SettingsBody(BaseModel):
    cloud: str | None = Field(None, max_length=40)
    baseUrl: str = Field(min_length=1, max_length=500)
    account: str | None = Field(None, max_length=200)
    appId: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, max_length=2000)
    apiKey: str | None = Field(None, max_length=2000)
    extra: dict[str, str] = Field(default_factory=dict, max_length=20)

    def account_id(self) -> str:
        account = (self.account or self.appId or "").strip()
        if not account:
            raise errors.invalid("the account (app id) is required", field="account")
        return account


class SignInBody(BaseModel):
    cloud: str | None = Field(None, max_length=40)
    baseUrl: str = Field(min_length=1, max_length=500)
    account: str | None = Field(None, max_length=200)
    appId: str | None = Field(None, max_length=200)
    values: dict[str, str] = Field(default_factory=dict, max_length=20)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    code: str | None = Field(None, max_length=20)

    def account_id(self) -> str:
        account = (self.account or self.appId or "").strip()
        if not account:
            raise errors.invalid("the account (app id) is required", field="account")
        return account


def make_router(engine: SyncEngine | Callable[[], SyncEngine | None]) -> APIRouter:
    """The attention and sync-now routes over ``engine``, or over ``engine()`` (the engine
    running now, None when the branch has no cloud connection)."""
    current = engine if callable(engine) and not isinstance(engine, SyncEngine) else (lambda: engine)
    router = APIRouter(prefix="/sync")

    @router.get("/attention", dependencies=[require(Role.RECEPTION)])
    async def attention(all: bool = False):
        running = current()
        return {"result": await running.store.read(running.outbox.attention, all) if running else []}

    @router.post("/attention/{case_id}/resolve", dependencies=[require(Role.RECEPTION)])
    async def resolve(case_id: str, body: ResolveBody):
        running = current()
        if running is None:
            raise errors.not_found("attention case", case_id)
        try:
            return {"result": await running.store.write(running.resolve, case_id, body.resolution)}
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

        def upload() -> dict:
            if running.store.db.execute("select 1 from cloud_ids where cloud = 'demo' limit 1").fetchone():
                raise BookingError(
                    "SYNC-DEMO-DATA",
                    "this branch holds the demo clinic; its bookings are not "
                    "uploaded to a real cloud account",
                    409,
                )
            return {"queued": running.upload_local(), **running.status()}

        return {"result": await running.store.write(upload)}

    @router.post("/now", dependencies=[require(Role.RECEPTION)])
    async def now():
        running = current()
        if running is None:
            return {
                "result": {
                    "online": False,
                    "connected": False,
                    "cloud": None,
                    "lastPullAt": None,
                    "pending": 0,
                    "needsAttention": 0,
                }
            }
        await running.store.write(running.request_cycle)
        return {"result": await running.store.read(running.status)}

    return router


def _cloud(name: str | None):
    try:
        return registry.get(name)
    except KeyError:
        raise errors.invalid(f"cloud must be one of {', '.join(registry.names())}", field="cloud") from None


def _url(text: str) -> str:
    url = text.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise errors.invalid("the cloud address starts with https://", field="baseUrl")
    return url


def _cloud_failure(info, exc: Exception) -> BookingError:
    failure = info.factory(CloudConfig("http://x", "x", cloud=info.name), BareContext()).classify(exc)
    if failure is None:
        raise exc
    if failure.kind != FailureKind.TRANSIENT:
        return BookingError(
            "CLOUD-AUTH-FAILED",
            f"the cloud refused the credentials ({failure.code}: {failure.message})",
            400,
            cloudCode=failure.code,
        )
    return BookingError("CLOUD-UNREACHABLE", f"the cloud did not answer ({exc})", 502)


async def check_credentials(config: CloudConfig) -> None:
    """One authenticated call of the connector (:meth:`~app.sync.connector.Connector.check`).
    Raises CLOUD-AUTH-FAILED or CLOUD-UNREACHABLE (:class:`BookingError`)."""
    info = registry.get(config.cloud)
    connector = info.factory(config, BareContext())
    try:
        await connector.check()
    except Exception as exc:
        raise _cloud_failure(info, exc) from None
    finally:
        await connector.close()


def make_settings_router(
    store,
    connect: Callable[[CloudConfig], Awaitable[None]],
    disconnect: Callable[[], Awaitable[None]],
    connected: Callable[[], bool],
) -> APIRouter:
    """``/sync/settings`` and the OTP sign-in over ``store``; ``connect(config)`` starts (or
    restarts) the sync engine in the running server, ``disconnect()`` stops it,
    ``connected()`` tells whether one runs."""
    from app.sync import connection

    router = APIRouter(prefix="/sync")

    def shown() -> dict:
        return {"result": connection.public_settings(store, connected())}

    def no_demo() -> None:
        """A branch filled with the demo clinic is not connected to a real account: its made-up
        patients would be pushed to the cloud and mixed with the real ones."""
        if store.db.execute("select 1 from cloud_ids where cloud = 'demo' limit 1").fetchone():
            raise BookingError(
                "SYNC-DEMO-DATA",
                "this branch holds the demo clinic; connect the cloud "
                "account from a new branch (the first-run page or another data directory)",
                409,
            )

    async def save(config: CloudConfig) -> dict:
        await store.write(connection.connect, store, config)
        await connect(config)
        return await store.read(shown)

    @router.get("/settings", dependencies=[require(Role.RECEPTION)])
    async def get_settings():
        return await store.read(shown)

    @router.put("/settings", dependencies=[require(Role.MANAGER)])
    async def put_settings(body: SettingsBody, request: Request):
        info = _cloud(body.cloud)
        await store.read(no_demo)
        secret = (body.secret or body.apiKey or "").strip() or None
        config = CloudConfig(
            _url(body.baseUrl),
            body.account_id(),
            secret,
            auth=info.auth_kinds[0][0],
            cloud=info.name,
            extra={k: v.strip() for k, v in body.extra.items()},
        )
        if config.secret is None:
            stored = await store.read(
                functools.partial(
                    connection.load_config,
                    store,
                    cloud=info.name,
                    base_url=config.base_url,
                    account=config.account,
                )
            )
            if (stored is None or not stored.secret) and info.secret_required:
                raise errors.invalid("the key is required", field="secret")
            if stored is not None and stored.secret:
                config.secret, config.auth = stored.secret, stored.auth
        if config.auth == info.auth_kinds[0][0]:
            await check_credentials(config)
        return await save(config)

    @router.post("/choices/{key}", dependencies=[require(Role.MANAGER)])
    async def choices(key: str, body: SettingsBody, request: Request):
        info = _cloud(body.cloud)
        declared = info.field(key)
        if declared is None or not declared.listed:
            raise errors.invalid(f"{info.title} lists no values for {key!r}", field="key")
        secret = (body.secret or body.apiKey or "").strip() or None
        config = CloudConfig(
            _url(body.baseUrl),
            body.account_id(),
            secret,
            auth=info.auth_kinds[0][0],
            cloud=info.name,
            extra={k: v.strip() for k, v in body.extra.items()},
        )
        if config.secret is None:
            stored = connection.load_config(
                store, cloud=info.name, base_url=config.base_url, account=config.account
            )
            if (stored is None or not stored.secret) and info.secret_required:
                raise errors.invalid("the key is required", field="secret")
            if stored is not None and stored.secret:
                config.secret, config.auth = stored.secret, stored.auth
        connector = info.factory(config, BareContext())
        if not callable(getattr(connector, "choices", None)):
            raise errors.invalid(f"{info.title} lists no values for {key!r}", field="key")
        try:
            found = await connector.choices(key)
        except Exception as exc:
            raise _cloud_failure(info, exc) from None
        finally:
            await connector.close()
        return {"result": found}

    @router.delete("/settings", dependencies=[require(Role.MANAGER)])
    async def delete_settings(request: Request):
        await disconnect()
        await store.write(connection.disconnect, store)
        return await store.read(shown)

    async def sign_in(step: str, body: SignInBody) -> dict:
        info = _cloud(body.cloud)
        await store.read(no_demo)
        steps = [s.name for s in info.sign_in]
        if info.sign_in_step is None or step not in steps:
            raise errors.invalid(f"{info.title} has no sign-in step {step!r}", field="step")
        values = {
            **body.values,
            **{k: v for k, v in (("phone", body.phone), ("email", body.email), ("code", body.code)) if v},
        }
        for declared in next(s for s in info.sign_in if s.name == step).fields:
            if (
                declared.required
                and not values.get(declared.key)
                and not (declared.key == "phone" and values.get("email"))
            ):
                raise errors.invalid(f"give the {declared.label.lower()}", field=declared.key)
        config = CloudConfig(_url(body.baseUrl), body.account_id(), cloud=info.name)
        try:
            answer = await info.sign_in_step(config, step, values)
        except Exception as exc:
            raise _cloud_failure(info, exc) from None
        if not answer.done:
            return {"result": {"sent": True, "message": answer.message}}
        if not answer.secret:
            raise BookingError("CLOUD-AUTH-FAILED", "the cloud gave no credential", 400)
        config.secret, config.auth = answer.secret, answer.auth or config.auth
        return await save(config)

    @router.get("/clouds", dependencies=[require(Role.RECEPTION)])
    async def clouds():
        return {"result": registry.describe()}

    @router.post("/sign-in/{step}", dependencies=[require(Role.MANAGER)])
    async def sign_in_route(step: str, body: SignInBody, request: Request):
        return await sign_in(step, body)

    @router.post("/otp/request", dependencies=[require(Role.MANAGER)])
    async def otp_request(body: SignInBody, request: Request):
        if not (body.phone or body.email or body.values):
            raise errors.invalid("give the phone number (or email) the code goes to", field="phone")
        return await sign_in("request", body)

    @router.post("/otp/verify", dependencies=[require(Role.MANAGER)])
    async def otp_verify(body: SignInBody, request: Request):
        if not (body.phone or body.email or body.values):
            raise errors.invalid("give the phone number (or email) the code goes to", field="phone")
        if not (body.code or body.values.get("code")):
            raise errors.invalid("give the code you received", field="code")
        return await sign_in("verify", body)

    return router
