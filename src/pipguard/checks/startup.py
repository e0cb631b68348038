"""Startup code: what an install adds that runs at every interpreter start, and what is there.

Python runs, at every start, each ``import`` line of each ``.pth`` file in a site directory,
PEP 829 ``.start`` entry points (3.15+), and ``sitecustomize`` / ``usercustomize``; a ``.pth``
path line outside the environment can shadow any module. The compromised litellm 1.82.7
(2026-03-24) shipped ``litellm_init.pth``: one import line that sent credentials away. Each
file is classified by what site.py does with it (``startup_files``); whether its code may run
is the policy's to say (the allow-list), by its owner.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from pipguard.checks.startup_files import (
    StartupContext,
    classify_startup_file,
    is_startup_path,
    matching_start,
)
from pipguard.findings import Finding, StartupCode
from pipguard.ownership import OwnershipIndex

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.environment import InstalledDistribution
    from pipguard.views import EnvironmentView, Transaction

__all__ = ["in_environment", "in_transaction"]

# Site directories site.py itself reads .pth files in; directories a .pth path line or
# PYTHONPATH adds are on sys.path, but their .pth files are never read.
_READ_BY_SITE = frozenset({"scheme", "site", "user", "base", "given"})


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return every startup file the install would write, classified, new or changed or not."""
    version = view.python_version
    context = StartupContext(version, view.env.roots)
    found: list[Finding] = []
    for wheel in view.wheels:
        names = {(item.site, item.name): item.data for item in wheel.startup}
        for item in wheel.startup:
            start = matching_start(item.name) if item.name.endswith(".pth") else None
            sibling = names.get((item.site, start)) if start else None
            if start and sibling is None:
                sibling = disk.read(f"{item.site}/{start}")
            file = classify_startup_file(
                item.site,
                item.name,
                item.data,
                wheel.name,
                context,
                editable=wheel.editable,
                start_sibling=sibling,
            )
            # An upgrade that brings the same bytes back adds nothing new.
            owners = {index.dists[n].name for n, _ in index.owners(item.path)}
            same = wheel.name in owners and disk.read(item.path) == item.data
            found.append(
                StartupCode(
                    item.path,
                    item.name,
                    wheel.name,
                    wheel.version,
                    file,
                    incoming=True,
                    changed=not same,
                )
            )
    return found


def _startup_names(disk: Disk, site: str) -> list[str]:
    """Return the startup files at the top of ``site``, relative to it."""
    names = disk.listdir(site) or []
    found = [name for name in names if is_startup_path(name)]
    for package in ("sitecustomize", "usercustomize"):
        if package in names:
            found += [
                f"{package}/{n}"
                for n in disk.listdir(f"{site}/{package}") or []
                if is_startup_path(f"{package}/{n}")
            ]
    if "__pycache__" in names:
        found += [
            f"__pycache__/{n}"
            for n in disk.listdir(f"{site}/__pycache__") or []
            if is_startup_path(f"__pycache__/{n}")
        ]
    return sorted(found)


def _editable(dist: InstalledDistribution, disk: Disk) -> bool:
    """Tell whether ``dist`` is an editable install of a local project (PEP 660)."""
    data = disk.read(f"{dist.metadata_dir}/direct_url.json", (dist.site,))
    try:
        info = json.loads(data or b"{}").get("dir_info", {})
        return bool(isinstance(info, dict) and info.get("editable"))
    except (ValueError, AttributeError):
        return False


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return every startup file of every site directory site.py reads, classified.

    Startup files are few: each is read, and hashed against its RECORD.
    """
    from pipguard.records import ALLOWED_ALGORITHMS, hash_bytes

    imports = view.env.imports
    version = imports.version if imports is not None else sys.version_info[:2]
    context = StartupContext(
        (version[0], version[1]), view.env.roots, imports.virtualenv if imports else False
    )
    layers = view.env.layers
    sites = (
        [layer.path for layer in layers if layer.origin in _READ_BY_SITE]
        if layers
        else list(view.env.scan_dirs)
    )
    found: list[Finding] = []
    for site in sites:
        for name in _startup_names(disk, site):
            path = f"{site}/{name}"
            data = disk.read(path)
            if data is None:
                continue  # unreadable: the files check names it
            rows = index.owners(path)
            dist = index.dists[rows[0][0]] if rows else None
            recorded = rows[0][1] if rows else None
            start = matching_start(name) if name.endswith(".pth") else None
            file = classify_startup_file(
                site,
                name,
                data,
                dist.name if dist else None,
                context,
                editable=dist is not None and _editable(dist, disk),
                start_sibling=disk.read(f"{site}/{start}") if start else None,
            )
            algorithm = recorded.partition("=")[0] if recorded else ""
            tampered = algorithm in ALLOWED_ALGORITHMS and hash_bytes(data, algorithm) != recorded
            found.append(
                StartupCode(
                    path,
                    name,
                    dist.name if dist else None,
                    dist.version if dist else None,
                    file,
                    tampered=tampered,
                )
            )
    return found
