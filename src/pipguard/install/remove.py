"""``pipguard uninstall`` and ``pipguard repair``: removal that spares shared files, and repair."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from pipguard.check import scan
from pipguard.console import console_for
from pipguard.disk import Disk
from pipguard.environment import (
    Environment,
    InstalledDistribution,
    canonical_name,
    describe_python,
)
from pipguard.freshness import FreshnessSnapshot, directories_to_watch
from pipguard.install.command import install_main
from pipguard.install.guard import warm_up
from pipguard.install.keep import Kept, keep_file, write_back
from pipguard.install.options import EXIT_USAGE, OWN_OPTIONS, UsageError, split_args
from pipguard.install.transaction import lock_directory, removed_paths
from pipguard.lock import LockTimeout, hold
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_derived_pyc, is_within, relative_to, resolve_row
from pipguard.render import one_line
from pipguard.sizing import LIMIT, Collapsed, collapse

__all__ = ["SharedFile", "first_copies", "refusal", "repair_main", "shared_files", "uninstall_main"]

# How a site directory pip does not install into came to be on the import path.
_LAYER_WORDS = {
    "base": "the base interpreter's site-packages",
    "site": "a site directory of the system's Python",
    "user": "the user site",
    "pythonpath": "a directory on PYTHONPATH",
    "pth": "a directory a .pth file adds",
}


@dataclass(frozen=True)
class SharedFile:
    """A file an uninstall would delete that another installed distribution still lists."""

    path: str
    display: str
    removing: str
    still_listed_by: tuple[str, ...]
    identical: bool = False  # every owner lists the same hash: no copy lost, one still needed


def shared_files(index: OwnershipIndex, removing: dict[str, list[str]]) -> list[SharedFile]:
    """Return the files being removed (name -> its paths) that staying distributions list too."""
    found: list[SharedFile] = []
    for name, paths in removing.items():
        for path in paths:
            if is_derived_pyc(path):
                continue  # byte code follows its source, kept or not
            others = sorted({index.dists[n].name for n, _ in index.owners(path)} - removing.keys())
            if others:
                owners = index.owners(path)
                site = index.dists[owners[0][0]].site
                hashes = {value for _, value in owners}
                same = len(hashes) == 1 and None not in hashes and "" not in hashes
                found.append(SharedFile(path, relative_to(path, site), name, tuple(others), same))
    return found


def first_copies(dists: Sequence[InstalledDistribution]) -> dict[str, InstalledDistribution]:
    """Return each name's first copy in import order: the one ``import`` and pip find."""
    first: dict[str, InstalledDistribution] = {}
    for dist in dists:
        first.setdefault(dist.name, dist)
    return first


def _dpkg_package(dist: InstalledDistribution) -> str | None:
    """Return ``dpkg: <package>`` when dpkg lists ``dist``'s metadata directory (a RECORD too)."""
    if dist.manager is not None:
        return dist.manager
    from pipguard.dpkg import DpkgDatabase, split_arch
    from pipguard.managed import dpkg_root

    database = DpkgDatabase(dpkg_root())
    if not database.present():
        return None
    packages = database.owners(dist.metadata_dir)
    return f"dpkg: {split_arch(packages[0])[0]}" if packages else None


def refusal(dist: InstalledDistribution, env: Environment, action: str) -> str | None:
    """Say in one line why pipguard will not ``action`` (remove, reinstall) ``dist``, or None.

    The system package manager's distributions are apt's to change; a site directory outside
    the environment's write roots (a base interpreter's) is not this environment's.
    """
    layer = next((layer for layer in env.layers if layer.path == dist.site), None)
    writable = layer is None or layer.writable
    manager = dist.manager if writable else _dpkg_package(dist)
    shown = one_line(f"{dist.name} {dist.version}")
    if manager is not None:
        package = manager.partition(": ")[2]
        command = "remove" if action == "remove" else "install --reinstall"
        return (
            f"{shown} belongs to the system package manager ({one_line(manager)}): "
            f"{action} it with apt-get {command} {one_line(package)}"
        )
    if layer is not None and not writable:
        words = _LAYER_WORDS.get(layer.origin, "a site directory")
        return (
            f"{shown} is in {one_line(layer.path)} ({words}), which this environment imports "
            f"from but pip does not install into: pipguard will not {action} it here"
        )
    return None


