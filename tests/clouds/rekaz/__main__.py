"""``python -m tests.clouds.rekaz [--port N] [--seed S] [--key K] [--tenant T]``: run the
simulated Rekaz cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

import argparse
import time

from . import RekazCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.clouds.rekaz", description=__doc__)
    parser.add_argument("--port", type=int, default=8766, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated clinic")
    parser.add_argument("--per-day", type=int, default=8, help="reservations per branch and day")
    parser.add_argument("--key", help="fixed API key (default: generated)")
    parser.add_argument("--tenant", help="fixed tenant id (default: generated)")
    parser.add_argument("--admin-key", help="fixed X-Sim-Admin key (default: generated)")
    args = parser.parse_args(argv)
    cloud = RekazCloud(key=args.key, tenant=args.tenant, admin_key=args.admin_key)
    clinic = generate_clinic(cloud, seed=args.seed, per_day=args.per_day)
    with start_cloud(cloud, args.port) as running:
        print(f"Rekaz simulated cloud at {running.url}")
        print(f"Authorization: Basic {cloud.key}")
        print(f"__tenant: {cloud.tenant}")
        print(f"branches: {', '.join(clinic['branches'])}")
        print(f"admin (X-Sim-Admin: {cloud.admin_key}): {running.root}/_sim/... Ctrl+C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
