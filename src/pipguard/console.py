"""Where tables are drawn: a rich console of one width whose lines end without spaces.

rich pads every line of a table to its width and, with no width given, takes the first
terminal among stdin, stdout and stderr: piped into a Docker log, tables came out 70, 78 or
80 columns wide with trailing spaces on every line. Here the width is decided once, from the
stream drawn on, and the padding is cut off as the text is written.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["WIDTH", "TrimmedStream", "console_for", "trim_line", "width_for"]

WIDTH = 80  # when the stream is not a terminal: a build log, a file, a pipe

# The end of a line: spaces, and the colour codes rich interleaves with them.
_LINE_END = re.compile(r"(?:[ ]|\x1b\[[0-9;]*m)+$")
_CODE = re.compile(r"\x1b\[[0-9;]*m")


def width_for(stream: object, environ: Mapping[str, str] | None = None) -> int:
    """Return the width to draw at on ``stream``: $COLUMNS, else its terminal's, else 80."""
    columns = (os.environ if environ is None else environ).get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():  # type: ignore[attr-defined]
            return os.get_terminal_size(stream.fileno()).columns or WIDTH  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        pass  # not a terminal after all, or no file descriptor (a StringIO)
    return WIDTH


def trim_line(line: str) -> str:
    """Return ``line`` without trailing spaces, keeping any colour codes among them."""
    end = _LINE_END.search(line)
    if end is None:
        return line
    return line[: end.start()] + "".join(_CODE.findall(end.group()))


class TrimmedStream:
    """A text stream that writes each line to ``stream`` without its trailing spaces.

    Complete lines go through at once; a partial line waits for its end or a flush.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        """Write ``text``, trimming every line it completes; return its length."""
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        if lines:
            self.stream.write("\n".join(trim_line(line) for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        """Write the partial line as it stands, and flush the stream."""
        if self._pending:
            self.stream.write(self._pending)
            self._pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        """Tell whether the stream is a terminal (rich decides colours by it)."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def fileno(self) -> int:
        """Return the stream's file descriptor."""
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        """The stream's encoding (rich picks its box characters by it)."""
        return getattr(self.stream, "encoding", None) or "utf-8"


def console_for(stream: IO[str] | None = None) -> Console:
    """Return a rich console drawing on ``stream`` (default stdout) at :func:`width_for`'s width.

    Lines end without spaces; NO_COLOR and FORCE_COLOR are honoured (rich reads them).
    """
    from rich.console import Console

    target = sys.stdout if stream is None else stream
    return Console(
        file=cast("IO[str]", TrimmedStream(target)),
        width=width_for(target),
        highlight=False,
        soft_wrap=False,
    )
