"""Local ids: ULIDs, sortable by creation, independent of any cloud id."""

from ulid import ULID


def new_id() -> str:
    """A new local id (26-character Crockford base32 ULID)."""
    return str(ULID())
