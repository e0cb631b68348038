"""The layers of an environment: every site directory on its import path, and who may write where.

An interpreter imports from several site directories in ``sys.path`` order (a venv's own and,
made with ``--system-site-packages``, its base interpreter's; Debian's ``/usr/local`` and
``/usr/lib/python3/dist-packages``; the user site). pip writes only to its scheme's. This
module turns an interpreter's facts (``_facts.py``) into those layers and into the two sets
of roots: what pipguard may read, and the smaller set it may change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from pipguard.paths import is_within

__all__ = [
    "ORIGINS",
    "ImportSystem",
    "Layer",
    "LayerPlan",
    "cover",
    "home_of",
    "import_system",
    "plan_layers",
    "site_rows",
]

# Where a site directory comes from (see _facts.py); "given" is a directory named by the user
# (--path), "extra" one a caller added.
ORIGINS = frozenset({"scheme", "user", "site", "base", "pythonpath", "pth", "given", "extra"})


class Layer(NamedTuple):
    """One site directory of an environment, in import order: the first to hold a module wins."""

    path: str  # absolute, links resolved
    origin: str  # one of ORIGINS
    writable: bool  # inside the environment's write roots (a base's site-packages is not)


class ImportSystem(NamedTuple):
    """What the interpreter's import system needs to be replayed: its path and suffixes."""

    path: tuple[str, ...]  # sys.path in order, without the running program's own entry
    extension_suffixes: tuple[str, ...]
    stdlib_module_names: frozenset[str]
    stdlib_exact: bool  # sys.stdlib_module_names (3.10+), or a guess from the library's files
    version: tuple[int, int] = (0, 0)  # the interpreter's major and minor version
    # virtualenv (or uv) made the environment: its own _virtualenv.pth is no one's startup code.
    virtualenv: bool = False


class LayerPlan(NamedTuple):
    """The layers of an environment and the roots derived from them."""

    layers: tuple[Layer, ...]
    roots: tuple[str, ...]  # inside these pipguard may read
    write_roots: tuple[str, ...]  # inside these pipguard may create, change or delete files


def site_rows(value: Any) -> list[tuple[str, str]]:
    """Return the (directory, origin) rows of a facts ``site_dirs`` value.

    Raises TypeError when it is not a list of [str, known origin] pairs: the facts came from
    something that is not the interpreter it claims to be.
    """
    if not isinstance(value, list):
        raise TypeError("site_dirs is not a list")
    rows: list[tuple[str, str]] = []
    for row in value:
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(x, str) for x in row)):
            raise TypeError("a site_dirs row is not [directory, origin]")
        if row[1] not in ORIGINS:
            raise TypeError(f"unknown site directory origin {row[1]!r}")
        rows.append((row[0], row[1]))
    return rows


def cover(paths: Iterable[str | None]) -> tuple[str, ...]:
    """Return the fewest of ``paths`` (normalised, absolute) that hold all the others."""
    roots: list[str] = []
    for path in paths:
        if path and not is_within(path, roots):
            roots = [r for r in roots if not is_within(r, [path])] + [path]
    return tuple(roots)


def home_of(site_dir: str) -> str | None:
    """Return the installation home a site directory sits in (``<home>/lib/python3.X/...``).

    A RECORD's console scripts climb to ``<home>/bin``: reading them needs the home as a root.
    None where the directory is laid out otherwise (a ``--target`` directory).
    """
    # String tests, not a regular expression: compiling one costs more than all the calls.
    parts = site_dir.split("/")
    if parts[-1:] == ["site-packages"] and parts[-2:-1] == ["Lib"] and len(parts) > 2:
        return "/".join(parts[:-2])
    if (
        len(parts) > 3
        and parts[-1] in ("site-packages", "dist-packages")
        and parts[-2].startswith("python")
        and parts[-3] in ("lib", "lib64")
    ):
        return "/".join(parts[:-3]) or "/"
    return None


def plan_layers(
    facts: Mapping[str, Any],
    realpath: Callable[[str], str],
    is_dir: Callable[[str], bool],
    extra_dirs: Iterable[str] = (),
) -> LayerPlan:
    """Return the layers of an interpreter's facts, in ``sys.path`` order, and their roots.

    ``realpath`` (absolute, links resolved) and ``is_dir`` are the only questions put to the
    disk. The scheme's purelib and platlib are layers even when absent from ``sys.path`` (pip
    writes there); ``extra_dirs`` come last; a directory that does not exist is no layer.
    Read roots: the prefixes, the user base, every layer, and the home of a layer outside
    them (a base interpreter's prefix, a ``.pth``-added site's). Write roots: the scheme's
    purelib, platlib, scripts and data, and the user base when the user site is enabled.
    """
    paths: dict[str, str] = {k: v for k, v in facts["paths"].items() if v}
    scheme = {realpath(paths[k]) for k in ("purelib", "platlib") if k in paths}
    user_base = facts.get("user_base")
    # Not "include": in a venv that is the base interpreter's headers (pip writes a venv's
    # under its data directory); pip's own scheme names the headers directory of an install.
    writes = (*(paths.get(k) for k in ("purelib", "platlib", "scripts", "data")), user_base)
    write_roots = cover(realpath(p) for p in writes if p)
    rows = site_rows(facts["site_dirs"])
    rows += [(paths[k], "scheme") for k in ("purelib", "platlib") if k in paths]
    rows += [(d, "extra") for d in extra_dirs]
    layers: dict[str, Layer] = {}
    for directory, origin in rows:
        if not is_dir(directory):
            continue
        resolved = realpath(directory)
        if resolved not in layers:
            kind = "scheme" if resolved in scheme else origin
            layers[resolved] = Layer(resolved, kind, is_within(resolved, write_roots))
    homes: list[str | None] = []
    for layer in layers.values():
        if layer.origin == "base":
            homes += [facts.get("base_prefix"), facts.get("base_exec_prefix")]
        elif layer.origin in ("pth", "pythonpath"):
            homes.append(home_of(layer.path))
    bases = (facts.get("prefix"), facts.get("exec_prefix"), user_base, *homes)
    roots = cover([*(realpath(b) for b in bases if b), *layers])
    return LayerPlan(tuple(layers.values()), roots, write_roots)


def import_system(facts: Mapping[str, Any]) -> ImportSystem:
    """Return the import path, extension suffixes and standard library names of the facts."""
    values = (facts["sys_path"], facts["extension_suffixes"], facts["stdlib_module_names"])
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in values):
        raise TypeError("sys_path, extension_suffixes and stdlib_module_names are lists of str")
    path, suffixes, names = values
    info = facts.get("version_info") or [0, 0]
    if not (
        isinstance(info, list) and len(info) >= 2 and all(isinstance(x, int) for x in info[:2])
    ):
        raise TypeError("version_info is a list of numbers")
    return ImportSystem(
        tuple(path),
        tuple(suffixes),
        frozenset(names),
        bool(facts["stdlib_module_names_exact"]),
        (info[0], info[1]),
        bool(facts.get("virtualenv") or facts.get("uv")),
    )
