"""``python -m tests.clouds.agendize [--port N] [--seed S] [--appointments A]``: run the
simulated Agendize cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

import argparse
import time

from . import AgendizeCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.clouds.agendize", description=__doc__)
    parser.add_argument("--port", type=int, default=8767, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated clinic")
    parser.add_argument("--appointments", type=int, default=120, help="normal appointments in all")
    parser.add_argument("--page-size", type=int, default=100, help="appointments per list page")
    parser.add_argument("--api-key", help="fixed apiKey (default: generated)")
    parser.add_argument("--token", help="fixed SSO token (default: generated)")
    parser.add_argument("--admin-key", help="fixed X-Sim-Admin key (default: generated)")
    args = parser.parse_args(argv)
    cloud = AgendizeCloud(api_key=args.api_key, token=args.token, admin_key=args.admin_key,
                          page_size=args.page_size)
    clinic = generate_clinic(cloud, seed=args.seed, appointments=args.appointments)
    with start_cloud(cloud, args.port) as running:
        print(f"Agendize simulated cloud at {running.url} (clients: {running.clients_url})")
        print(f"apiKey={cloud.api_key} token={cloud.token} (or Authorization: Bearer {cloud.access_token})")
        print(f"companies: {', '.join(clinic['companies'])}")
        print(f"admin (X-Sim-Admin: {cloud.admin_key}): {running.root}/_sim/... Ctrl+C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
