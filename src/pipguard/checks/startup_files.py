"""Startup files: what a site directory makes every interpreter start run, or put on sys.path.

Pure: a file's bytes and a few facts in, its classification out. The line rules are CPython's
``site.py`` (``addpackage`` in 3.9 to 3.14, ``StartupState`` of PEP 829 in 3.15), read for the
target's version. Where the answer depends on what pipguard cannot know (the locale encoding
a non-UTF-8 ``.pth`` falls back to, a hidden-file flag), it errs towards "code".
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from pipguard.checks.startup_hooks import standard_reason

__all__ = [
    "LineRole",
    "StartupContext",
    "StartupFile",
    "StartupForm",
    "StartupKind",
    "StartupLine",
    "classify_startup_file",
    "display_line",
    "is_startup_path",
    "matching_start",
    "standard_reason",
    "startup_form",
]

StartupKind = Literal["code", "paths", "standard"]
StartupForm = Literal["pth", "start", "module"]
LineRole = Literal[
    "comment",
    "blank",
    "import",  # run by exec() at start-up
    "import-suppressed",  # an import line a matching .start turns off (Python 3.15+)
    "path-inside",
    "path-outside",  # a sys.path entry outside the environment: treated as code
    "entry-point",  # a .start line, pkg.mod:callable, called at start-up
]
CODE_ROLES = frozenset({"import", "path-outside", "entry-point"})


class StartupLine(NamedTuple):
    """One line of a ``.pth`` or ``.start`` file, as site.py splits and reads it."""

    number: int  # 1-based, as site.py counts
    role: LineRole
    text: str  # decoded, without its line break; escape it with display_line() to show it
    target: str | None = None  # a path line's absolute, normalised directory


class StartupContext(NamedTuple):
    """What classification needs to know of the target environment."""

    python_version: tuple[int, int]  # the target interpreter's, not pipguard's
    roots: tuple[str, ...]  # absolute directories of the environment; paths inside stay inside
    made_by_virtualenv: bool = False  # its pyvenv.cfg names virtualenv (uv writes the same hook)


class StartupFile(NamedTuple):
    """One startup file of a site directory and what it does at every interpreter start."""

    site_dir: str
    name: str  # relative to site_dir: 'x.pth', 'sitecustomize.py', 'sitecustomize/__init__.py'
    form: StartupForm
    kind: StartupKind
    owner: str | None  # canonical name of the distribution whose RECORD lists it
    lines: tuple[StartupLine, ...]  # empty for modules
    utf8: bool = True  # False: not UTF-8, read as site.py's locale fallback would (latin-1 here)
    reason: str | None = None  # why it is standard (kind 'standard' only)

    @property
    def path(self) -> str:
        """The file's absolute path."""
        return f"{self.site_dir.rstrip('/')}/{self.name}"


# --- which files ---------------------------------------------------------------------------

_CUSTOMIZE = ("sitecustomize.", "usercustomize.")
# Source, sourceless byte-code and extension modules (".cpython-311-x86_64-linux-gnu.so" too).
_MODULE_SUFFIXES = (".py", ".pyw", ".pyc", ".so", ".pyd")
_PACKAGES = ("sitecustomize", "usercustomize")


def startup_form(relative_path: str) -> StartupForm | None:
    """Return what kind of startup file ``relative_path`` (relative to a site directory) is.

    Names are compared without case: a case-insensitive file system finds ``SiteCustomize.py``
    and keeps an existing ``x.pth`` under a RECORD's ``x.PTH``. Names starting with '.' count
    too, though Python 3.13+ skips them: the hidden rule came in patch releases.
    """
    path = relative_path.replace("\\", "/") if "\\" in relative_path else relative_path
    head, sep, rest = path.partition("/")
    low = head.lower()
    if not sep:
        if low.endswith(".pth"):
            return "pth"
        if low.endswith(".start"):
            return "start"
        if low.startswith(_CUSTOMIZE) and low.endswith(_MODULE_SUFFIXES):
            return "module"
        return None
    rest = rest.lower()
    if low in _PACKAGES:
        # The package form, and its byte-code, which runs instead of its source.
        init = rest[len("__pycache__/") :] if rest.startswith("__pycache__/") else rest
        if init.startswith("__init__.") and "/" not in init and init.endswith(_MODULE_SUFFIXES):
            return "module"
    elif low == "__pycache__" and "/" not in rest and rest.startswith(_CUSTOMIZE):
        return "module" if rest.endswith(".pyc") else None
    return None


def is_startup_path(relative_path: str) -> bool:
    """Tell whether a path relative to a site directory is a startup file (cheap, for every row).

    The planner passes the path as it lands in the site directory (a wheel's ``.data/purelib/``
    and ``.data/platlib/`` members included); deeper paths are never startup files.
    """
    slash = relative_path.find("/")
    # Below the top, only __pycache__ (11 letters) and the customize packages (13) matter.
    if slash not in (-1, 11, 13):
        return False
    return startup_form(relative_path) is not None


def matching_start(pth_name: str) -> str:
    """Return the name of the ``.start`` file that turns off a ``.pth`` file's import lines."""
    return pth_name[: -len(".pth")] + ".start"


# --- how site.py reads them -----------------------------------------------------------------

_UNIVERSAL_NEWLINE = re.compile(r"\r\n|\r|\n")


