"""``pipguard uninstall`` and ``pipguard repair``: removal that spares shared files, and repair."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from pipguard.check import scan
from pipguard.disk import Disk
from pipguard.environment import InstalledDistribution, canonical_name, describe_python
from pipguard.freshness import FreshnessSnapshot, directories_to_watch
from pipguard.install.command import install_main
from pipguard.install.guard import stderr_console, warm_up
from pipguard.install.keep import Kept, keep_file, write_back
from pipguard.install.options import EXIT_USAGE, OWN_OPTIONS, UsageError, split_args
from pipguard.install.transaction import removed_paths
from pipguard.lock import LockTimeout, hold
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_derived_pyc, is_within, relative_to, resolve_row
from pipguard.render import one_line

__all__ = ["SharedFile", "repair_main", "shared_files", "uninstall_main"]


@dataclass(frozen=True)
class SharedFile:
    """A file an uninstall would delete that another installed distribution still lists."""

    path: str
    display: str
    removing: str
    still_listed_by: tuple[str, ...]


def shared_files(index: OwnershipIndex, removing: dict[str, list[str]]) -> list[SharedFile]:
    """Return the files being removed (name -> its paths) that staying distributions list too."""
    found: list[SharedFile] = []
    for name, paths in removing.items():
        for path in paths:
            if is_derived_pyc(path):
                continue  # byte code follows its source, kept or not
            others = sorted({index.dists[n].name for n, _ in index.owners(path)} - removing.keys())
            if others:
                site = index.dists[index.owners(path)[0][0]].site
                found.append(SharedFile(path, relative_to(path, site), name, tuple(others)))
    return found


def _shared_table(rows: Sequence[SharedFile]) -> object:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from pipguard.render import shown_path, visible

    table = Table(
        title=Text("shared files", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("path", overflow="fold", ratio=3)
    table.add_column("removing", overflow="fold", ratio=1)
    table.add_column("still listed by", overflow="fold", ratio=2)
    for row in rows:
        table.add_row(
            Text(visible(shown_path(row.display))),
            Text(visible(row.removing)),
            Text(visible(", ".join(row.still_listed_by))),
        )
    return table


def uninstall_main(argv: Sequence[str], prog: str = "pipguard") -> int:
    """Run ``pipguard uninstall ...``: pip uninstall, never deleting a file another still lists."""
    try:
        options, pip_args = split_args(argv, {})
    except UsageError as exc:
        print(f"{prog} uninstall: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    warm_up()
    from pipguard.install import pipbridge

    names = pipbridge.uninstall_targets(pip_args)
    if names is None:
        return pipbridge.run_pip(pip_args)  # pip says what is wrong with the arguments
    env = describe_python()
    try:
        lock = hold(env.scan_dirs[0], options.lock_timeout) if env.scan_dirs else None
    except LockTimeout as exc:
        print(f"pipguard: error: {exc}; nothing was removed", file=sys.stderr)
        return 1
    dists, index, _ = scan(env)
    undecodable = [d for d in dists if d.name in names and d.not_utf8]
    if undecodable:
        # pip reads a RECORD whole, and fails on it with a traceback: say it in one line.
        dist = undecodable[0]
        print(
            f"pipguard: error: {one_line(dist.record_file)}: line {dist.not_utf8[0]}: not "
            f"UTF-8: pip cannot read this RECORD to uninstall {one_line(dist.name)}; "
            "nothing was removed",
            file=sys.stderr,
        )
        return 1
    # Each removed distribution's RECORD resolved once, for the shared files and freshness.
    removing = {
        dist.name: removed_paths([dist], {dist.name}) for dist in dists if dist.name in names
    }
    shared = shared_files(index, removing)
    unknown = sorted(
        d.name for d in dists if d.name not in removing and not (d.record_text or "").strip()
    )
    if unknown and removing:
        print(
            f"pipguard: warning: {one_line(', '.join(unknown))} "
            f"{'lists' if len(unknown) == 1 else 'list'} no files (no readable RECORD): "
            "files shared with them cannot be seen, and pip removes them like any other. "
            "pipguard check names the problem.",
            file=sys.stderr,
        )
    if shared and options.policy == "prevent":
        stderr_console().print(_shared_table(shared))
        users = one_line(", ".join(sorted({n for row in shared for n in row.still_listed_by})))
        owners = one_line(", ".join(sorted({row.removing for row in shared})))
        print(
            f"pipguard: nothing was removed: {len(shared)} file"
            f"{'s' if len(shared) != 1 else ''} of {owners}"
            f" {'are' if len(shared) != 1 else 'is'} still listed by {users}, which "
            "would break. To remove anyway and keep those files, add --on-conflict warn.",
            file=sys.stderr,
        )
        return 1
    kept: dict[str, Kept] = {}
    for row in shared:
        content = keep_file(row.path, env.roots)
        if content is not None:
            kept[row.path] = content
    removed = [path for paths in removing.values() for path in paths]
    freshness = FreshnessSnapshot(
        directories_to_watch(
            [],
            removed,
            env.roots,
            [*env.scan_dirs, *([env.scheme["scripts"]] if "scripts" in env.scheme else [])],
        ),
        env.scan_dirs,
    )
    code = pipbridge.run_pip(pip_args)
    # pip removed them, and the directories it emptied: put them back; else leave them be.
    gone = {path: content for path, content in kept.items() if not os.path.lexists(path)}
    failed = write_back(gone, env.roots)
    freshness.settle()
    lost = sorted(
        {row.path for row in shared if row.path not in kept and not os.path.lexists(row.path)}
        | {failure.path for failure in failed}
    )
    if lost:
        reasons = {failure.path: failure.reason for failure in failed}
        named = ", ".join(
            one_line(relative_to(path, env.scan_dirs[0]) if env.scan_dirs else path)
            + (f" ({one_line(reasons[path])})" if path in reasons else " (could not be read)")
            for path in lost
        )
        keepers = sorted({n for row in shared if row.path in lost for n in row.still_listed_by})
        print(
            f"pipguard: error: {len(lost)} shared file{'s' if len(lost) != 1 else ''} that "
            f"{one_line(', '.join(keepers))} still {'lists' if len(keepers) == 1 else 'list'} "
            f"could not be put back: {named}. pipguard repair {one_line(' '.join(keepers))} "
            "reinstalls them.",
            file=sys.stderr,
        )
        code = code or 1
    if kept and options.policy == "warn" and code == 0:
        print(_kept_summary(index, shared, kept), file=sys.stderr)
    if lock is not None:
        lock.close()
    return code


def _kept_summary(index: OwnershipIndex, shared: list[SharedFile], kept: dict[str, Kept]) -> str:
    """Say in one line which shared files were kept, and which hold the removed one's copy."""
    from pipguard.records import ALLOWED_ALGORITHMS, hash_bytes

    foreign: set[str] = set()  # kept files whose bytes are none of their keepers' RECORD hash
    for row in shared:
        if row.path not in kept:
            continue
        hashes = {
            value
            for number, value in index.owners(row.path)
            if index.dists[number].name in row.still_listed_by and value
        }
        algorithms = {value.partition("=")[0] for value in hashes}
        mine = {hash_bytes(kept[row.path].data, a) for a in algorithms if a in ALLOWED_ALGORITHMS}
        if hashes and not hashes & mine:
            foreign.add(row.path)
    keepers = sorted({n for row in shared for n in row.still_listed_by})
    names = one_line(", ".join(keepers))
    said = (
        f"pipguard: kept {len(kept)} shared file{'s' if len(kept) != 1 else ''} that {names} "
        f"still {'lists' if len(keepers) == 1 else 'list'}"
    )
    if not foreign:
        return said + "; each holds its copy."
    whose = sorted({n for row in shared if row.path in foreign for n in row.still_listed_by})
    return (
        f"{said}; {len(foreign)} of them hold{'s' if len(foreign) == 1 else ''} the removed "
        f"distribution's copy: pipguard repair {one_line(' '.join(whose))}"
    )


