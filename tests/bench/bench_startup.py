"""Start-up time of the desk, as whole processes, against importing Qt alone.

    uv run python tests/bench/bench_startup.py [--runs 5] [--frozen dist/istiqbal/istiqbal]
    taskset -c 0 uv run python tests/bench/bench_startup.py   # pinned to one core

Each figure is the wall time of one process from spawn, the median (and min/max) of
``--runs`` runs, measured in the same run on the same machine:

* ``import PySide6.QtWidgets``: ``python -c "import PySide6.QtWidgets"``, the floor;
* ``desk, warm``: ``main.py --data-dir D --screenshot PNG`` on an existing branch database —
  "window": the start-up window has painted (its "window shown" log line: the day's
  skeleton and "Starting the branch server…", before the main window's modules load and
  before the branch server starts); "desk": the main window has painted, still without its
  data ("desk window shown"); "paint": the first full paint of the loaded day ("day
  painted"); "saved": the PNG is written (after the screenshot's settling pause); "exit":
  the server stopped and the process ended; window and paint also as ratios to the floor;
* ``desk, first start``: the same on an empty data directory (the demo clinic is generated);
* the same two for the frozen build when ``--frozen`` (or ``dist/istiqbal/istiqbal``) exists.

Python's bytecode cache is on for every process, as on an installed desk (Python writes
``__pycache__`` on first import; the frozen build carries compiled bytecode): the
environment's ``PYTHONDONTWRITEBYTECODE`` is dropped and the cache goes to a temporary
``PYTHONPYCACHEPREFIX``, filled by one unmeasured run. ``--no-bytecode-cache`` measures
with every module compiled from source on every start instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


EVENTS = ("window shown", "desk window shown", "day painted", "screenshot saved")


def timed(cmd: list[str], env: dict) -> list[float]:
    """Seconds from spawn to each of :data:`EVENTS`' log lines (a line's message must be
    exactly it, or start with it and a colon), then to exit; a missing line counts as the
    next one found (or the exit)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seen: dict[str, float] = {}
    lines = []
    for line in proc.stderr:
        lines.append(line)
        message = line.rstrip("\n").split(": ", 1)[-1] if " INFO " in line else ""
        for event in EVENTS:
            if event not in seen and (message == event or message.startswith(event + ":")):
                seen[event] = time.perf_counter() - started
    code = proc.wait(timeout=300)
    ended = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{cmd[:3]}… failed ({code}):\n{''.join(lines)[-3000:]}")
    out, later = [], ended
    for event in reversed(EVENTS):
        later = seen.get(event, later)
        out.append(later)
    return [*reversed(out), ended]


def series(
    name: str, make_cmd, runs: int, env: dict, fresh: bool, work: Path
) -> tuple[str, list[list[float]]]:
    """``(name, [[window, desk, paint, saved, exit] per run])``."""
    rows = []
    warm_dir = work / f"warm-{abs(hash(name))}"
    timed(
        make_cmd(warm_dir if not fresh else work / "unmeasured", work / "warmup.png"), env
    )  # database, bytecode
    for i in range(runs):
        data = work / f"fresh-{abs(hash(name))}-{i}" if fresh else warm_dir
        rows.append(timed(make_cmd(data, work / f"shot-{i}.png"), env))
        if fresh:
            shutil.rmtree(data, ignore_errors=True)
    return name, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frozen", type=Path, default=ROOT / "dist" / "istiqbal" / "istiqbal")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile every module from source on every start (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="istiqbal-bench-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "ISTIQBAL_LOG_DIR": str(work / "logs"),
            "ISTIQBAL_CONFIG_DIR": str(work / "config"),
        }
        if args.no_bytecode_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        py = sys.executable
        results = [
            series(
                "python -c 'import PySide6.QtWidgets'",
                lambda _d, _p: [py, "-c", "import PySide6.QtWidgets"],
                args.runs,
                env,
                False,
                work,
            )
        ]

        def source(data, png):
            return [py, str(ROOT / "main.py"), "--data-dir", str(data), "--screenshot", str(png)]

        results.append(series("desk from source, warm", source, args.runs, env, False, work))
        results.append(
            series("desk from source, first start (demo generated)", source, args.runs, env, True, work)
        )
        if args.frozen.exists():

            def frozen(data, png):
                return [str(args.frozen), "--data-dir", str(data), "--screenshot", str(png)]

            results.append(series("frozen desk, warm", frozen, args.runs, env, False, work))
            results.append(
                series("frozen desk, first start (demo generated)", frozen, args.runs, env, True, work)
            )
        else:
            print(f"(no frozen build at {args.frozen}: run packaging/build.py for its figures)")
    floor = statistics.median(row[-1] for row in results[0][1])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{'process (seconds from spawn)':48} {'window':>7} {'desk':>6} {'paint':>6} {'min':>6} {'max':>6}"
        f" {'saved':>6} {'exit':>6} {'window/floor':>13} {'paint/floor':>12}"
        f"   ({args.runs} runs, medians; {cores} of {os.cpu_count()} cores;"
        f" bytecode cache {'off' if args.no_bytecode_cache else 'on'}; floor {floor:.3f} s)"
    )
    for name, rows in results:
        window, desk, paint, saved, ended = (statistics.median(column) for column in zip(*rows, strict=True))
        paints = [row[2] for row in rows]
        if name.startswith("python"):
            window = desk = paint = saved = ended
            paints = [row[-1] for row in rows]
        print(
            f"{name:48} {window:7.2f} {desk:6.2f} {paint:6.2f} {min(paints):6.2f} {max(paints):6.2f} "
            f"{saved:6.2f} {ended:6.2f} {window / floor:12.1f}× {paint / floor:11.1f}×"
        )
    print(
        "goals: paint on an existing database ≤ 4× (source) and ≤ 3× (frozen); window ≤ 2×; first start ≤ 6×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
