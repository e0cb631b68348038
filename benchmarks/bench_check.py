"""``pipguard check`` on a large environment, side by side with pip and with a bare RECORD scan.

Writes a venv's site-packages holding N distributions of F files each, as pip leaves them
(dist-info with METADATA, INSTALLER, a RECORD with sha256 hashes and CRLF line ends, a console
script in every fifth, and the files themselves),
with a handful of differing clashes and one identical namespace ``__init__.py`` shared by all.
Then runs each command as a whole process, alternating, and prints the median wall time and
the peak memory (max RSS) of each, and their ratios:

- ``pipguard check --format json`` and the table output,
- ``pip check`` and ``pip list``,
- the floor: a bare Python loop that reads every RECORD into one dict.

    python benchmarks/bench_check.py [--dists 1000] [--files 200] [--rounds 5] [--dir /dev/shm]
    python benchmarks/bench_check.py --growth      # check time at 100, 1,000 and 5,000 dists

Targets (issue 6): json check <= 0.5 x pip check, <= 1.2 x the bare scan, peak < 150 MB.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from wheels import Venv

FLOOR = """
import os, sys, csv
site = sys.argv[1]
index = {}
for name in os.listdir(site):
    if name.endswith(".dist-info"):
        with open(os.path.join(site, name, "RECORD"), newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if row:
                    index[os.path.join(site, row[0])] = row[1]
print(len(index))
"""


def _hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def populate(site: Path, dists: int, files: int, write_files: bool = True) -> None:
    """Write ``dists`` installed distributions into ``site`` the way pip leaves them."""
    namespace = b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    if write_files:
        (site / "nsbench").mkdir(exist_ok=True)
        (site / "nsbench" / "__init__.py").write_bytes(namespace)
    for n in range(dists):
        name = f"dist{n:05d}"
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        rows = []
        package = f"pkg{n:05d}"
        if write_files:
            (site / package).mkdir()
        for f in range(files - 6):
            data = f"VALUE = {n * 1000 + f}\n".encode()
            rel = f"{package}/mod{f:03d}.py"
            if write_files:
                (site / rel).write_bytes(data)
            rows.append(f"{rel},{_hash(data)},{len(data)}")
        rows.append(f"nsbench/__init__.py,{_hash(namespace)},{len(namespace)}")
        if n % 200 == 1:  # a handful of differing clashes: two dists writing one module
            data = f"CLASH = {n}\n".encode()
            rel = f"pkg{n - 1:05d}/mod000.py"
            rows.append(f"{rel},{_hash(data)},{len(data)}")
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n".encode()
        (info / "METADATA").write_bytes(metadata)
        (info / "INSTALLER").write_bytes(b"pip\n")
        (info / "WHEEL").write_bytes(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        rows.append(f"{info.name}/METADATA,{_hash(metadata)},{len(metadata)}")
        rows.append(f"{info.name}/INSTALLER,{_hash(b'pip' + bytes([10]))},4")
        rows.append(f"{info.name}/WHEEL,,")
        if n % 5 == 0:  # a console script, recorded from the site as pip does it
            script = f"#!/usr/bin/python\nfrom {package} import main\nmain()\n".encode()
            if write_files:
                (site / "../../../bin" / name).write_bytes(script)
            rows.append(f"../../../bin/{name},{_hash(script)},{len(script)}")
        rows.append(f"{info.name}/RECORD,,")
        # pip writes RECORD with the csv module's line ending, "\r\n".
        (info / "RECORD").write_bytes(("\r\n".join(rows) + "\r\n").encode())


def run(venv: Venv, args: list[str]) -> tuple[float, float]:
    """Run one whole process; return (wall seconds, peak RSS in MB)."""
    env = {**os.environ, "NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(
        [venv.python, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024  # kilobytes on Linux


def compare(venv: Venv, rounds: int) -> dict[str, tuple[float, float]]:
    commands = {
        "pipguard check --format json": ["-m", "pipguard", "check", "--format", "json"],
        "pipguard check (table)": ["-m", "pipguard", "check"],
        "pip check": ["-m", "pip", "check"],
        "pip list": ["-m", "pip", "list"],
        "bare RECORD scan (floor)": ["-c", FLOOR, str(venv.site)],
    }
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for args in commands.values():
        run(venv, args)  # warm the page cache once
    for _ in range(rounds):
        for label, args in commands.items():
            samples[label].append(run(venv, args))
    return {
        label: (statistics.median(s[0] for s in runs), max(s[1] for s in runs))
        for label, runs in samples.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=1000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", help="where to write the environment (e.g. /dev/shm)")
    parser.add_argument(
        "--growth",
        action="store_true",
        help="time check --format json at 100, 1,000 and 5,000 distributions",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-", dir=args.dir) as temp:
        if args.growth:
            print(f"check --format json, {args.files} files per distribution (RECORDs only)")
            for count in (100, 1000, 5000):
                venv = Venv(Path(temp) / f"venv{count}")
                populate(venv.site, count, args.files, write_files=False)
                json_label = "pipguard check --format json"
                walls = [
                    run(venv, ["-m", "pipguard", "check", "--format", "json"])
                    for _ in range(args.rounds)
                ]
                wall = statistics.median(w for w, _ in walls)
                peak = max(m for _, m in walls)
                print(
                    f"  {count:>5} dists: {json_label} {wall:6.3f} s "
                    f"({wall / count * 1000:.3f} ms per dist), peak {peak:5.0f} MB"
                )
            return 0
        venv = Venv(Path(temp) / "venv")
        started = time.perf_counter()
        populate(venv.site, args.dists, args.files)
        print(
            f"{args.dists} distributions x {args.files} files written in "
            f"{time.perf_counter() - started:.1f} s; median of {args.rounds}, alternating"
        )
        results = compare(venv, args.rounds)
    for label, (wall, peak) in results.items():
        print(f"  {label:<30} {wall:7.3f} s   peak {peak:6.1f} MB")
    json_wall, json_peak = results["pipguard check --format json"]
    pip_check = results["pip check"][0]
    floor = results["bare RECORD scan (floor)"][0]
    for text, value, target in (
        ("json / pip check", json_wall / pip_check, 0.5),
        ("json / bare scan", json_wall / floor, 1.2),
        ("json peak MB", json_peak, 150.0),
    ):
        verdict = "met" if value <= target else "NOT met"
        print(f"  {text:<30} {value:7.2f}   target <= {target}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
