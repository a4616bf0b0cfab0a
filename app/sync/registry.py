"""The registered clouds: what the engine, the command line, the sync routes, the
settings, the keyring and the UI (through the branch API) read instead of naming a cloud.

A connector lives in its own package ``app/sync/<name>/`` whose ``connector`` module
defines ``CONNECTOR`` (a :class:`~app.sync.connector.ConnectorInfo`). The registry finds
every such package on first use (no list to edit when a cloud is added; a frozen build
lists them through PyInstaller's ``pkgutil`` hook and ``collect_submodules``);
:func:`register` adds one by hand (tests, plug-ins).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from app.sync.connector import ConnectorInfo

log = logging.getLogger(__name__)

_registry: dict[str, ConnectorInfo] = {}
_discovered = False


def register(info: ConnectorInfo) -> ConnectorInfo:
    """Add (or replace) a connector under ``info.name``; returns ``info``."""
    _registry[info.name] = info
    return info


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    import app.sync as package

    for name in sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg):
        try:
            module = importlib.import_module(f"app.sync.{name}.connector")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"app.sync.{name}", f"app.sync.{name}.connector"):
                log.exception("connector %s cannot be imported", name)
            continue
        info = getattr(module, "CONNECTOR", None)
        if isinstance(info, ConnectorInfo) and info.name not in _registry:
            _registry[info.name] = info


def default_cloud() -> str:
    """The cloud used where a stored connection, an argument or a row names none: the
    connector that says it is ``primary`` (else the first by name). Raises LookupError when
    no connector is registered."""
    _discover()
    primary = sorted(n for n, info in _registry.items() if info.primary) or sorted(_registry)
    if not primary:
        raise LookupError("no cloud connector is registered")
    return primary[0]


def names() -> list[str]:
    """The registered cloud names, the default first, then alphabetical (``--cloud``
    choices, the settings dialog's list)."""
    first = default_cloud()
    return sorted(_registry, key=lambda n: (n != first, n))


def connectors() -> list[ConnectorInfo]:
    """Every registered connector, in :func:`names` order."""
    return [_registry[n] for n in names()]


def get(name: str | None) -> ConnectorInfo:
    """The connector ``name`` (None: :func:`default_cloud`). Raises KeyError for an
    unknown name (the message lists the known ones)."""
    _discover()
    name = name or default_cloud()
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown cloud {name!r}; known: {', '.join(names())}") from None


def describe() -> list[dict]:
    """``GET /sync/clouds``: :meth:`ConnectorInfo.describe` of every connector."""
    return [info.describe() for info in connectors()]
