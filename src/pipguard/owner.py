"""``pipguard owner``: which distributions list a file, or the files of an import name."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pipguard.environment import Environment
from pipguard.ownership import OwnershipIndex
from pipguard.paths import relative_to, to_posix

if TYPE_CHECKING:
    from pipguard.checks.imports import Shadowed
    from pipguard.disk import Disk

__all__ = ["find_owners", "import_answer", "label", "managers", "owner_entries"]

Owners = list[tuple[str, str]]


def managers(index: OwnershipIndex) -> dict[tuple[str, str], str]:
    """Return (name, version) -> its system package (``dpkg: python3-jwt``), where one owns it."""
    return {(d.name, d.version): d.manager for d in index.dists if d.manager is not None}


def label(name: str, version: str, managed: dict[tuple[str, str], str]) -> str:
    """Return ``name version``, with the system package that installed it if any."""
    manager = managed.get((name, version))
    return f"{name} {version}" + (f" ({manager})" if manager else "")


def owner_entries(owners: Owners, managed: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    """Return the JSON form of ``owners``: name and version, and ``manager`` where one owns it."""
    entries = []
    for name, version in owners:
        entry = {"name": name, "version": version}
        if (name, version) in managed:
            entry["manager"] = managed[name, version]
        entries.append(entry)
    return entries


def _owners_of(index: OwnershipIndex, path: str) -> Owners:
    seen: dict[int, None] = {}
    for number, _ in index.owners(path):
        seen.setdefault(number)
    return sorted((index.dists[n].name, index.dists[n].version) for n in seen)


def _is_module_file(leaf: str, module: str) -> bool:
    # jwt.py, jwt.pyi, jwt.cpython-311-x86_64-linux-gnu.so, jwt.pyd
    stem, dot, _ = leaf.partition(".")
    return bool(dot) and stem == module


def find_owners(
    index: OwnershipIndex, env: Environment, target: str, cwd: str
) -> list[tuple[str, Owners]]:
    """Return (path, owners) for a file path, or for every top-level module an import name names."""
    looks_like_path = "/" in target or os.sep in target or os.path.exists(os.path.join(cwd, target))
    if looks_like_path:
        candidates = [to_posix(os.path.realpath(os.path.join(cwd, target)))]
        # As tables show them: from site-packages (jwt/api.py) or the environment (bin/jwt).
        relative = to_posix(target).lstrip("/")
        candidates += [f"{base}/{relative}" for base in (*env.scan_dirs, *env.roots)]
        for candidate in candidates:
            owners = _owners_of(index, candidate)
            if owners:
                return [(candidate, owners)]
        return []
    top = target.split(".", maxsplit=1)[0]
    found: dict[str, dict[tuple[str, str], None]] = {}
    for site in env.scan_dirs:
        package = f"{site}/{top}/"
        for path in index.paths():
            if not path.startswith(site + "/"):
                continue
            rest = path[len(site) + 1 :]
            if path.startswith(package) or ("/" not in rest and _is_module_file(rest, top)):
                shown = relative_to(path, site).split("/")[0]
                group = found.setdefault(shown if "/" not in rest else f"{top}/", {})
                for owner in _owners_of(index, path):
                    group.setdefault(owner)
    return [(path, sorted(owners)) for path, owners in sorted(found.items())]


def import_answer(
    index: OwnershipIndex, env: Environment, name: str, disk: Disk
) -> tuple[Shadowed, str | None, Owners] | None:
    """Return what ``import name`` gives: the top-level resolution, and for a dotted name the
    file of the submodule it loads with that file's owners. None when no distribution offers
    the top-level name."""
    from pipguard.checks import shadowing
    from pipguard.checks.imports import build_site_dirs, resolve_import

    top, _, rest = name.partition(".")
    if not top.isidentifier():
        return None
    imports = env.imports
    search = imports.path if imports is not None else env.scan_dirs
    suffixes = shadowing.suffixes_of(imports)
    sites = build_site_dirs(search, shadowing.installed_listings(index))
    stdlib = imports.stdlib_module_names if imports else frozenset()
    resolved = resolve_import(top, sites, suffixes, stdlib, shadowing.declares_namespace(disk))
    if resolved is None or resolved.path is None or resolved.site is None or not rest:
        return (resolved, None, []) if resolved is not None else None
    package = f"{resolved.site}/{top}/" + "/".join(rest.split("."))
    for candidate in (
        *(f"{package}/__init__{suffix}" for suffix in suffixes.ordered),
        *(f"{package}{suffix}" for suffix in suffixes.ordered),
    ):
        owners = _owners_of(index, candidate)
        if owners:
            return resolved, relative_to(candidate, resolved.site), owners
    return resolved, None, []
