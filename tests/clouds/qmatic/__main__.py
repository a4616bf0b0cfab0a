"""``python -m tests.clouds.qmatic [--port N] [--seed S] [--appointments A]``: run the
simulated Qmatic cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

import argparse
import time

from . import QmaticCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.clouds.qmatic", description=__doc__)
    parser.add_argument("--port", type=int, default=8768, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated clinic")
    parser.add_argument("--appointments", type=int, default=80, help="confirmed appointments in all")
    parser.add_argument("--tenant", help="fixed X-TENANT-ID (default: generated)")
    parser.add_argument("--authorization", help="Authorization header every call must carry (default: none)")
    parser.add_argument("--date-of-birth-required", action="store_true", help="confirm needs dateOfBirth")
    parser.add_argument("--admin-key", help="fixed X-Sim-Admin key (default: generated)")
    args = parser.parse_args(argv)
    cloud = QmaticCloud(tenant=args.tenant, authorization=args.authorization, admin_key=args.admin_key,
                        date_of_birth_required=args.date_of_birth_required)
    clinic = generate_clinic(cloud, seed=args.seed, appointments=args.appointments)
    with start_cloud(cloud, args.port) as running:
        print(f"Qmatic simulated cloud at {running.url}")
        print(f"X-TENANT-ID: {cloud.tenant}" + (f"  Authorization: {cloud.authorization}"
                                                 if cloud.authorization else "  (no Authorization needed)"))
        for branch in clinic["branches"]:
            print(f"branch {branch}: {cloud.branches[branch].name}")
        print(f"known customers (personalIdentifier): {', '.join(c['personalIdentifier'] for c in clinic['customers'][:3])}, ...")
        print(f"admin (X-Sim-Admin: {cloud.admin_key}): {running.root}/_sim/... Ctrl+C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
