"""The pip-facing wing: the guarded install step, uninstall and repair (pipbridge imports pip)."""
