"""The branch's SQLite store (one file per branch, WAL, through sqlite-utils)."""

from app.store.lock import BranchInUse, BranchLock, claim_branch
from app.store.store import Store, open_store

__all__ = ["BranchInUse", "BranchLock", "Store", "claim_branch", "open_store"]
