"""Describe the running interpreter's install locations and import path as JSON.

Kept free of pipguard imports, and working on Python 3.9 to 3.13: ``--python`` runs this file
under another interpreter, which may not have pipguard installed, on every check.

``site_dirs`` are the entries of ``sys.path`` distributions are installed in, in ``sys.path``
order, each with where it comes from:

- ``scheme``: the install scheme's purelib or platlib (where pip writes by default);
- ``user``: the user site, when enabled;
- ``site``: another directory of ``site.getsitepackages()`` of this environment (Debian's
  ``/usr/lib/python3/dist-packages`` beside the scheme's ``/usr/local/...``);
- ``base``: in a venv made with ``--system-site-packages``, the base interpreter's;
- ``pythonpath`` / ``pth``: any other entry (from ``PYTHONPATH``, or added by a ``.pth``
  file or startup code) that is a directory holding a ``*.dist-info``: an installer put
  distributions there (``site.addsitedir``, a ``pip --target`` directory, Nix or Bazel
  layouts). Other entries (a project's ``src`` from an editable install, which holds at
  most an ``.egg-info`` of its own build) are import path only, in ``sys_path``.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import site
import sys
import sysconfig

# typing costs 2 to 3 ms to import, paid on every check of another interpreter: mypy alone
# needs these names (it takes any TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _import_path() -> list[str]:
    """Return ``sys.path`` without the entry the interpreter added for the running program.

    A program's own directory (or the current one, for ``-m`` and ``-c``) is not part of the
    environment; it is ``sys.path[0]`` unless ``-P`` (3.11+) or ``-I`` kept it out.
    """
    entries = list(sys.path)
    program_entry = not (getattr(sys.flags, "safe_path", False) or sys.flags.isolated)
    if program_entry and entries:
        entries.pop(0)
    return [os.path.abspath(entry) for entry in entries if isinstance(entry, str) and entry]


def _holds_dist_info(directory: str) -> bool:
    try:
        with os.scandir(directory) as listing:
            return any(entry.name.endswith(".dist-info") for entry in listing)
    except OSError:
        return False


def _pythonpath() -> set[str]:
    if sys.flags.ignore_environment:
        return set()
    value = os.environ.get("PYTHONPATH", "")
    return {_norm(part) for part in value.split(os.pathsep) if part}


def _in_stdlib(key: str, stdlib: set[str], sites: set[str]) -> bool:
    """Tell whether ``key`` is the standard library's, not a directory below a site's.

    In a venv the platform library is the venv's own lib/pythonX.Y, which holds site-packages:
    a directory a .pth adds below site-packages is a site directory of its own.
    """
    return any(_within(key, d) for d in stdlib) and not any(_within(key, d) for d in sites)


def _site_dirs(
    search: list[str], scheme: Mapping[str, str], user_site: str | None, in_venv: bool
) -> list[list[str]]:
    """Return [directory, origin] for the site directories of ``search``, in its order."""
    own = {_norm(d) for d in (scheme.get("purelib"), scheme.get("platlib")) if d}
    # Absent from the site.py of virtualenv before 20.
    listed = (
        {_norm(d) for d in site.getsitepackages()} if hasattr(site, "getsitepackages") else set()
    )
    prefixes = {_norm(sys.prefix), _norm(sys.exec_prefix)}
    stdlib = {_norm(d) for d in (scheme.get("stdlib"), scheme.get("platstdlib")) if d}
    from_env = _pythonpath()
    user = _norm(user_site) if user_site else None
    found: list[list[str]] = []
    seen: set[str] = set()
    for entry in search:
        key = _norm(entry)
        if key in seen:
            continue
        seen.add(key)
        if key in own:
            origin = "scheme"
        elif key == user:
            origin = "user"
        elif key in listed:
            base = in_venv and not any(_within(key, p) for p in prefixes)
            origin = "base" if base else "site"
        elif _in_stdlib(key, stdlib, own | listed) or not _holds_dist_info(entry):
            continue
        else:
            origin = "pythonpath" if key in from_env else "pth"
        found.append([entry, origin])
    return found


def _pyvenv_cfg(prefix: str) -> dict[str, str]:
    """Return the ``key = value`` lines of a venv's ``pyvenv.cfg`` (keys lower-cased)."""
    values: dict[str, str] = {}
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8", errors="replace") as cfg:
            for line in cfg:
                key, sep, value = line.partition("=")
                if sep:
                    values[key.strip().lower()] = value.strip()
    except OSError:
        pass
    return values