# pip install options that take a value: in ``repair`` they pass through with their value.
_VALUE_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--proxy",
        "--timeout",
        "--retries",
        "--cache-dir",
        "--log",
        "-c",
        "--constraint",
        "--python",
        *OWN_OPTIONS,
    }
)


def repair_main(argv: Sequence[str], prog: str = "pipguard") -> int:
    """Run ``pipguard repair NAME...``: reinstall each NAME's own files at its installed version."""
    args = list(argv)
    args.remove("repair")
    names: list[str] = []
    passthrough: list[str] = []
    items = iter(args)
    for arg in items:
        if arg.startswith("-"):
            passthrough.append(arg)
            if arg in _VALUE_OPTIONS:
                passthrough.append(next(items, ""))
        else:
            names.append(canonical_name(arg))
    if not names:
        print(f"{prog} repair: error: name at least one installed distribution", file=sys.stderr)
        return EXIT_USAGE
    env = describe_python()
    dists, _, _ = scan(env)
    installed = {dist.name: dist for dist in dists}
    missing = [name for name in names if name not in installed]
    if missing:
        print(f"{prog} repair: error: not installed here: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    before = _differing(env.roots, [installed[name] for name in names])
    pins = [f"{name}=={installed[name].version}" for name in names]
    winners = [flag for name in names for flag in ("--winner", name)]
    code = install_main(
        ["install", "--force-reinstall", "--no-deps", *winners, *passthrough, *pins], prog=prog
    )
    if code != 0:
        return code
    # The reinstall wrote new RECORDs (INSTALLER, direct_url.json): judge by those.
    now = {dist.name: dist for dist in scan(env)[0]}
    after = _differing(env.roots, [now[name] for name in names if name in now])
    restored = sorted(before - after)
    for path in restored:
        print(f"pipguard: repaired {path}", file=sys.stderr)
    print(
        f"pipguard: {len(restored)} file{'s' if len(restored) != 1 else ''} restored to "
        f"{', '.join(names)}'s copy" + (f"; {len(after)} still differ" if after else ""),
        file=sys.stderr,
    )
    return 0 if not after else 1


def _differing(roots: tuple[str, ...], dists: list[InstalledDistribution]) -> set[str]:
    """Return the files of ``dists`` whose bytes are not what their RECORD lists."""
    hasher = Disk(roots)
    paths = set()
    for dist in dists:
        for entry in dist.entries or ():
            path = resolve_row(dist.base, entry.path)
            if entry.hash is None or path is None or not is_within(path, roots):
                continue
            if hasher(path, entry.hash.partition("=")[0]) != entry.hash:
                paths.add(path)
    return paths
