"""The connector interface: what the sync engine needs from one cloud booking platform.

The engine (:mod:`app.sync.engine`) keeps what every cloud shares — the outbox and its
order, backoff, needs-attention, cursors, the sweep of fully read windows, events — and
reaches the cloud only through a :class:`Connector`. A connector package
``app/sync/<name>/`` exposes ``CONNECTOR`` (a :class:`ConnectorInfo`) in its
``connector`` module; :mod:`app.sync.registry` finds it. Nothing outside
``app/sync/<name>/`` names the cloud.

Rows in the domain's shape
    A connector translates the cloud's payloads into the field names of
    :mod:`app.domain.model` (``status``, ``startDateTime`` UTC ISO, ``duration`` minutes,
    ``typeId``, ``resourceId``, ``customerId``, ``note``, ``cancelReason``,
    ``assignmentTimeout`` minutes, ``createdAt``, ``updatedAt``; resources and booking types
    as their store rows). Every id in such a row — ``id`` and the references ``typeId``,
    ``resourceId``, ``customerId`` and a resource's ``types`` — is **the cloud's id**; the
    engine maps them to local ids through the store's ``cloud_ids`` table (one mapping per
    cloud). A field the cloud does not send is left out of the row (the local value stays).

Errors
    A connector raises whatever its HTTP client raises; the engine asks
    :meth:`Connector.classify` what a failure means (:class:`Failure`). A malformed payload
    is logged and left out of a page (counted in :attr:`PullPage.set_aside`), never raised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from app.domain.model import Action


class PullMode(StrEnum):
    """How a cloud tells what changed (the platforms' API references; each cloud's ``docs/clouds/`` page, "Pulling").

    ``windows``: no change feed; date windows are listed to the end and a booking mapped
    locally but absent from a fully read window is fetched by id (404: deleted).
    ``changed-since``: a listing filtered by a modified time, plus a list of deleted ids.
    ``sync-token``: the last page gives a token for the next pull (changes and deletions).
    ``none``: nothing to pull but known bookings by id (push plus known-customer pull).
    """

    WINDOWS = "windows"
    CHANGED_SINCE = "changed-since"
    SYNC_TOKEN = "sync-token"
    NONE = "none"


@dataclass(frozen=True)
class Capabilities:
    """What a cloud can do. A desk action whose capability is False stays the desk's own
    (:meth:`Connector.plan` returns nothing for it); a test of a capability that is False is
    skipped by this declaration, never by silence.

    ``queue``: queue (instant) bookings and accept/assign; ``walk_ins``: a desk's walk-in
    joins the cloud's queue when it is made (else it stays the desk's own until accepted,
    then goes as a timed booking); ``end_early``: end a booking
    before its time; ``holds``: temporary bookings and their confirmation; ``approve``:
    bookings pending approval; ``attendances``: check-ins reach the cloud;
    ``visit_status_push``: check-in / start / no-show are sent; ``payments``: payments
    reach the cloud; ``reschedule_new_id``: a reschedule makes a new cloud booking (the old
    id is retired); ``customer_write``: customers are created/updated in the cloud
    (otherwise sent inside a booking); ``time_rules_write``: working hours are sent;
    ``restore``: a cancel taken back is booked again; ``pull_mode``: :class:`PullMode`;
    ``deleted_feed``: the cloud lists deleted bookings (else a sweep finds them);
    ``payments_down``: a pulled booking carries what the cloud knows about its money
    (:attr:`CloudBooking.money`: price, paid, the cloud's own payments), shown on every desk.
    """

    pull_mode: PullMode
    queue: bool = False
    walk_ins: bool = False
    end_early: bool = False
    holds: bool = False
    approve: bool = False
    attendances: bool = False
    visit_status_push: bool = False
    payments: bool = False
    reschedule_new_id: bool = False
    customer_write: bool = False
    time_rules_write: bool = False
    restore: bool = False
    deleted_feed: bool = False
    payments_down: bool = False

    def as_dict(self) -> dict[str, Any]:
        """``{name: bool, "pull_mode": str}`` (``GET /sync/clouds``, the conformance suite)."""
        return {k: (v.value if isinstance(v, PullMode) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ConfigField:
    """One field of a connection, as the settings dialog and the command line show it.

    ``key``: where the value goes — ``"baseUrl"``, ``"account"`` (app id / tenant / company
    / key id: :attr:`CloudConfig.account`), ``"secret"`` (API key, token or password: kept
    in the keyring, never in the branch database) or any other name (kept in
    :attr:`CloudConfig.extra`). ``label``/``help``: English msgids; the UI translates them
    with ``_()`` (the connector marks them with ``N_`` so extraction finds them).
    ``kind``: ``"url"`` | ``"text"`` | ``"secret"`` | ``"phone"`` | ``"choice"``;
    ``choices``: ``(value, label msgid)`` pairs for ``"choice"``. ``cli``: the long option
    of the command line besides the generic ones (``--cloud-url``, ``--cloud-account``),
    e.g. ``"app-id"`` as one cloud's own spelling of ``--cloud-account``. ``listed``: the
    cloud lists the values once the credentials are given (``POST /sync/choices/{key}``,
    the connector's ``choices(key)``), and the settings dialog offers them to pick from.
    """

    key: str
    label: str
    kind: str = "text"
    required: bool = True
    help: str = ""
    default: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    cli: str | None = None
    listed: bool = False


@dataclass(frozen=True)
class SignInStep:
    """One step of an interactive sign-in (e.g. request an SMS code, then verify it).
    ``name`` is passed to :meth:`Connector.sign_in`; ``fields`` are asked in this step;
    ``label`` is the button's msgid."""

    name: str
    label: str
    fields: tuple[ConfigField, ...] = ()


@dataclass
class SignInResult:
    """The answer to one sign-in step: ``done`` (True: ``secret`` and ``auth`` are the
    connection's credential now), ``message`` (a msgid to show, e.g. "code sent"),
    ``data`` (anything else the cloud said that the dialog may show)."""

    done: bool
    secret: str | None = None
    auth: str | None = None
    message: str | None = None
    data: dict = field(default_factory=dict)


@dataclass
class CloudConfig:
    """One branch's connection to one cloud.

    ``base_url`` (no trailing slash), ``account`` (app id, tenant, company or key id),
    ``secret`` (API key, token, password or refresh token; never stored in the branch
    database), ``auth`` (the connector's auth kind, e.g. ``"apiKey"`` | ``"otp"``),
    ``cloud`` (the connector's :attr:`ConnectorInfo.name`; empty: the registry's default
    cloud), ``extra`` (other declared
    :class:`ConfigField` values). The keyring entry's user is :attr:`secret_user`.
    """

    base_url: str
    account: str
    secret: str | None = None
    auth: str = "apiKey"
    cloud: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.cloud:  # the default cloud (the registry's primary connector)
            from app.sync import registry

            self.cloud = registry.default_cloud()

    @property
    def app_id(self) -> str:
        """The primary cloud's name for :attr:`account` (kept for callers that say so)."""
        return self.account

    @property
    def secret_user(self) -> str:
        """The keyring user of this connection's secret: ``<account>@<base url>``."""
        return f"{self.account}@{self.base_url.rstrip('/')}"

    def to_setting(self) -> dict:
        """The stored form (no secret): ``{cloud, baseUrl, account, appId, auth, extra}``
        (``appId`` repeats ``account`` for readers of the older form)."""
        return {
            "cloud": self.cloud,
            "baseUrl": self.base_url.rstrip("/"),
            "account": self.account,
            "appId": self.account,
            "auth": self.auth,
            "extra": dict(self.extra),
        }


class FailureKind(StrEnum):
    """What a failed call means for the engine (:meth:`Connector.classify`).

    ``transient``: no answer, 5xx, 429 — kept and retried after a backoff (the request may
    have been handled: a retry of a write looks for it first, :meth:`Connector.find_sent`).
    ``auth``: the credential is refused or expired — retried later, shown in the status.
    ``refused``: the cloud said no (validation, conflict, slot taken) — the case goes to
    needs-attention. ``not_found``: the cloud has no such object. ``cursor_expired``: a
    page or sync token is no longer valid — the listing restarts from the beginning.
    """

    TRANSIENT = "transient"
    AUTH = "auth"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    CURSOR_EXPIRED = "cursor_expired"


class NotSendable(ValueError):
    """The desk's change cannot be put in the cloud's terms: a field the cloud requires is
    missing (e.g. a customer with neither phone nor e-mail, which Ehjzny books by). Raised by
    a connector while building a request, before anything is sent. The engine keeps the
    booking as the desk has it, sends nothing more for it, and opens a needs-attention case
    (code ``SYNC-NOT-SENT``, the exception's text as the message: say what is missing, in
    words staff can act on); re-applying the case after the fix sends it. A connector may
    subclass it with a ``code`` of its own (a label the desk translates)."""

    code = "SYNC-NOT-SENT"


@dataclass(frozen=True)
class Failure:
    """``kind``; ``retry_after`` seconds (the cloud's ``Retry-After``, or None); ``code`` and
    ``message`` (the cloud's, for needs-attention and the status); ``status`` (HTTP, or
    None when there was no answer). (A change the cloud cannot take at all, which stays the
    desk's own, is not a failure of a call: :class:`NotSendable`.)"""

    kind: FailureKind
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    status: int | None = None


@dataclass(frozen=True)
class CloudPayment:
    """One payment the cloud lists on a booking. ``cloud_id``: the cloud's payment id (a
    payment the desk pushed is recognised by it and not counted twice); ``amount``: major
    units as decimal text, VAT included (``"230.00"``; a refund negative); ``method``: the
    desk's word (``cash`` | ``card`` | ``transfer`` | ``online``, :mod:`app.domain.payments`)
    or ``other``; ``kind``: the cloud's own word (e.g. ``prepaid``); ``vat_rate``: basis
    points, or None when the cloud gives none."""

    cloud_id: str
    amount: str
    method: str
    kind: str = ""
    vat_rate: int | None = None


@dataclass(frozen=True)
class CloudMoney:
    """What a cloud says about a booking's money (:attr:`Capabilities.payments_down`).
    Amounts are major units as decimal text, VAT included (the applier converts them to the
    branch currency's minor units). ``price``: the booking's price in the cloud (None: it
    gives none); ``paid``: the total the cloud reports paid when it lists no payments (None:
    not given); ``payments``: the cloud's payments when it lists them (None: it lists none;
    then ``paid`` counts); ``fully_paid``: the cloud's own "paid" flag, or None;
    ``reference``: the cloud's invoice or receipt reference, or None."""

    price: str | None = None
    paid: str | None = None
    payments: tuple[CloudPayment, ...] | None = None
    fully_paid: bool | None = None
    reference: str | None = None


@dataclass
class CloudBooking:
    """A cloud booking in the domain's shape. ``row``: booking fields (see the module
    docstring; ids are the cloud's, ``row["id"]`` is :attr:`cloud_id`); ``customer``: the
    embedded customer as a customer row (cloud id) when the cloud sent one, to create or
    match the local customer; ``replaced_by``: the new cloud id when the cloud says a
    reschedule replaced this booking; ``raw``: the payload (kept with needs-attention);
    ``change``: the cloud's own account of its last change, when it keeps one (e.g.
    ``{"type", "at" (UTC), "channel", "by", "user"}``), copied into the history entry of
    the change it brings; ``problems``: what could not be mapped (each opens a
    needs-attention case); ``money``: what the cloud says about its price and payments
    (:class:`CloudMoney`; None: nothing, the stored figures stay); ``history``: the cloud's
    own history of the booking, when it keeps one, oldest first, as history entries
    ``{"key", "createdAt" (UTC), "action": "cloud.<kind>", "actor": <cloud>, "after": {...}}``
    (``key`` names the entry in the cloud, so each is copied into the booking's history
    once; ``change["key"]``, when given, is that of the entry ``change`` is)."""

    cloud_id: str
    row: dict
    customer: dict | None = None
    replaced_by: str | None = None
    raw: dict | None = None
    change: dict | None = None
    #: what the connector could not map and staff must look at, ``[{"code", "message"}]``
    #: (e.g. a provider name that fits no resource); each opens one needs-attention case
    problems: list[dict] = field(default_factory=list)
    money: CloudMoney | None = None
    history: list[dict] | None = None


@dataclass(frozen=True)
class Window:
    """A part of the bookings the cloud listed completely: bookings whose ``column``
    (``"startDateTime"`` or ``"createdAt"``) is in ``[start, end)`` (UTC ISO; ``end`` None:
    open). The engine fetches every local booking of that cloud inside it that the listing
    did not return (:meth:`Connector.fetch`; None: deleted locally)."""

    name: str
    column: str
    start: str
    end: str | None = None


@dataclass
class PullPage:
    """One page of a pull, committed by the engine in one transaction with ``cursor``.

    ``bookings``: changed or listed bookings; ``deleted``: cloud ids the cloud says are
    deleted; ``cursor``: the connector's whole pull state after this page (JSON-able; given
    back to the next :meth:`Connector.pull`, also after a restart); ``window``: the name of
    the :class:`Window` these bookings belong to (their ids are remembered for its sweep),
    or None; ``restarted``: the listing of ``window`` starts again here (forget ids seen
    before); ``windows_done``: windows read to their end with this page; ``set_aside``:
    malformed payloads left out (logged)."""

    bookings: list[CloudBooking] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cursor: dict | None = None
    window: str | None = None
    restarted: bool = False
    windows_done: list[Window] = field(default_factory=list)
    set_aside: int = 0


@dataclass
class Reference:
    """Reference data in the domain's shape (ids the cloud's): ``resources`` (store rows,
    with ``timeRules`` per :mod:`app.domain.timerules`; hours that cannot be read are
    "unknown", never closed), ``types``, ``customers``; ``hours_unknown``: cloud ids of
    resources whose hours could not be read."""

    resources: list[dict] = field(default_factory=list)
    types: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    hours_unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedOp:
    """One cloud operation a desk change needs (:meth:`Connector.plan`): ``action`` (the
    connector's name, e.g. ``"create"``, ``"assign"``); ``fields``: the cloud-owned fields
    it changes, which a pull leaves alone while it waits (None: every field that differs
    between before and after); ``creates``: it makes a new cloud booking (after a lost
    reply the engine looks for it by natural key before sending again)."""

    action: str
    fields: tuple[str, ...] | None = None
    creates: bool = False


@dataclass
class Operation:
    """An outbox row as a connector sees it. ``id``: the operation id (the same on every
    retry); ``booking_id``: local (``resource:<id>`` for a time-rule edit); ``action``;
    ``payload``: ``{"before", "after", "actor"}`` — the desk's rows (local ids; use
    :class:`ConnectorContext` to find the cloud's); ``attempts``; ``requested_at``: UTC ISO,
    set once the write may have reached the cloud (a retry must look first); ``steps``: the
    persisted step state of a multi-step operation (``{}`` at first; save it with
    :meth:`ConnectorContext.save_steps` before each step goes out). A step key ending in
    ``Id`` holds a cloud booking id (e.g. ``newId``): while the operation waits, a pull never
    takes that booking for a new one (it is this operation's, mapped when it completes)."""

    id: str
    booking_id: str
    action: str
    payload: dict
    attempts: int = 0
    requested_at: str | None = None
    steps: dict = field(default_factory=dict)


@dataclass
class SendResult:
    """What :meth:`Connector.send` got back: ``booking``: the cloud's booking afterwards
    (None: nothing to apply, e.g. a time-rule edit or a delete); ``replaces``: the cloud id
    it replaced (a reschedule that makes a new id); ``payment_id``: the cloud's id of the
    payment a ``payment`` operation added (kept with the desk's payment, so the payment
    does not come back down as a second one)."""

    booking: CloudBooking | None = None
    replaces: str | None = None
    payment_id: str | None = None


class ConnectorContext(Protocol):
    """What the engine lends a connector (no store, no HTTP server): id look-ups in this
    cloud's mapping, the branch zone, and commits of an operation's progress."""

    @property
    def zone(self) -> str:
        """The branch's IANA zone (local cloud times are converted with it, in the
        connector's mapping module only)."""
        ...

    def now(self) -> datetime:
        """Aware UTC."""
        ...

    def cloud_id(self, entity: str, local_id: str) -> str | None:
        """This cloud's id of a local ``booking`` | ``customer`` | ``resource`` | ``type``."""
        ...

    def local_id(self, entity: str, cloud_id: str) -> str | None:
        """The local id of this cloud's ``entity`` id, or None when not mapped."""
        ...

    def customer(self, local_id: str) -> dict | None:
        """The local customer row (``firstName``, ``lastName``, ``phone`` E.164, ``email``)."""
        ...

    def held_bookings(self, since: str) -> list[dict]:
        """This cloud's bookings the branch holds that start at or after ``since`` (UTC ISO):
        ``[{"cloudId", "localId", "customer" (this cloud's customer id, or None),
        "localCustomer", "startDateTime", "status"}]`` (a known-customer pull)."""
        ...

    @property
    def pull_asked(self) -> bool:
        """The pull running now was asked for by staff (``POST /sync/now``, ``sync --once``)."""
        ...

    async def off_loop(self, fn, *args):
        """``fn(*args)`` (CPU work such as reading a page of payloads) on a worker thread,
        never alongside the engine's page writes (they would slow each other down on the
        interpreter lock); the loop serves desks meanwhile. Returns what ``fn`` returns."""
        ...

    async def mark_requested(self, op: Operation) -> None:
        """Commit that ``op`` is about to go out (``requested_at`` = now, attempts + 1) —
        call it just before a write that may commit in the cloud without a reply."""
        ...

    async def save_steps(self, op: Operation, steps: dict) -> None:
        """Commit ``op.steps = steps`` (JSON-able) before the next step of a multi-step
        operation goes out; a retry after a crash or a lost reply starts from there."""
        ...

    async def save_secret(self, secret: str) -> None:
        """Keep a rotated credential (e.g. a new refresh token) where the old one was."""
        ...


@runtime_checkable
class Connector(Protocol):
    """One connection to one cloud account, made by :attr:`ConnectorInfo.factory` with a
    :class:`CloudConfig` and a :class:`ConnectorContext` (kept for :meth:`send`,
    :meth:`find_sent` and rotated credentials). Every method that talks to the
    cloud is async and may raise the connector's own errors (see :meth:`classify`)."""

    name: str
    capabilities: Capabilities
    # Optional: ``read_ahead = True`` when :meth:`pull` reads nothing that applying its pages
    # writes (no lookups of local ids), so the engine may fetch page N+1 while it applies
    # page N (the pages still commit in order, each with its cursor). Not a Protocol member:
    # the connectors without it stay instances of this runtime-checkable Protocol.

    async def open(self) -> None:
        """Create the HTTP client in the running loop (idempotent)."""

    async def close(self) -> None:
        """Close the HTTP client (idempotent)."""

    async def check(self) -> None:
        """Check the credential with one cheap call; raises on failure (classify it)."""

    async def pull_reference(self) -> Reference:
        """Resources (with time rules), booking types and customers."""

    def pull(self, cursor: dict | None, *, full: bool) -> AsyncIterator[PullPage]:
        """The changes since ``cursor`` (None: the first pull, everything), page by page;
        ``full``: also the slow parts (e.g. a far horizon window). The engine commits each
        page with its ``cursor`` before asking for the next, unless the connector says
        :attr:`read_ahead` (then it asks for the next while this one is written). Raises (classify:
        ``cursor_expired``) when the cursor is no longer valid: the engine then calls
        ``pull(None, full=True)``."""

    async def fetch(self, cloud_id: str) -> CloudBooking | None:
        """One booking by cloud id; None when the cloud does not have it (404)."""

    def plan(self, action: Action, before: dict | None, after: dict) -> list[PlannedOp]:
        """The cloud operations a desk change needs (``action``: an
        :class:`~app.domain.model.Action` — ``create``, ``hold``, ``confirm``, ``reschedule``,
        ``accept``, ``cancel``, ``restore``, ``end``, ``check_in``, ``start``, ``no_show``,
        ``time_rules``, ...;
        ``before``/``after``: the booking rows, local ids). ``[]``: the desk's own."""

    async def send(self, op: Operation) -> SendResult:
        """Send one operation (call :meth:`ConnectorContext.mark_requested` before a write,
        :meth:`ConnectorContext.save_steps` between steps). A booking the cloud never had
        is the engine's business (it queues a create first). Raises on failure."""

    async def find_sent(self, op: Operation) -> list[CloudBooking]:
        """Candidates for what an unanswered creating ``op`` may have made (natural key:
        customer, booking type, start, created since ``op.requested_at`` − 1 min); the
        engine picks the one that matches and is not mapped yet."""

    def classify(self, error: BaseException) -> Failure | None:
        """What a raised error means; None: not a cloud error (a bug: re-raised)."""


@dataclass(frozen=True)
class ConnectorInfo:
    """A registered cloud (:func:`app.sync.registry.register`).

    ``name``: the id used everywhere (``--cloud``, ``cloud_ids.cloud``, settings, keyring
    entries); ``title``: the product name, translated where the catalog has it (Rekaz: ركاز); ``capabilities``; ``fields``: the
    connection's fields, in dialog order; ``auth_kinds``: ``(kind, label msgid)`` pairs, the
    first is the default; ``sign_in``: interactive steps (empty: none); ``factory(config,
    ctx, *, transport=None)`` → :class:`Connector` (``ctx``: a :class:`ConnectorContext`) (``transport``: an httpx transport for tests);
    ``sign_in_step(config, step, values)`` → :class:`SignInResult` (async; None without
    sign-in steps); ``default_url``: prefilled base URL, or None; ``synced_fields``: the
    booking fields the cloud owns (a pull writes only these); ``primary``: the default cloud
    (where a connection, an argument or a stored row names none; one connector says so)."""

    name: str
    title: str
    capabilities: Capabilities
    fields: tuple[ConfigField, ...]
    factory: Callable[..., Connector]
    synced_fields: tuple[str, ...]
    auth_kinds: tuple[tuple[str, str], ...] = (("apiKey", "API key"),)
    sign_in: tuple[SignInStep, ...] = ()
    sign_in_step: Callable[[CloudConfig, str, dict], Coroutine[Any, Any, SignInResult]] | None = None
    default_url: str | None = None
    primary: bool = False
    #: customer fields (``firstName``, ``lastName``, ``email``, ``phone``) without which the
    #: cloud takes no booking (the booking dialog warns before saving)
    customer_requires: tuple[str, ...] = ()

    def field(self, key: str) -> ConfigField | None:
        """The declared field ``key``, or None."""
        return next((f for f in self.fields if f.key == key), None)

    @property
    def secret_required(self) -> bool:
        """A connection needs a secret: its ``secret`` field is required, or a sign-in gives
        it. A cloud whose credential is optional declares it ``required=False`` and has no
        sign-in steps."""
        declared = self.field("secret")
        return declared is None or declared.required or bool(self.sign_in)

    def describe(self) -> dict:
        """The JSON form for the settings dialog (``GET /sync/clouds``): ``{name, title,
        capabilities, fields: [{key, label, kind, required, help, default, choices, cli, listed}],
        authKinds: [[kind, label]], signIn: [{name, label, fields}], defaultUrl, customerRequires, secretRequired}``."""

        def one(f: ConfigField) -> dict:
            return {
                "key": f.key,
                "label": f.label,
                "kind": f.kind,
                "required": f.required,
                "help": f.help,
                "default": f.default,
                "choices": [list(c) for c in f.choices],
                "cli": f.cli,
                "listed": f.listed,
            }

        return {
            "name": self.name,
            "title": self.title,
            "capabilities": self.capabilities.as_dict(),
            "fields": [one(f) for f in self.fields],
            "authKinds": [list(a) for a in self.auth_kinds],
            "signIn": [
                {"name": s.name, "label": s.label, "fields": [one(f) for f in s.fields]} for s in self.sign_in
            ],
            "defaultUrl": self.default_url,
            "customerRequires": list(self.customer_requires),
            "secretRequired": self.secret_required,
        }


class BareContext:
    """A :class:`ConnectorContext` without a store, for one-off calls outside the engine
    (a credential check, a sign-in step): nothing is mapped, nothing is committed."""

    def __init__(self, zone: str = "UTC"):
        self._zone = zone

    @property
    def zone(self) -> str:
        return self._zone

    def now(self) -> datetime:
        from datetime import UTC

        return datetime.now(UTC)

    def cloud_id(self, entity: str, local_id: str) -> str | None:
        return None

    def local_id(self, entity: str, cloud_id: str) -> str | None:
        return None

    def customer(self, local_id: str) -> dict | None:
        return None

    def held_bookings(self, since: str) -> list[dict]:
        return []

    @property
    def pull_asked(self) -> bool:
        return False

    async def mark_requested(self, op: Operation) -> None:
        op.requested_at = self.now().isoformat()

    async def save_steps(self, op: Operation, steps: dict) -> None:
        op.steps = dict(steps)

    async def save_secret(self, secret: str) -> None:
        return None
