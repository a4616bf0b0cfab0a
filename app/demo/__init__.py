"""Demo data: a deterministic clinic in Ehjzny's payload shapes (see :mod:`app.demo.generator`).

Import it into a store with :func:`app.sync.ehjzny.importer.import_clinic`, the same code the
cloud sync uses.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from app.demo.generator import counts, generate_clinic
from app.domain import clock

__all__ = ["counts", "generate_clinic", "write_clinic_json"]


def write_clinic_json(
    path: str | Path,
    today: date | None = None,
    zone: str = "Asia/Riyadh",
    seed: int = 7,
    now: datetime | None = None,
) -> dict:
    """Generate a clinic (``today`` default: the current date in ``zone``) and write it as
    UTF-8 JSON (Arabic kept readable) to ``path``. Returns :func:`counts` of the clinic."""
    moment = now or clock.utc_now()
    clinic = generate_clinic(today or clock.local_date(moment, zone), zone, seed, moment)
    Path(path).write_text(json.dumps(clinic, ensure_ascii=False, indent=1), encoding="utf-8")
    return counts(clinic)