def _decode(data: bytes, form: StartupForm, version: tuple[int, int]) -> tuple[str, bool]:
    """Return the text site.py reads, and whether it was UTF-8.

    3.13+ (and every .start) try UTF-8 with an optional BOM; before, the locale encoding
    keeps a BOM. Bytes that are not UTF-8 go to the locale encoding, unknown here: latin-1
    stands for it, as every byte decodes and line breaks fall where any ASCII superset has them.
    """
    try:
        return data.decode("utf-8-sig" if version >= (3, 13) or form == "start" else "utf-8"), True
    except UnicodeDecodeError:
        return data.decode("latin-1"), False


def _split(text: str, version: tuple[int, int]) -> list[str]:
    """Split ``text`` into lines as site.py does: str.splitlines from 3.13, else at \\n, \\r."""
    if version >= (3, 13):
        return text.splitlines()
    lines = _UNIVERSAL_NEWLINE.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def _windows(site_dir: str) -> bool:
    """Tell whether ``site_dir`` is a Windows path (a drive or UNC path): ntpath rules apply."""
    return site_dir[1:2] == ":" or site_dir.startswith("\\\\")


def _resolve(site_dir: str, entry: str) -> tuple[str, str]:
    """Return (the directory site.py adds for ``entry``, its case-normalised form).

    site.py's ``makepath``: join, then ``abspath``, which on an absolute join only normalises.
    """
    if _windows(site_dir):
        target = ntpath.normpath(ntpath.join(site_dir, entry))
        return target, ntpath.normcase(target)
    target = posixpath.normpath(posixpath.join(site_dir, entry))
    return target, target


def _inside(site_dir: str, folded: str, roots: Sequence[str]) -> bool:
    """Tell whether a case-normalised target lies inside one of ``roots`` (or is one)."""
    windows = _windows(site_dir)
    sep = "\\" if windows else "/"
    for root in roots:
        base = ntpath.normcase(ntpath.normpath(root)) if windows else posixpath.normpath(root)
        base = base.rstrip(sep)
        if folded == base or folded.startswith(base + sep):
            return True
    return False


def _pth_lines(
    site_dir: str, lines: list[str], context: StartupContext, suppressed: bool
) -> tuple[StartupLine, ...]:
    """Give each line of a ``.pth`` file its role, as the target's site.py would read it."""
    pep829 = context.python_version >= (3, 15)
    out = []
    for number, raw in enumerate(lines, 1):
        # 3.15 strips both ends first; before, only the path is stripped, on the right.
        line = raw.strip() if pep829 else raw
        if line.startswith("#"):
            out.append(StartupLine(number, "comment", raw))
        elif not line.strip():
            # 3.9 reads a blank line as the site directory itself, which is already there.
            out.append(StartupLine(number, "blank", raw))
        elif line.startswith(("import ", "import\t")):
            out.append(StartupLine(number, "import-suppressed" if suppressed else "import", raw))
        else:
            target, folded = _resolve(site_dir, line.rstrip())
            inside = _inside(site_dir, folded, context.roots)
            role: LineRole = "path-inside" if inside else "path-outside"
            out.append(StartupLine(number, role, raw, target))
    return tuple(out)


def _start_lines(lines: list[str]) -> tuple[StartupLine, ...]:
    """Give each line of a ``.start`` file its role: every line that is not blank or a comment
    is an entry point (a malformed one is only skipped at start-up, so it is shown as one)."""
    out = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        role: LineRole = "blank" if not line else "comment" if line[0] == "#" else "entry-point"
        out.append(StartupLine(number, role, raw))
    return tuple(out)


def _suppresses(start: bytes | None, version: tuple[int, int]) -> bool:
    """Tell whether a matching ``.start`` file turns a ``.pth`` file's import lines off.

    Only Python 3.15+ reads ``.start`` files; one it cannot decode as UTF-8 it skips whole.
    """
    if start is None or version < (3, 15):
        return False
    try:
        start.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def classify_startup_file(
    site_dir: str,
    name: str,
    data: bytes,
    owner: str | None,
    context: StartupContext,
    *,
    editable: bool = False,
    start_sibling: bytes | None = None,
) -> StartupFile:
    """Classify one startup file from its bytes: code, paths only, or a standard hook.

    ``name`` is relative to the absolute ``site_dir``; ``owner`` the canonical name of the
    distribution whose RECORD lists it (None: none does); ``editable`` whether that owner is an
    editable install of a local project (direct_url.json ``dir_info.editable``);
    ``start_sibling`` the bytes of the ``.start`` file :func:`matching_start` names, if one is
    in the same directory. Raises ValueError for a name that is no startup file.
    """
    form = startup_form(name)
    if form is None:
        raise ValueError(f"{name}: not a startup file")
    if form == "module":
        return StartupFile(site_dir, name, form, "code", owner, ())
    version = context.python_version
    text, utf8 = _decode(data, form, version)
    raw_lines = _split(text, version)
    if form == "pth":
        suppressed = _suppresses(start_sibling, version)
        lines = _pth_lines(site_dir, raw_lines, context, suppressed)
    else:
        lines = _start_lines(raw_lines)
    if not any(line.role in CODE_ROLES for line in lines):
        return StartupFile(site_dir, name, form, "paths", owner, lines, utf8)
    reason = standard_reason(name, lines, owner, context, editable=editable)
    kind: StartupKind = "code" if reason is None else "standard"
    return StartupFile(site_dir, name, form, kind, owner, lines, utf8, reason)


# --- display ---------------------------------------------------------------------------------


def display_line(text: str, limit: int = 120) -> str:
    """Return a line as a table may show it: invisible characters escaped, long lines cut.

    Control, format (bidirectional overrides among them) and separator characters are written
    as Python escapes, so a line cannot hide what follows it or rewrite the terminal.
    """
    more = len(text) - limit
    if more > 0:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return f"{text}… ({more:,} more characters)" if more > 0 else text
