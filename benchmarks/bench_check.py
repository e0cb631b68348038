"""``pipguard check`` on a large environment, side by side with pip and with a bare-Python floor.

Writes a venv's site-packages holding N distributions of F files each, as pip leaves them:

- each distribution a package of 11 directories (the package and 10 subpackages), a
  dist-info with a realistic METADATA (``bench_requires.metadata``: classifiers, project
  URLs, a long description, and Requires-Dist lines on other generated distributions with
  specifiers, extras and markers; all met but for one in every 50 distributions: one
  missing, one too old), INSTALLER, WHEEL, and a RECORD with sha256 hashes, sorted and
  with CRLF line ends as pip writes it; a console script (and its ``entry_points.txt``)
  in every fifth;
- a handful of differing clashes and one identical namespace ``__init__.py`` shared by all;
- two ``.pth`` files, each listed in its distribution's RECORD: one of a path line only
  (a directory of modules put on ``sys.path``), one with an import line;
- plus the benchmark venv's own pip, pipguard and their requirements (``benchvenv``).

Then it runs each command as a whole process, round after round with the commands
alternating, and prints the median wall time and the peak memory (max RSS) of each:

- ``pipguard check --format json`` and the table output (the default check: RECORDs,
  the tree against them, dependencies, startup files, shadowed names, bytecode),
- ``pip check`` and ``pip list``,
- the floor: a bare Python loop that reads every RECORD (``csv``) and every METADATA and
  lists every directory a RECORD lists a file in (``os.listdir``).

    python benchmarks/bench_check.py [--dists 1000] [--files 200] [--rounds 5] [--dir /dev/shm]
    python benchmarks/bench_check.py --growth      # at 100, 1,000 and 5,000 distributions

Targets: json check <= 1.0 x the floor and peak < 150 MB (issue 12); <= 0.5 x pip check
(issue 6).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_requires import metadata as realistic_metadata
from benchvenv import Venv, clean_env, make_venv

FLOOR = """
import os, sys, csv
site = sys.argv[1]
index = {}
directories = set()
characters = 0
for name in os.listdir(site):
    if name.endswith(".dist-info"):
        info = os.path.join(site, name)
        with open(os.path.join(info, "METADATA"), encoding="utf-8") as handle:
            characters += len(handle.read())
        with open(os.path.join(info, "RECORD"), newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if row:
                    path = os.path.join(site, row[0])
                    index[path] = row[1]
                    directories.add(os.path.dirname(path))
entries = sum(len(os.listdir(directory)) for directory in directories)
print(len(index), len(directories), entries, characters)
"""

SUBPACKAGES = 10
PATH_PTH = 3  # the distribution whose .pth only puts a directory of its own on sys.path
IMPORT_PTH = 7  # the distribution whose .pth imports its package at every start


def _hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def module_path(n: int, f: int) -> str:
    """The ``f``-th module of distribution ``n``: spread over its package and subpackages."""
    directory, place = f % (SUBPACKAGES + 1), f // (SUBPACKAGES + 1)
    if n == PATH_PTH and directory == 1:  # what its .pth puts on sys.path: plain modules
        return f"lib{n:05d}/lib{n:05d}_{place:03d}.py"
    base = f"pkg{n:05d}" if directory == 0 else f"pkg{n:05d}/sub{directory:02d}"
    return f"{base}/{'__init__' if place == 0 else f'mod{place:03d}'}.py"


def populate(site: Path, dists: int, files: int) -> None:
    """Write ``dists`` installed distributions into ``site`` the way pip leaves them."""
    namespace = b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    (site / "nsbench").mkdir(exist_ok=True)
    (site / "nsbench" / "__init__.py").write_bytes(namespace)
    made: set[Path] = set()

    def write(rel: str, data: bytes) -> str:
        path = site / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)
        return f"{rel},{_hash(data)},{len(data)}"

    for n in range(dists):
        name = f"dist{n:05d}"
        info = f"{name}-1.0.dist-info"
        rows = [
            write(module_path(n, f), f"VALUE = {n * 1000 + f}\n".encode()) for f in range(files - 6)
        ]
        rows.append(f"nsbench/__init__.py,{_hash(namespace)},{len(namespace)}")
        if n % 200 == 1:  # a handful of differing clashes: two dists listing one module
            data = f"CLASH = {n}\n".encode()
            rows.append(f"{module_path(n - 1, SUBPACKAGES + 1)},{_hash(data)},{len(data)}")
        if n == PATH_PTH:
            rows.append(write(f"{name}.pth", f"lib{n:05d}\n".encode()))
        if n == IMPORT_PTH:
            rows.append(write(f"{name}-init.pth", f"import pkg{n:05d}\n".encode()))
        rows.append(write(f"{info}/METADATA", realistic_metadata(n, dists).encode()))
        rows.append(write(f"{info}/INSTALLER", b"pip\n"))
        wheel = b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        rows.append(write(f"{info}/WHEEL", wheel))
        if n % 5 == 0:  # a console script, recorded from the site as pip does it
            entry = f"[console_scripts]\n{name} = pkg{n:05d}:main\n".encode()
            rows.append(write(f"{info}/entry_points.txt", entry))
            script = f"#!/usr/bin/python\nfrom pkg{n:05d} import main\nmain()\n".encode()
            rows.append(write(f"../../../bin/{name}", script))
        rows.append(f"{info}/RECORD,,")
        # pip sorts the rows (by path, hash, size) and ends them as the csv module does, "\r\n".
        rows.sort(key=lambda row: row.split(","))
        (site / info / "RECORD").write_bytes(("\r\n".join(rows) + "\r\n").encode())


def run(venv: Venv, args: list[str]) -> tuple[float, float]:
    """Run one whole process; return (wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [venv.python, *args], env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: findings (pipguard), unmet requirements (pip check)
        stderr = child.stderr.read().decode() if child.stderr else ""
        sys.exit(f"{' '.join(args[:4])} exited {code}:\n{stderr}")
    if child.stderr:
        child.stderr.close()
    return wall, usage.ru_maxrss / 1024  # kilobytes on Linux


def describe(venv: Venv) -> str:
    """One line on what check and pip check find here: the environment is what it should be."""
    env = clean_env()
    done = subprocess.run(
        [venv.python, "-m", "pipguard", "check", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    report = json.loads(done.stdout)
    counts = ", ".join(
        f"{len(value)} {key}" for key, value in report.items() if isinstance(value, list) and value
    )
    pip_check = subprocess.run(
        [venv.python, "-m", "pip", "check"], capture_output=True, text=True, env=env, check=False
    )
    floor = subprocess.run(
        [venv.python, "-c", FLOOR, str(venv.site)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    paths, directories, entries, _ = floor.stdout.split()
    return (
        f"check: exit {done.returncode}, {report['distributions']} distributions, "
        f"{report['files']} files; {counts}\n"
        f"pip check: exit {pip_check.returncode}, {len(pip_check.stdout.splitlines())} lines; "
        f"floor: {paths} RECORD paths, {directories} directories of {entries} entries"
    )


def compare(venv: Venv, rounds: int) -> dict[str, tuple[float, float]]:
    """Run every command ``rounds`` times, alternating; return (median wall, peak MB) each."""
    commands = {
        "pipguard check --format json": ["-m", "pipguard", "check", "--format", "json"],
        "pipguard check (table)": ["-m", "pipguard", "check"],
        "pip check": ["-m", "pip", "check"],
        "pip list": ["-m", "pip", "list"],
        "floor (RECORD+METADATA+listdir)": ["-c", FLOOR, str(venv.site)],
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


def growth(temp: Path, files: int, rounds: int) -> None:
    """Check and the floor at 100, 1,000 and 5,000 distributions, one environment at a time."""
    print(f"{files} files per distribution; median of {rounds}, check and floor alternating")
    for count in (100, 1000, 5000):
        venv = make_venv(temp / f"venv{count}")
        populate(venv.site, count, files)
        check = ["-m", "pipguard", "check", "--format", "json"]
        floor = ["-c", FLOOR, str(venv.site)]
        run(venv, check)
        run(venv, floor)
        pairs = [(run(venv, check), run(venv, floor)) for _ in range(rounds)]
        wall = statistics.median(c[0] for c, _ in pairs)
        peak = max(c[1] for c, _ in pairs)
        floor_wall = statistics.median(f[0] for _, f in pairs)
        print(
            f"  {count:>5} dists: check --format json {wall:6.3f} s "
            f"({wall / count * 1000:.3f} ms per dist), peak {peak:5.0f} MB; "
            f"floor {floor_wall:6.3f} s; ratio {wall / floor_wall:.2f}"
        )
        shutil.rmtree(venv.root)


def main() -> int:
    """Build the environment, run the commands, print medians and ratios against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=1000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", help="where to write the environment (e.g. /dev/shm)")
    parser.add_argument(
        "--growth", action="store_true", help="check and the floor at 100, 1,000 and 5,000 dists"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-", dir=args.dir) as temp:
        if args.growth:
            growth(Path(temp), args.files, args.rounds)
            return 0
        venv = make_venv(Path(temp) / "venv")
        started = time.perf_counter()
        populate(venv.site, args.dists, args.files)
        print(
            f"{args.dists} distributions x {args.files} files written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        print(describe(venv))
        print(f"median of {args.rounds} rounds, commands alternating")
        results = compare(venv, args.rounds)
    for label, (wall, peak) in results.items():
        print(f"  {label:<32} {wall:7.3f} s   peak {peak:6.1f} MB")
    json_wall, json_peak = results["pipguard check --format json"]
    pip_check = results["pip check"][0]
    floor = results["floor (RECORD+METADATA+listdir)"][0]
    for text, value, target in (
        ("json / floor", json_wall / floor, 1.0),
        ("json / pip check", json_wall / pip_check, 0.5),
        ("json peak MB", json_peak, 150.0),
    ):
        verdict = "met" if value <= target else "NOT met"
        print(f"  {text:<32} {value:7.2f}   target <= {target}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
