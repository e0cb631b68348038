"""Entry point: ``python -m pipguard`` and the ``pipguard`` console script."""

from __future__ import annotations

import sys

from pipguard.cli import main


def entry() -> None:
    """Run the command line and exit with its code."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the command's own handler is in place
        sys.exit(130)


if __name__ == "__main__":
    try:
        sys.exit(main(prog="python -m pipguard"))
    except KeyboardInterrupt:
        sys.exit(130)
