"""Install overhead: ``pipguard install`` against plain ``pip install`` of the same local wheels.

Builds N wheels of F files each, then, alternating, installs them with pip and with pipguard
into one venv (uninstalling in between) and prints the median of each and their ratio. The
venv holds its own pip and the working tree's pipguard (see ``benchvenv``).

    python benchmarks/bench_install.py [--wheels 50] [--files 50] [--rounds 5] [--dir /dev/shm]

Target (issue 3): pipguard install <= 1.05 x pip install. Wall time on a shared disk is noisy
(fsync-heavy pip runs vary by 2x between minutes here), so CPU time (user + system, from wait4)
is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchvenv import Venv, clean_env, make_venv

from wheels import build_wheel


class Sample:
    """Wall time and CPU time (user + system) of one whole child process."""

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall = wall
        self.cpu = cpu


def timed(venv: Venv, *args: str) -> Sample:
    start = time.perf_counter()
    child = subprocess.Popen(
        [venv.python, *args], env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{stderr}")
    return Sample(elapsed, usage.ru_utime + usage.ru_stime)


def _row(label: str, samples: list[Sample]) -> tuple[float, float]:
    wall = statistics.median(s.wall for s in samples)
    cpu = statistics.median(s.cpu for s in samples)
    fastest = min(s.wall for s in samples)
    runs = ", ".join(f"{s.wall:.2f}" for s in samples)
    print(f"  {label:<17} wall median {wall:6.3f} s  min {fastest:6.3f} s  cpu median {cpu:6.3f} s")
    print(f"  {'':<17} (wall runs: {runs})")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=int, default=50)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--dir",
        help="where to make the venv (a tmpfs such as /dev/shm "
        "takes the disk's noise out of the figures)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-", dir=args.dir) as temp:
        root = Path(temp)
        wheels = [
            str(
                build_wheel(
                    root / "wheels",
                    f"bench{n:03d}",
                    "1.0",
                    {f"bench{n:03d}/m{f:03d}.py": f"X = {n * f}\n" for f in range(args.files)},
                )
            )
            for n in range(args.wheels)
        ]
        names = [f"bench{n:03d}" for n in range(args.wheels)]
        venv = make_venv(root / "venv")
        common = ["install", "--no-deps", "--no-index", "--disable-pip-version-check", *wheels]
        pip_times: list[Sample] = []
        guard_times: list[Sample] = []
        timed(venv, "-m", "pip", *common)  # warm the OS caches once
        timed(venv, "-m", "pip", "uninstall", "-y", "-q", *names)
        for _ in range(args.rounds):
            pip_times.append(timed(venv, "-m", "pip", *common))
            timed(venv, "-m", "pip", "uninstall", "-y", "-q", *names)
            guard_times.append(timed(venv, "-m", "pipguard", *common))
            timed(venv, "-m", "pip", "uninstall", "-y", "-q", *names)
        pip_version = subprocess.run(
            [venv.python, "-m", "pip", "--version"],
            capture_output=True,
            text=True,
            check=True,
            env=clean_env(),
        ).stdout.split()[1]
    print(
        f"install of {args.wheels} wheels x {args.files} files, pip {pip_version}, "
        f"median of {args.rounds} alternating rounds"
    )
    pip_wall, pip_cpu = _row("pip install", pip_times)
    guard_wall, guard_cpu = _row("pipguard install", guard_times)
    for label, ratio in (("wall", guard_wall / pip_wall), ("cpu", guard_cpu / pip_cpu)):
        verdict = "met" if ratio <= 1.05 else "NOT met"
        print(f"  ratio ({label})      {ratio:6.3f}   target <= 1.05: {verdict}")
    # Each round runs pip then pipguard back to back: their difference is steadier than either.
    paired = statistics.median(g.cpu - p.cpu for p, g in zip(pip_times, guard_times))
    print(f"  pipguard's cost, median of the rounds' CPU differences: {paired * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