def _listed_stdlib_names(
    search: list[str], scheme: Mapping[str, str], site_dirs: list[list[str]]
) -> list[str]:
    """Guess the standard library's top-level modules where ``sys`` does not name them (3.9).

    Built-in and frozen modules, and the modules and packages in the standard library's
    directories on ``sys.path`` (the library, ``lib-dynload``; never a site directory inside
    it). Against 3.10's own list this names the test modules too (``test``, ``_testcapi``,
    ``xxsubtype``) and misses only modules this build lacks (``_gdbm``, Windows' ``nt``).
    """
    names = set(sys.builtin_module_names)
    names.update(n for n in ("_frozen_importlib", "_frozen_importlib_external") if n in sys.modules)
    stdlib = [_norm(d) for d in (scheme.get("stdlib"), scheme.get("platstdlib")) if d]
    if sys.platform == "win32":
        stdlib.append(_norm(os.path.join(sys.base_prefix, "DLLs")))
    sites = {_norm(directory) for directory, _ in site_dirs}
    dirs = dict.fromkeys(
        e for e in search if _norm(e) not in sites and any(_within(_norm(e), d) for d in stdlib)
    )
    for directory in dirs:
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    stem = entry.name.partition(".")[0]
                    is_module = entry.name.endswith(tuple(importlib.machinery.all_suffixes()))
                    if stem.isidentifier() and (is_module or entry.is_dir()):
                        names.add(stem)
        except OSError:
            continue
    names.discard("__pycache__")
    return sorted(names - {"site-packages", "dist-packages"})


def facts() -> dict[str, Any]:
    """Return the install directories, prefixes and import path of this interpreter."""
    paths = sysconfig.get_paths()
    user_enabled = bool(site.ENABLE_USER_SITE)
    user_site = site.getusersitepackages() if user_enabled else None
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    cfg = _pyvenv_cfg(sys.prefix) if in_venv else {}
    search = _import_path()
    site_dirs = _site_dirs(search, paths, user_site, in_venv)
    exact = getattr(sys, "stdlib_module_names", None)
    return {
        "python": sys.executable,
        "version": ".".join(map(str, sys.version_info[:3])),
        "version_info": list(sys.version_info),
        "prefix": sys.prefix,
        "exec_prefix": sys.exec_prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "base_exec_prefix": getattr(sys, "base_exec_prefix", sys.exec_prefix),
        "in_venv": in_venv,
        "virtualenv": cfg.get("virtualenv"),  # its version, when virtualenv made this venv
        "uv": cfg.get("uv"),  # likewise for uv, which writes virtualenv's _virtualenv.pth
        "system_site_packages": cfg.get("include-system-site-packages", "").lower() == "true",
        "paths": {key: paths.get(key) for key in _SCHEME_KEYS},
        "user_site": user_site,
        "user_base": site.getuserbase() if user_enabled else None,
        "case_insensitive": os.path.normcase("A") == "a" or sys.platform == "darwin",
        "sys_path": search,
        "site_dirs": site_dirs,
        "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        "stdlib_module_names": sorted(exact)
        if exact
        else _listed_stdlib_names(search, paths, site_dirs),
        "stdlib_module_names_exact": exact is not None,
    }


# --- the marker environment (PEP 508), for the dependency check -----------------------------


def marker_environment() -> dict[str, str]:
    """Return this interpreter's PEP 508 marker environment, as packaging computes it.

    From packaging where it imports, else from pip's vendored copy (what pip check itself
    uses here), else computed from the standard library after PEP 508's definitions.
    """
    for module in ("packaging.markers", "pip._vendor.packaging.markers"):
        try:
            found = importlib.import_module(module).default_environment()
        except Exception:  # absent, or too new for this Python: the next way
            continue
        if isinstance(found, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in found.items()
        ):
            return found
    return _stdlib_marker_environment()


def _stdlib_marker_environment() -> dict[str, str]:
    import platform

    impl = sys.implementation.version
    impl_version = f"{impl.major}.{impl.minor}.{impl.micro}"
    if impl.releaselevel != "final":
        impl_version += f"{impl.releaselevel[0]}{impl.serial}"
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


if __name__ == "__main__":
    # Only another interpreter is asked for its markers here: in-process, they are computed
    # when a distribution has requirements (packaging is imported then anyway).
    json.dump({**facts(), "markers": marker_environment()}, sys.stdout)
