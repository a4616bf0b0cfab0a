"""``python -m tests.clouds.digitalbooker [--port N] [--seed S] [--bookings B]``: run the
simulated DigitalBooker cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

import argparse
import time

from . import DigitalBookerCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.clouds.digitalbooker", description=__doc__)
    parser.add_argument("--port", type=int, default=8768, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated clinic")
    parser.add_argument("--bookings", type=int, default=120, help="service bookings in all")
    parser.add_argument("--zone", default="Asia/Riyadh", help="the account's local time zone (IANA)")
    parser.add_argument("--key-id", help="fixed API key id (default: generated)")
    parser.add_argument("--password", help="fixed API key password (default: generated)")
    parser.add_argument("--admin-key", help="fixed X-Sim-Admin key (default: generated)")
    args = parser.parse_args(argv)
    cloud = DigitalBookerCloud(key_id=args.key_id, password=args.password, zone=args.zone,
                               admin_key=args.admin_key)
    clinic = generate_clinic(cloud, seed=args.seed, bookings=args.bookings)
    with start_cloud(cloud, args.port) as running:
        print(f"DigitalBooker simulated cloud at {running.url} (admin API: {running.admin_url})")
        print(f"API key id={cloud.key_id} password={cloud.password} (HTTP Basic); zone {cloud.zone.key}")
        print(f"locations: {', '.join(map(str, clinic['locations']))}")
        print(f"admin (X-Sim-Admin: {cloud.admin_key}): {running.root}/_sim/... Ctrl+C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
