"""Build the desk: ``uv run python packaging/build.py`` → ``dist/istiqbal/``.

A one-folder PyInstaller build for the platform it runs on, from ``packaging/istiqbal.spec``.
The build is skipped when ``dist/istiqbal`` is up to date with its inputs (the sources, the
catalogs, resources, the spec and ``uv.lock``; a hash kept in ``build/istiqbal.stamp``);
``--force`` rebuilds. Prints the build's time and size. Exit code 0 on success.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "istiqbal.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build"
STAMP = WORK / "istiqbal.stamp"
INPUTS = ("main.py", "app", "ui", "locales", "resources", "packaging", "pyproject.toml", "uv.lock")


def app_dir(dist: Path = DIST) -> Path:
    return dist / "istiqbal"


def executable(dist: Path = DIST) -> Path:
    name = "istiqbal-cli.exe" if sys.platform == "win32" else "istiqbal"
    return app_dir(dist) / name


def inputs_hash() -> str:
    """A hash of every file the build reads from the work tree (names and contents)."""
    digest = hashlib.sha256(f"{sys.version}|{sys.platform}".encode())
    for name in INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix in {".pyc", ".mo"}:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def up_to_date(dist: Path = DIST) -> bool:
    try:
        return executable(dist).exists() and STAMP.read_text().strip() == inputs_hash()
    except OSError:
        return False


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build(force: bool = False, dist: Path = DIST) -> Path:
    """Build (unless up to date) and return the executable's path. Raises CalledProcessError."""
    if not force and up_to_date(dist):
        print(f"build: {app_dir(dist)} is up to date", flush=True)
        return executable(dist)
    started = time.monotonic()
    digest = inputs_hash()
    env = {**os.environ, "ISTIQBAL_STAGE": str(WORK / "stage"), "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            str(SPEC),
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(WORK / "pyinstaller"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    STAMP.write_text(digest)
    size = folder_size(app_dir(dist))
    print(f"build: {app_dir(dist)} in {time.monotonic() - started:.0f} s, {size / 2**20:.1f} MiB", flush=True)
    return executable(dist)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    try:
        print(build(force=args.force))
    except subprocess.CalledProcessError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
