"""``python -m app.demo --out clinic.json [--today YYYY-MM-DD] [--zone Asia/Riyadh] [--seed 7]``."""

from __future__ import annotations

import argparse
from datetime import date

from app.demo import write_clinic_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.demo", description="Write a demo clinic as JSON.")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--zone", default="Asia/Riyadh", help="the branch's IANA time zone")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    numbers = write_clinic_json(args.out, args.today, args.zone, args.seed)
    print(" ".join(f"{key}={value}" for key, value in numbers.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
