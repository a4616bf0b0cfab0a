"""The demo importer: the generated demo clinic written into a branch store.

The clinic is in Ehjzny's payload shapes (:mod:`app.demo.generator`), so it goes in
through the same Ehjzny mapping the cloud sync uses
(:func:`app.sync.ehjzny.importer.import_clinic`), mapped under the cloud name ``demo``
(a branch holding it is never connected to a real account).
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.store import Store

log = logging.getLogger(__name__)


def load_demo(store: Store, now: datetime | None = None) -> dict:
    """Fill an empty store with the generated demo clinic, relative to today. Returns the
    import counts (:func:`app.sync.ehjzny.importer.import_clinic`)."""
    from app.demo import generate_clinic
    from app.domain.clock import local_date, utc_now
    from app.sync.ehjzny.importer import import_clinic

    now = now or utc_now()
    zone = store.zone
    clinic = generate_clinic(local_date(now, zone), zone=zone, now=now)
    counts = import_clinic(store, clinic, cloud="demo")
    log.info("demo clinic imported: %s", counts)
    return counts
