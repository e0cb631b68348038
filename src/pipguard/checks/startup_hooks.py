"""Standard startup hooks: the ones nearly every environment has, known by owner and content.

Each is recognised by who wrote it (its RECORD's owner, or for virtualenv's the tool that made
the environment) together with the exact content or generated shape its maker writes, taken
from the maker's source at each release; a name alone never makes a file standard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipguard.environment import canonical_name

if TYPE_CHECKING:
    from pipguard.checks.startup_files import StartupContext, StartupLine

__all__ = ["standard_reason"]

# setuptools' distutils-precedence.pth, one line (plus a line break), by setuptools version.
_DISTUTILS_PRECEDENCE = frozenset(
    {
        # 49.3.x
        "import os; enabled = os.environ.get('SETUPTOOLS_USE_DISTUTILS') == 'local'; "
        "enabled and __import__('_distutils_hack').add_shim();",
        # 50.0.x, 60.0.x, 60.2.0 and later
        "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; "
        "enabled = os.environ.get(var, 'local') == 'local'; "
        "enabled and __import__('_distutils_hack').add_shim();",
        # 50.1.0 to 59.x
        "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; "
        "enabled = os.environ.get(var, 'stdlib') == 'local'; "
        "enabled and __import__('_distutils_hack').add_shim();",
        # 60.1.x
        "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; "
        "enabled = os.environ.get(var, 'local') == 'local'; "
        "enabled and __import__('_distutils_hack').ensure_shim();",
    }
)

# setuptools' namespace-package line (namespaces.Installer._nspkg_tmpl), by setuptools version;
# segments are joined with ';'. A dotted package adds _NSPKG_CHILD.
_NSPKG_HEAD = "import sys, types, os"
_NSPKG_P = "p = os.path.join(%(root)s, *%(pth)r)"
_NSPKG_TAIL = (
    "mp = (m or []) and m.__dict__.setdefault('__path__',[])",
    "(p not in mp) and mp.append(p)",
)
_NSPKG_SPEC = (
    "sys.modules.setdefault(%(pkg)r, importlib.util.module_from_spec("
    "importlib.machinery.PathFinder.find_spec(%(pkg)r, [os.path.dirname(p)])))"
)
_NSPKG_MODULE = "sys.modules.setdefault(%(pkg)r, types.ModuleType(%(pkg)r))"
_NSPKG_IE = "ie = os.path.exists(os.path.join(p,'__init__.py'))"
_NSPKG_FAMILIES: tuple[tuple[str, ...], ...] = (
    # 69.1.0 and later
    (
        _NSPKG_HEAD,
        _NSPKG_P,
        "importlib = __import__('importlib.util')",
        "__import__('importlib.machinery')",
        "m = " + _NSPKG_SPEC,
        "m = m or " + _NSPKG_MODULE,
        *_NSPKG_TAIL,
    ),
    # 34.3.0 to 69.0.x
    (
        _NSPKG_HEAD,
        "has_mfs = sys.version_info > (3, 5)",
        _NSPKG_P,
        "importlib = has_mfs and __import__('importlib.util')",
        "has_mfs and __import__('importlib.machinery')",
        "m = has_mfs and " + _NSPKG_SPEC,
        "m = m or " + _NSPKG_MODULE,
        *_NSPKG_TAIL,
    ),
    # 31.0.0 to 34.2.x
    (
        _NSPKG_HEAD,
        "has_mfs = sys.version_info > (3, 5)",
        _NSPKG_P,
        "importlib = has_mfs and __import__('importlib.util')",
        "has_mfs and __import__('importlib.machinery')",
        "m = has_mfs and " + _NSPKG_SPEC,
        "m = m or not has_mfs and " + _NSPKG_MODULE,
        *_NSPKG_TAIL,
    ),
    # 28.3.0 to 30.x
    (
        _NSPKG_HEAD,
        "pep420 = sys.version_info > (3, 3)",
        _NSPKG_P,
        _NSPKG_IE,
        "m = not ie and not pep420 and " + _NSPKG_MODULE,
        *_NSPKG_TAIL,
    ),
    # 5.2 to 28.2.x
    (_NSPKG_HEAD, _NSPKG_P, _NSPKG_IE, "m = not ie and " + _NSPKG_MODULE, *_NSPKG_TAIL),
)
_NSPKG_CHILD = "m and setattr(sys.modules[%(parent)r], %(child)r, m)"
_SITEDIR_ROOT = "sys._getframe(1).f_locals['sitedir']"
_NSPKG_PARTS = re.compile(r";p = os\.path\.join\((?P<root>.+?), \*\((?P<pth>(?:'\w+',? ?)+)\)\);")
# A repr()'d str: setuptools' editable and develop installs name the project directory.
_STR_LITERAL = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")


def _is_nspkg_line(text: str, editable: bool) -> bool:
    """Tell whether ``text`` is a line setuptools generates to set up a namespace package."""
    found = _NSPKG_PARTS.search(text)
    if found is None:
        return False
    root = found["root"]
    if root != _SITEDIR_ROOT and not (editable and _STR_LITERAL.fullmatch(root)):
        return False
    parts = tuple(re.findall(r"'(\w+)'", found["pth"]))
    pkg = ".".join(parts)
    if not all(part.isidentifier() for part in parts):
        return False
    parent, _, child = pkg.rpartition(".")
    values = {"root": root, "pth": parts, "pkg": pkg, "parent": parent, "child": child}
    line = text.rstrip()
    for family in _NSPKG_FAMILIES:
        segments = (*family, _NSPKG_CHILD) if parent else family
        if ";".join(segments) % values == line:
            return True
    return False


def _only(lines: Sequence[StartupLine], roles: frozenset[str]) -> list[StartupLine]:
    """Return the lines whose role is one of ``roles``."""
    return [line for line in lines if line.role in roles]


_RUNS = frozenset({"import", "import-suppressed"})
# setuptools' safe_identifier(); scikit-build-core's module names, after and before 2026-06.
_NOT_IDENTIFIER = re.compile(r"\W|^(?=\d)")
_SKBC = re.compile(r"_editable_skbc_(?P<n>\w+)|_(?P<o>\w+)_editable")
_PATHS = frozenset({"path-inside", "path-outside"})


def _editable_import_reason(name: str, lines: Sequence[StartupLine], owner: str) -> str | None:
    """Name the build backend whose editable-install ``.pth`` this is, or None."""
    imports = [line.text.rstrip() for line in _only(lines, _RUNS)]
    if len(imports) != 1:
        return None
    stem, statement = name[: -len(".pth")], imports[0]
    snake = owner.replace("-", "_")
    setuptools = re.fullmatch(r"__editable__\.(?P<x>[^-]+)-.+", stem)
    if setuptools and canonical_name(setuptools["x"]) == owner and not _only(lines, _PATHS):
        # setuptools 64+: the finder module name derives from the .pth file's own name.
        finder = _NOT_IDENTIFIER.sub("_", f"{stem}.finder")
        if statement == f"import {finder}; {finder}.install()":
            return "editable install of a local project (setuptools' finder)"
    if statement == f"import _editable_impl_{snake}" and stem in (
        f"_editable_impl_{snake}",  # hatchling with editables 0.6+
        f"_{snake}",  # hatchling with editables 0.3 to 0.5
        snake,  # pdm-backend
    ):
        return "editable install of a local project (editables' redirector)"
    if stem == f"{owner}-editable" and statement == f"import _{snake}_editable_loader":
        return "editable install of a local project (meson-python's loader)"
    skbc = _SKBC.fullmatch(stem)
    if skbc and canonical_name(skbc["n"] or skbc["o"]) == owner and statement == f"import {stem}":
        return "editable install of a local project (scikit-build-core's redirect)"
    return None


def _editable_start_reason(name: str, lines: Sequence[StartupLine], owner: str) -> str | None:
    """Name the build backend whose editable-install ``.start`` file this is, or None."""
    stem = name[: -len(".start")]
    entries = [line.text.strip() for line in _only(lines, frozenset({"entry-point"}))]
    skbc = _SKBC.fullmatch(stem)
    if (
        skbc
        and canonical_name(skbc["n"] or skbc["o"]) == owner
        and entries == [f"{stem}:entrypoint"]
    ):
        return "editable install of a local project (scikit-build-core's redirect)"
    return None


def standard_reason(
    name: str,
    lines: Sequence[StartupLine],
    owner: str | None,
    context: StartupContext,
    *,
    editable: bool = False,
) -> str | None:
    """Say why a startup file is a standard hook, or return None when it is not one.

    Each hook is known by its owner (or, for virtualenv's, its maker) and its exact content or
    generated shape together, never by its name alone.
    """
    if "/" in name or "\\" in name:
        return None
    ran = _only(lines, _RUNS)
    paths = _only(lines, _PATHS)
    if name.endswith(".start"):
        return _editable_start_reason(name, lines, owner) if owner and editable else None
    if (
        name == "distutils-precedence.pth"
        and owner == "setuptools"
        and len(lines) == 1
        and len(ran) == 1
        and ran[0].text.rstrip() in _DISTUTILS_PRECEDENCE
    ):
        return "setuptools' distutils-precedence hook"
    if (
        name == "_virtualenv.pth"
        and owner is None
        and context.made_by_virtualenv
        and len(lines) == 1
        and len(ran) == 1
        and ran[0].text.rstrip() == "import _virtualenv"
    ):
        return "virtualenv's own hook"
    if owner is None:
        return None
    if (
        name.endswith("-nspkg.pth")
        and canonical_name(name.partition("-")[0]) == owner
        and ran
        and not paths
        and all(_is_nspkg_line(line.text, editable) for line in ran)
    ):
        return "setuptools' namespace-package lines"
    if not editable:
        return None
    if not ran:
        return "path lines of an editable install of a local project"
    return _editable_import_reason(name, lines, owner)
