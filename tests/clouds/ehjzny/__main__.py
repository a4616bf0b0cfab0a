"""``python -m tests.clouds.ehjzny [--port N] [--zone Z] [--seed S] [--app-id A] [--api-key K]``: run the simulated cloud
in the foreground with a generated clinic (``app.demo.generate_clinic``, or the small
:func:`sample_clinic` while that module is missing) and print how to reach it.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from app.domain.clock import local_date, utc_now

from .runner import start_cloud
from .sample import sample_clinic


def _clinic(today: date, zone: str, seed: int) -> dict:
    try:
        from app.demo import generate_clinic
    except ImportError:
        print("app.demo is not available: serving the small sample clinic")
        return sample_clinic(today, zone)
    return generate_clinic(today, zone=zone, seed=seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.clouds.ehjzny", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--zone", default="Asia/Riyadh", help="the organization's time zone")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated clinic")
    parser.add_argument("--app-id", help="fixed X-APP-ID (default: generated)")
    parser.add_argument("--api-key", help="fixed API key (default: generated)")
    args = parser.parse_args(argv)
    clinic = _clinic(local_date(utc_now(), args.zone), args.zone, args.seed)
    with start_cloud(args.port, clinic, zone=args.zone, app_id=args.app_id, api_key=args.api_key) as running:
        print(f"Ehjzny simulated cloud at {running.url}")
        print(f"X-APP-ID: {running.app_id}")
        print(f"API key (Authorization: Bearer ...): {running.api_key}")
        print("Faults: POST /_sim/faults, clock: POST /_sim/clock. Ctrl+C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
