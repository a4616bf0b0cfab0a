"""The branch's SQLite store (one file per branch, WAL, through sqlite-utils)."""

from app.store.store import Store, open_store

__all__ = ["Store", "open_store"]
