"""Start-up time of the desk, as whole processes, against importing Qt alone.

    uv run python tests/bench/bench_startup.py [--runs 5] [--frozen dist/istiqbal/istiqbal]

Each figure is the wall time of one process from spawn to exit, the median (and min/max)
of ``--runs`` runs, measured in the same run on the same machine:

* ``import PySide6.QtWidgets``: ``python -c "import PySide6.QtWidgets"``, the floor;
* ``desk, warm``: ``main.py --data-dir D --screenshot PNG`` on an existing branch database —
  the process opens the window ("window": its "window shown" log line, the window painted
  before its data) while the branch server starts, loads the day, paints it once and saves
  the PNG ("paint": the time of its "screenshot saved" log line), then stops the server and
  exits ("exit"); each also as a ratio to the floor;
* ``desk, first start``: the same on an empty data directory (the demo clinic is generated);
* the same two for the frozen build when ``--frozen`` (or ``dist/istiqbal/istiqbal``) exists.
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


def timed(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(seconds to the "window shown" log line — the window painted, before its data —,
    seconds to the "screenshot saved" log line — the first full paint is saved then —,
    seconds to exit); the exit time for a process that logs no such line."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    shown, painted, lines = None, None, []
    for line in proc.stderr:
        lines.append(line)
        if shown is None and "window shown" in line:
            shown = time.perf_counter() - started
        if painted is None and "screenshot saved" in line:
            painted = time.perf_counter() - started
    code = proc.wait(timeout=300)
    ended = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{cmd[:3]}… failed ({code}):\n{''.join(lines)[-3000:]}")
    return (shown or painted or ended), (painted or ended), ended


def series(name: str, make_cmd, runs: int, env: dict, fresh: bool, work: Path) -> tuple[str, list, list, list]:
    windows, times, exits = [], [], []
    warm_dir = work / f"warm-{abs(hash(name))}"
    if not fresh:
        timed(make_cmd(warm_dir, work / "warmup.png"), env)  # create the database once
    for i in range(runs):
        data = work / f"fresh-{abs(hash(name))}-{i}" if fresh else warm_dir
        shown, painted, ended = timed(make_cmd(data, work / f"shot-{i}.png"), env)
        windows.append(shown)
        times.append(painted)
        exits.append(ended)
        if fresh:
            shutil.rmtree(data, ignore_errors=True)
    return name, windows, times, exits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frozen", type=Path, default=ROOT / "dist" / "istiqbal" / "istiqbal")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="istiqbal-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ISTIQBAL_LOG_DIR": str(work / "logs"),
               "ISTIQBAL_CONFIG_DIR": str(work / "config")}
        py = sys.executable
        results = [series("python -c 'import PySide6.QtWidgets'",
                          lambda _d, _p: [py, "-c", "import PySide6.QtWidgets"], args.runs, env, False, work)]

        def source(data, png):
            return [py, str(ROOT / "main.py"), "--data-dir", str(data), "--screenshot", str(png)]

        results.append(series("desk from source, warm", source, args.runs, env, False, work))
        results.append(series("desk from source, first start (demo generated)", source, args.runs, env, True, work))
        if args.frozen.exists():
            def frozen(data, png):
                return [str(args.frozen), "--data-dir", str(data), "--screenshot", str(png)]

            results.append(series("frozen desk, warm", frozen, args.runs, env, False, work))
            results.append(series("frozen desk, first start (demo generated)", frozen, args.runs, env, True, work))
        else:
            print(f"(no frozen build at {args.frozen}: run packaging/build.py for its figures)")
    floor = statistics.median(results[0][2])
    print(f"{'process (seconds from spawn)':48} {'window':>7} {'paint':>7} {'min':>6} {'max':>6} {'exit':>7}"
          f" {'window/floor':>13} {'paint/floor':>12}   ({args.runs} runs, medians; {os.cpu_count()} cores)")
    for name, windows, times, exits in results:
        window, paint = statistics.median(windows), statistics.median(times)
        print(f"{name:48} {window:7.2f} {paint:7.2f} {min(times):6.2f} {max(times):6.2f} "
              f"{statistics.median(exits):7.2f} {window / floor:12.1f}× {paint / floor:11.1f}×")
    print("goals: paint on an existing database ≤ 4× (source) and ≤ 3× (frozen); window ≤ 2×;"
          " first start ≤ 6×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
