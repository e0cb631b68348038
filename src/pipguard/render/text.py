"""Text as pipguard shows it: names and paths from RECORDs escaped, counts worded."""

from __future__ import annotations

__all__ = ["count", "json_text", "one_line", "shown_path", "visible"]


_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160)) if c != 10}


def visible(text: str) -> str:
    """Return ``text`` with control characters (newline excepted) written as ``\\xNN``."""
    return text.translate(_CONTROLS)


def one_line(text: str) -> str:
    """Return ``text`` with every control character, newline included, written as ``\\xNN``.

    For names and paths printed in a message or a table cell: a newline from a RECORD or a
    directory name must not start a line that looks like pipguard's own.
    """
    return visible(text).replace("\n", "\\x0a")


def shown_path(display: str) -> str:
    """Return a RECORD-form path as a table shows it: ``../../../bin/tool`` as ``bin/tool``.

    Rows that climb out of site-packages land in the environment's other directories; read
    from the directory they climb to, they stay short and recognisable at 80 columns.
    """
    while display.startswith("../"):
        display = display[3:]
    return display


def json_text(text: str) -> str:
    """Return a file name as valid Unicode: bytes that were not UTF-8 become ``\\xNN``.

    Python keeps such bytes as lone surrogates, which strict JSON parsers reject.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {plural or word + 's'}"
