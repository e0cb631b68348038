"""Run the suite at two commits and compare every JSON document pipguard wrote.

    python tests/compare_outputs.py BASE [HEAD]  [-- pytest arguments]

Each commit is checked out in a temporary worktree, installed into a venv of its own, and run
with the same ``--basetemp`` (so every path is the same) and PIPGUARD_CAPTURE set: tests/wheels.py
then appends each ``pipguard`` run's ``check --format json`` output and journal to a file. A
commit whose tests/wheels.py has no capture yet gets this checkout's. Prints the
documents that differ (the journal's settled directories aside: they depend on the clock).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _run(commit: str, work: Path, extra: list[str]) -> list[dict[str, object]]:
    tree = work / f"tree-{commit[:12]}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
        check=True,
        capture_output=True,
    )
    try:
        own = tree / "tests" / "wheels.py"
        if "PIPGUARD_CAPTURE" not in own.read_text():
            shutil.copy(HERE / "wheels.py", own)  # a commit from before the capture
        # The first capture read a FIFO journal, and waited for ever: read regular files only.
        own.write_text(
            own.read_text().replace(
                "json.loads(Path(journal).read_text())",
                "json.loads(Path(journal).read_text()) if Path(journal).is_file() else None",
            )
        )
        venv = work / f"venv-{commit[:12]}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                str(tree),
                "pytest",
                "hypothesis",
                "setuptools>=70.1",
                "pip>=26.3",
            ],
            check=True,
        )
        out = work / f"capture-{commit[:12]}.jsonl"
        env = {**os.environ, "PIPGUARD_CAPTURE": str(out)}
        subprocess.run(
            [
                python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--basetemp={work / 'base'}",
                *extra,
            ],
            cwd=tree,
            env=env,
            check=False,
        )
        lines = out.read_text().splitlines() if out.exists() else []
        return [_normalise(json.loads(line)) for line in lines]
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
        )


def _normalise(record: dict[str, object]) -> dict[str, object]:
    journal = record.get("journal")
    if isinstance(journal, dict):
        journal.pop("directories", None)
    return record


def main() -> int:
    args = sys.argv[1:]
    extra = args[args.index("--") + 1 :] if "--" in args else []
    revs = args[: args.index("--")] if "--" in args else args
    base, head = revs[0], (revs[1] if len(revs) > 1 else "HEAD")
    work = Path(tempfile.mkdtemp(prefix="pipguard-compare-"))
    before, after = _run(base, work, extra), _run(head, work, extra)
    old = {(r["test"], json.dumps(r["args"])): r for r in before}
    new = {(r["test"], json.dumps(r["args"])): r for r in after}
    differ = [key for key in old.keys() & new.keys() if old[key] != new[key]]
    for key in sorted(differ):
        print(
            f"DIFFERS: {key[0]} {key[1]}\n  before: {json.dumps(old[key])[:2000]}\n"
            f"  after:  {json.dumps(new[key])[:2000]}"
        )
    print(
        f"{len(old)} documents before, {len(new)} after, {len(old.keys() & new.keys())} "
        f"compared, {len(differ)} differ; only before: {len(old.keys() - new.keys())}, "
        f"only after: {len(new.keys() - old.keys())}"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
