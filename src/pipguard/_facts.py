"""Describe the running interpreter's install locations as JSON.

Kept free of pipguard imports: ``--python`` runs this file under another interpreter, which may
not have pipguard installed.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    json.dump(facts(), sys.stdout)
