"""Describe the running interpreter's install locations as JSON.

Kept free of pipguard imports: ``--python`` runs this file under another interpreter, which may
not have pipguard installed.
"""

from __future__ import annotations

import importlib
import json
import os
import site
import sys
import sysconfig
from typing import Any


def facts() -> dict[str, Any]:
    """Return the install directories and prefixes of this interpreter."""
    paths = sysconfig.get_paths()
    user_enabled = bool(site.ENABLE_USER_SITE)
    return {
        "python": sys.executable,
        "version": ".".join(map(str, sys.version_info[:3])),
        "prefix": sys.prefix,
        "exec_prefix": sys.exec_prefix,
        "in_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "paths": {
            key: paths.get(key) for key in ("purelib", "platlib", "scripts", "data", "include")
        },
        "user_site": site.getusersitepackages() if user_enabled else None,
        "user_base": site.getuserbase() if user_enabled else None,
        "case_insensitive": os.path.normcase("A") == "a" or sys.platform == "darwin",
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
