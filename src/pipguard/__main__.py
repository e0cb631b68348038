"""Entry point: ``python -m pipguard`` and the ``pipguard`` console script."""

from __future__ import annotations

import sys

from pipguard.cli import main


def entry() -> None:
    """Run the command line and exit with its code."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main(prog="python -m pipguard"))
