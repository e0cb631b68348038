"""pipguard: know every file a pip install writes; stop two distributions clobbering one file."""

from __future__ import annotations

__version__ = "0.1.0"
