"""Size and start-up: pipguard from a .pyz against pipguard installed, on one interpreter.

Run it with an interpreter that has pipguard and its dependencies installed, in a small venv:

    python -m venv /tmp/b && /tmp/b/bin/python -m pip install . && \\
        /tmp/b/bin/python benchmarks/bench_zipapp.py [--rounds 20]

It builds two archives with that interpreter (sources only, and ``--compile``), then alternates
whole processes of the same interpreter over the same environment (that venv):
``python -m pipguard ARGS`` against ``python pipguard.pyz ARGS`` for ``--version`` and
``check``, and prints the median and fastest wall time, CPU time and peak RSS of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path


class Sample:
    """Wall time, CPU time (user + system) and peak RSS of one whole child process."""

    def __init__(self, wall: float, cpu: float, rss_mb: float) -> None:
        self.wall = wall
        self.cpu = cpu
        self.rss_mb = rss_mb


def timed(command: list[str]) -> Sample:
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{stderr}")
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def installed_size(names: list[str]) -> tuple[int, int]:
    """Bytes and files on disk of the named distributions, bytecode and metadata included."""
    total = count = 0
    for name in names:
        dist = metadata.distribution(name)
        for path in dist.files or ():
            located = Path(str(dist.locate_file(path)))
            if located.is_file():
                total += located.stat().st_size
                count += 1
    return total, count


def build(output: Path, *extra: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "zipapp", "-o", str(output), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(done.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipguard-bench-") as temp:
        plain, compiled = Path(temp) / "pipguard.pyz", Path(temp) / "compiled.pyz"
        build(plain)
        build(compiled, "--compile")
        forms = {
            "installed": [sys.executable, "-m", "pipguard"],
            ".pyz": [sys.executable, str(plain)],
            ".pyz --compile": [sys.executable, str(compiled)],
        }
        results: dict[tuple[str, str], list[Sample]] = {}
        for command in ("--version", "check"):
            for form in forms.values():
                timed([*form, command])  # warm the OS caches and the installed bytecode
            for _ in range(args.rounds):
                for label, form in forms.items():
                    results.setdefault((command, label), []).append(timed([*form, command]))
        sizes = {
            label: path.stat().st_size
            for label, path in ((".pyz", plain), (".pyz --compile", compiled))
        }
    names = ["pip-clobber-guard", "rich", "markdown-it-py", "mdurl", "pygments", "packaging"]
    names += [n for n in ("tomli",) if sys.version_info < (3, 11)]
    on_disk, files = installed_size(names)
    count = len(list(Path(sys.prefix).glob("lib/python*/site-packages/*.dist-info")))
    print(
        f"Python {sys.version.split()[0]}, {count} distributions in {sys.prefix}; "
        f"median of {args.rounds} alternating rounds"
    )
    print(
        f"  size: installed {on_disk / 1e6:.1f} MB in {files} files (pipguard and its dependencies)"
    )
    for label, size in sizes.items():
        print(f"  size: {label:<15} {size / 1e6:.1f} MB in one file")
    for (command, label), samples in results.items():
        wall = statistics.median(s.wall for s in samples)
        fastest = min(s.wall for s in samples)
        cpu = statistics.median(s.cpu for s in samples)
        rss = statistics.median(s.rss_mb for s in samples)
        print(
            f"  {command:<9} {label:<15} wall median {wall * 1000:5.0f} ms  "
            f"min {fastest * 1000:5.0f} ms  cpu {cpu * 1000:5.0f} ms  peak RSS {rss:5.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
