"""The cost of the dependency check: reading Requires-Dist, then judging it, at N distributions.

Writes N dist-info directories whose METADATA look like real ones (a 2 KB header with
classifiers, project URLs and 6 Requires-Dist, markers and extras among them, then a 6 KB
description; every tenth has an old-style folded ``Description:`` header that pushes the
header past the first 8 KB read), then measures in one process, best of R repeats:

- the plain read of Name and Version that every command does (unchanged by the check),
- reading the Requires-Dist values of every METADATA,
- judging them (``check_dependencies``), packaging already imported;

and, in fresh processes (median of R): importing what the check needs of packaging, and a whole
``read_distributions`` + dependency check against ``read_distributions`` alone.

    python benchmarks/bench_requires.py [--dists 1000] [--rounds 7] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipguard.checks.deps import check_dependencies
from pipguard.environment import _metadata_fields, describe_paths, read_distributions
from pipguard.requires import read_requires

BODY = ("A paragraph of the long description, as a README would have it. " * 8 + "\n\n") * 12


def metadata(n: int, dists: int) -> str:
    """One METADATA text: the header of a real wheel, requiring some of the others."""
    others = [f"dist{(n + k) % dists:05d}" for k in (1, 2, 3, 5)]
    lines = [
        "Metadata-Version: 2.1",
        f"Name: dist{n:05d}",
        "Version: 1.0",
        "Summary: A distribution written for the benchmark",
        "Home-page: https://example.invalid/project",
        "Author: Somebody",
        "Author-email: somebody@example.invalid",
        "License: MIT",
        *(f"Project-URL: Link {k}, https://example.invalid/{k}" for k in range(4)),
        *(f"Classifier: Programming Language :: Python :: 3.{k}" for k in range(8, 14)),
        "Classifier: License :: OSI Approved :: MIT License",
        "Classifier: Operating System :: OS Independent",
        "Requires-Python: >=3.8",
        f"Requires-Dist: {others[0]}>=1.0",
        f"Requires-Dist: {others[1]}<3,>=0.{n % 9}",
        f'Requires-Dist: {others[2]}; python_version >= "3.8"',
        f'Requires-Dist: tomli>=1.1; python_version < "3.{n % 3 + 9}"',
        "Provides-Extra: test",
        'Requires-Dist: pytest>=7; extra == "test"',
        f'Requires-Dist: {others[3]}[fast]~=1.0; extra == "test"',
        "Description-Content-Type: text/markdown",
    ]
    if n % 100 == 0:  # a few unmet: one missing, one too old
        lines.append(f"Requires-Dist: gone{n:05d}")
    if n % 100 == 50:
        lines.append(f"Requires-Dist: {others[0]}>=2")
    if n % 10 == 0:  # setuptools of old: the description as a folded header field
        lines.append("Description: " + "\n        |".join(BODY.splitlines()))
    return "\n".join(lines) + "\n\n" + BODY


def populate(site: Path, dists: int) -> None:
    """Write ``dists`` dist-info directories with a METADATA and an empty RECORD each."""
    for n in range(dists):
        info = site / f"dist{n:05d}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(metadata(n, dists))
        (info / "RECORD").write_text("")


def best(rounds: int, work: object) -> float:
    """The fastest of ``rounds`` runs of ``work()``, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


WHOLE = """
import sys, time
start = time.perf_counter()
from pipguard.environment import describe_paths, read_distributions, marker_environment
env = describe_paths([sys.argv[1]])
dists, _ = read_distributions(env)
if sys.argv[2] == "deps":
    from pipguard.checks.deps import check_dependencies
    from pipguard.requires import read_requires
    requires, _ = read_requires(dists)
    findings, _ = check_dependencies(requires, marker_environment(env))
print(time.perf_counter() - start)
"""


def fresh(rounds: int, args: list[str]) -> float:
    """The median of ``rounds`` fresh processes, as each timed itself."""
    said = [
        float(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
        for _ in range(rounds)
    ]
    return statistics.median(said)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dir", default=None, help="where to write (a tmpfs such as /dev/shm)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        site = Path(tmp)
        populate(site, args.dists)
        env = describe_paths([str(site)])
        dists, _ = read_distributions(env)
        paths = [f"{d.metadata_dir}/METADATA" for d in dists]
        roots = (env.scan_dirs[0],)
        plain = best(args.rounds, lambda: [_metadata_fields(p, roots, True) for p in paths])
        reading = best(args.rounds, lambda: read_requires(dists))
        requires, _ = read_requires(dists)
        from packaging.markers import default_environment

        markers = default_environment()
        judging = best(args.rounds, lambda: check_dependencies(requires, markers))
        findings, problems = check_dependencies(requires, markers)
        count = sum(len(r.requires) for r in requires)
        imports = fresh(
            args.rounds,
            [
                sys.executable,
                "-c",
                "import time; t = time.perf_counter(); "
                "import packaging.markers, packaging.specifiers, packaging.version; "
                "print(time.perf_counter() - t)",
            ],
        )
        without = fresh(args.rounds, [sys.executable, "-c", WHOLE, str(site), "plain"])
        with_deps = fresh(args.rounds, [sys.executable, "-c", WHOLE, str(site), "deps"])
    size = sum(len(metadata(n, args.dists)) for n in range(args.dists)) / args.dists
    print(
        f"{args.dists} METADATA files ({size / 1024:.1f} KiB each on average), {count} requirements"
    )
    print(f"{len(findings)} findings, {len(problems)} problems")
    print(f"Name/Version read (in-process, best of {args.rounds}): {plain * 1e3:8.1f} ms")
    print(f"Requires-Dist read:                          {reading * 1e3:8.1f} ms")
    print(f"check_dependencies (packaging imported):     {judging * 1e3:8.1f} ms")
    print(f"import packaging's markers (fresh, median):  {imports * 1e3:8.1f} ms")
    print(f"read_distributions alone (fresh, median):    {without * 1e3:8.1f} ms")
    print(f"read_distributions + dependency check:       {with_deps * 1e3:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