def _shared_table(rows: Sequence[SharedFile], *, verbose: bool = False) -> object:
    """Return the table of shared files; without ``verbose``, sized as check's tables are."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from pipguard.render import shown_path, visible

    table = Table(
        title=Text("shared files", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
    )
    table.add_column("path", overflow="fold")
    table.add_column("removing", overflow="fold")
    table.add_column("still listed by", overflow="fold")
    ordered = sorted(rows, key=lambda row: row.display)
    listed = [row for row in ordered if verbose or not row.identical]
    shown, _ = collapse(listed, verbose=verbose)
    for row in shown:
        table.add_row(
            Text(visible(shown_path(row.display))),
            Text(visible(row.removing)),
            Text(visible(", ".join(row.still_listed_by))),
        )
    same = [] if verbose else [row for row in ordered if row.identical]
    for rest, kind in ((listed[len(shown) :], "differing"), (same, "identical")):
        if rest:
            line = Collapsed(len(rest), kind, (), harmless=kind == "identical")
            table.add_row(
                Text(line.text, style="italic"),
                Text(visible(", ".join(sorted({row.removing for row in rest})))),
                Text(visible(", ".join(sorted({n for row in rest for n in row.still_listed_by})))),
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
    directory = lock_directory(env)
    try:
        lock = hold(directory, options.lock_timeout) if directory else None
    except LockTimeout as exc:
        print(f"pipguard: error: {exc}; nothing was removed", file=sys.stderr)
        return 1
    dists, index, _ = scan(env)
    # pip removes the copy it finds first on the import path, as import does.
    targets = [dist for name, dist in first_copies(dists).items() if name in names]
    reason = _refusal(targets, env)
    if reason is not None:
        print(f"pipguard: error: {reason}; nothing was removed", file=sys.stderr)
        return 1
    # Each removed distribution's RECORD resolved once, for the shared files and freshness.
    removing = {dist.name: removed_paths([dist], {dist.name}) for dist in targets}
    shared = shared_files(index, removing)
    _warn_unknown(dists, removing)
    if shared and options.policy == "prevent":
        _refuse_shared(shared, verbose=any(arg in ("-v", "--verbose") for arg in pip_args))
        return 1
    code = _remove_keeping(env, pip_args, removing, shared)
    if shared and options.policy == "warn" and code == 0:
        kept = {row.path: keep for row in shared if (keep := _on_disk(row.path)) is not None}
        if kept:
            print(_kept_summary(index, shared, kept), file=sys.stderr)
    if lock is not None:
        lock.close()
    return code


def _refusal(targets: list[InstalledDistribution], env: Environment) -> str | None:
    """Say why none of ``targets`` may be removed (apt's, another layer's, unreadable)."""
    for dist in targets:
        reason = refusal(dist, env, "remove")
        if reason is not None:
            return reason
    undecodable = [d for d in targets if d.not_utf8]
    if undecodable:
        # pip reads a RECORD whole, and fails on it with a traceback: say it in one line.
        dist = undecodable[0]
        return (
            f"{one_line(dist.record_file)}: line {dist.not_utf8[0]}: not UTF-8: pip cannot read "
            f"this RECORD to uninstall {one_line(dist.name)}"
        )
    return None


def _warn_unknown(dists: list[InstalledDistribution], removing: dict[str, list[str]]) -> None:
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


def _refuse_shared(shared: list[SharedFile], *, verbose: bool) -> None:
    console_for(sys.stderr).print(_shared_table(shared, verbose=verbose))
    users = one_line(", ".join(sorted({n for row in shared for n in row.still_listed_by})))
    owners = one_line(", ".join(sorted({row.removing for row in shared})))
    print(
        f"pipguard: nothing was removed: {len(shared)} file"
        f"{'s' if len(shared) != 1 else ''} of {owners}"
        f" {'are' if len(shared) != 1 else 'is'} still listed by {users}, which "
        "would break. To remove anyway and keep those files, add --on-conflict warn"
        + ("." if verbose or len(shared) <= LIMIT else "; --verbose lists every file."),
        file=sys.stderr,
    )


def _on_disk(path: str) -> Kept | None:
    try:
        with open(path, "rb") as handle:
            return Kept(handle.read(), 0)
    except OSError:
        return None


def _remove_keeping(
    env: Environment,
    pip_args: list[str],
    removing: dict[str, list[str]],
    shared: list[SharedFile],
) -> int:
    """Run pip's uninstall, then write back the shared files it removed; return the code."""
    from pipguard.install import pipbridge

    kept: dict[str, Kept] = {}
    for row in shared:
        content = keep_file(row.path, env.roots)  # read; written back only inside write_roots
        if content is not None:
            kept[row.path] = content
    removed = [path for paths in removing.values() for path in paths]
    freshness = FreshnessSnapshot(
        directories_to_watch(
            [],
            removed,
            env.write_roots,
            [*env.scan_dirs, *([env.scheme["scripts"]] if "scripts" in env.scheme else [])],
        ),
        env.scan_dirs,
    )
    code = pipbridge.run_pip(pip_args)
    # pip removed them, and the directories it emptied: put them back; else leave them be.
    gone = {path: content for path, content in kept.items() if not os.path.lexists(path)}
    failed = write_back(gone, env.write_roots)
    freshness.settle()
    lost = sorted(
        {row.path for row in shared if row.path not in kept and not os.path.lexists(row.path)}
        | {failure.path for failure in failed}
    )
    if lost:
        reasons = {failure.path: failure.reason for failure in failed}
        shown = {row.path: row.display for row in shared}
        named = ", ".join(
            one_line(shown.get(path, path))
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
    verbose = False
    items = iter(args)
    for arg in items:
        if arg in ("-v", "--verbose"):
            verbose = True  # repair's own: a line per file (pip's -v would flood the log)
        elif arg.startswith("-"):
            passthrough.append(arg)
            if arg in _VALUE_OPTIONS:
                passthrough.append(next(items, ""))
        else:
            names.append(canonical_name(arg))
    if not names:
        print(
            f"{prog} repair: error: name at least one installed distribution "
            f"({prog} repair --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    env = describe_python()
    dists, _, _ = scan(env)
    installed = first_copies(dists)
    missing = [name for name in names if name not in installed]
    if missing:
        print(f"{prog} repair: error: not installed here: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    for name in names:
        reason = refusal(installed[name], env, "reinstall")
        if reason is not None:
            print(f"{prog} repair: error: {reason}; nothing was reinstalled", file=sys.stderr)
            return 1
    before = _differing(env.roots, [installed[name] for name in names])
    pins = [f"{name}=={installed[name].version}" for name in names]
    winners = [flag for name in names for flag in ("--winner", name)]
    code = install_main(
        ["install", "--force-reinstall", "--no-deps", *winners, *passthrough, *pins], prog=prog
    )
    if code != 0:
        return code
    # The reinstall wrote new RECORDs (INSTALLER, direct_url.json): judge by those.
    now = first_copies(scan(env)[0])
    after = _differing(env.roots, [now[name] for name in names if name in now])
    restored = sorted(before - after)
    for path in restored if verbose else ():
        print(f"pipguard: repaired {one_line(path)}", file=sys.stderr)
    print(
        f"pipguard: {len(restored)} file{'s' if len(restored) != 1 else ''} restored to "
        f"{', '.join(names)}'s copy"
        + (f"; {len(after)} still differ" if after else "")
        + (" (--verbose names each)" if restored and not verbose else ""),
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
