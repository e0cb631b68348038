"""Command line: ``pipguard check``, ``owner`` and ``install``; other pip commands pass through."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from pipguard import __version__
from pipguard.environment import Environment, EnvironmentError_, describe_paths, describe_python

if TYPE_CHECKING:
    # argparse is imported only where check and owner parse: install never pays for it.
    import argparse

    from rich.console import Console

    from pipguard.check import CheckResult
    from pipguard.checks.imports import Shadowed
    from pipguard.policy import Rules

__all__ = ["main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

OWN_COMMANDS = ("check", "owner", "install", "uninstall", "repair", "zipapp")
# pip's commands, to find the command word behind pip's global options (``--cache-dir X list``).
PIP_COMMANDS = frozenset(
    {
        "cache",
        "completion",
        "config",
        "debug",
        "download",
        "freeze",
        "hash",
        "help",
        "index",
        "inspect",
        "list",
        "lock",
        "search",
        "show",
        "wheel",
    }
)


class UsageError(Exception):
    """The command line or the environment it names cannot be used."""


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--python",
        metavar="EXE",
        help="audit the environment of this interpreter (default: the running one)",
    )
    target.add_argument(
        "--path",
        metavar="DIR",
        action="append",
        help="audit a plain directory, e.g. a pip --target one (repeatable)",
    )
    target.add_argument(
        "--project",
        action="store_true",
        help="audit the project's environment: ./.venv or ./venv, else $PIPGUARD_PYTHON "
        "(for pre-commit, whose hooks run in an environment of their own)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")


def _parser(prog: str) -> argparse.ArgumentParser:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    parser = _Parser(
        prog=prog,
        description="Find files that two installed distributions both write, and stop pip from "
        "clobbering them. Every other pip command passes through to pip unchanged.",
    )
    parser.add_argument("--version", action="version", version=f"pipguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check",
        help="audit an environment for clobbered files",
        description="Audit an environment: which files two or more "
        "installed distributions list, and whose copy is on disk.",
    )
    _add_target_options(check)
    check.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or one JSON document on stdout",
    )
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show identical (harmless) overlaps in the table",
    )
    check.add_argument(
        "--strict", action="store_true", help="fail on identical overlaps and case-only clashes too"
    )
    check.add_argument(
        "--allow-startup",
        metavar="NAME",
        action="append",
        help="let NAME's startup code (.pth import lines, sitecustomize) pass (repeatable; "
        "also PIPGUARD_ALLOW_STARTUP, space-separated)",
    )
    check.add_argument(
        "--verify",
        action="store_true",
        help="also hash every file against its RECORD (reads everything)",
    )

    owner = commands.add_parser(
        "owner",
        help="which distributions own a file or import name",
        description="Show which installed distributions own a file "
        "(absolute or site-packages-relative) or an import name.",
    )
    _add_target_options(owner)
    owner.add_argument("target", metavar="PATH_OR_MODULE")
    owner.add_argument("--format", choices=("table", "json"), default="table")

    commands.add_parser("install", help="pip install, guarded against clobbering", add_help=False)
    commands.add_parser(
        "uninstall", help="pip uninstall that keeps files others still list", add_help=False
    )
    commands.add_parser(
        "repair", help="reinstall a distribution's own files at its version", add_help=False
    )

    zipapp = commands.add_parser(
        "zipapp",
        help="pipguard and its dependencies (not pip) in one runnable .pyz file",
        description="Write one file (a zipapp) holding pipguard and its pure-Python "
        "dependencies as installed here, not pip: `python pipguard.pyz install ...` then "
        "guards any environment with that interpreter's pip and leaves nothing in it.",
    )
    zipapp.add_argument(
        "-o", "--output", metavar="FILE", default="pipguard.pyz", help="default: pipguard.pyz"
    )
    zipapp.add_argument(
        "--compile",
        action="store_true",
        help="add bytecode for this Python: it starts as fast as installed (other versions "
        "compile the sources at each start); about 2.7 x the size",
    )
    return parser


def _project_python(cwd: str) -> str:
    """Find the interpreter of the project in ``cwd``: its .venv or venv, or $PIPGUARD_PYTHON."""
    scripts, exe = ("Scripts", "python.exe") if os.name == "nt" else ("bin", "python")
    for folder in (".venv", "venv"):
        candidate = os.path.join(cwd, folder, scripts, exe)
        if os.path.exists(candidate):
            return candidate
    configured = os.environ.get("PIPGUARD_PYTHON")
    if configured:
        return configured
    raise UsageError(
        "--project: no .venv or venv here and no PIPGUARD_PYTHON; name the interpreter with "
        "--python EXE"
    )


def _environment(args: argparse.Namespace) -> Environment:
    if args.path:
        return describe_paths(args.path)
    if getattr(args, "project", False):
        return describe_python(_project_python(os.getcwd()))
    return describe_python(args.python)


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=False)


def _check_rules(args: argparse.Namespace, env: Environment) -> Rules:
    from pipguard.environment import canonical_name
    from pipguard.policy import Rules

    allow = [*os.environ.get("PIPGUARD_ALLOW_STARTUP", "").split(), *(args.allow_startup or [])]
    return Rules(
        allow_startup=frozenset(canonical_name(name) for name in allow),
        strict=args.strict,
        case_insensitive=env.case_insensitive,
    )


def _cmd_check(args: argparse.Namespace) -> int:
    from pipguard.check import run_check
    from pipguard.policy import fails_check
    from pipguard.render import check_summary, check_to_json

    env = _environment(args)
    if not env.scan_dirs:
        raise UsageError("no site-packages directory found to audit")
    rules = _check_rules(args, env)
    result = run_check(env, full_verify=args.verify)
    if args.format == "json":
        sys.stdout.write(json.dumps(check_to_json(result, rules), indent=2) + "\n")
    else:
        _print_check(result, rules, verbose=args.verbose)
    print(check_summary(result), file=sys.stderr)
    return EXIT_FINDINGS if fails_check(result.findings, rules) else EXIT_OK


def _print_check(result: CheckResult, rules: Rules, *, verbose: bool) -> None:
    """Print check's tables: clashes by top-level name, then one section per kind."""
    from pipguard.policy import allowed
    from pipguard.render import (
        clash_tables,
        dependency_table,
        file_state_table,
        problem_table,
        shadowed_table,
        startup_table,
        unlisted_table,
    )

    env = result.environment
    console = _console()
    # No interpreter (--path): pipguard uninstall and repair cannot reach the directory.
    directory = env.python is None
    for table in clash_tables(result.clashes, verbose=verbose, directory=directory):
        console.print(table)
    shadowed = [s for s in result.shadowed if verbose or not allowed(s, rules)]
    if shadowed:
        console.print(shadowed_table(shadowed))
    code = [s for s in result.startup if s.code and (verbose or not allowed(s, rules))]
    if code:
        console.print(startup_table(code))
    if result.modified:
        console.print(file_state_table("modified", result.modified))
    if result.missing:
        console.print(file_state_table("missing", result.missing))
    if result.unlisted:
        console.print(unlisted_table(result.unlisted))
    if result.dependencies:
        console.print(dependency_table(result.dependencies))
    if result.problems:
        console.print(problem_table(result.problems, env.scan_dirs))


def _cmd_owner(args: argparse.Namespace) -> int:
    from pipguard.check import scan
    from pipguard.disk import Disk
    from pipguard.owner import find_owners, import_answer

    env = _environment(args)
    _, index, _ = scan(env)
    looks_like_path = "/" in args.target or os.path.exists(args.target)
    answer = None if looks_like_path else import_answer(index, env, args.target, Disk(env.roots))
    if answer is not None:
        return _print_import_answer(args, *answer)
    matches = find_owners(index, env, args.target, os.getcwd())
    if args.format == "json":
        doc = [
            {"path": path, "owners": [{"name": n, "version": v} for n, v in owners]}
            for path, owners in matches
        ]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        from pipguard.render import one_line

        for path, owners in matches:
            names = ", ".join(f"{name} {version}" for name, version in owners) or "(no owner)"
            print(one_line(f"{path}: {names}"))
    if not matches:
        print(f"pipguard: no installed distribution owns {one_line(args.target)}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def _print_import_answer(
    args: argparse.Namespace,
    resolved: Shadowed,
    module: str | None,
    owners: list[tuple[str, str]],
) -> int:
    """Say which distribution ``import NAME`` gives, and which claims it never reaches."""
    from pipguard.render import one_line, shadowed_to_json

    if args.format == "json":
        doc = shadowed_to_json(resolved)
        doc.pop("kind")
        if module is not None:
            doc["module"] = {
                "path": module,
                "owners": [{"name": n, "version": v} for n, v in owners],
            }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return EXIT_OK
    given = [o for o in resolved.owners if o.imported and o.path == resolved.path]
    if resolved.stdlib:
        said = "the standard library's"
    elif len(given) > 1:
        # Several list the file imported: a clash, whose copy is on disk is check's to say.
        names = " and ".join(sorted(f"{o.name} {o.version}" for o in given))
        said = f"{resolved.path}, which {names} all list (pipguard check: whose copy is on disk)"
    elif given:
        said = f"{given[0].name} {given[0].version} ({given[0].path})"
    else:
        said = resolved.winner
    print(one_line(f"import {resolved.import_name} gives {said}"))
    if module is not None:
        names = ", ".join(f"{n} {v}" for n, v in owners)
        print(one_line(f"import {args.target} loads {module}: {names}"))
    for owner in resolved.owners:
        if not owner.imported:
            print(one_line(f"  {owner.name} {owner.version} ({owner.path}): never imported"))
    return EXIT_OK


def _cmd_zipapp(args: argparse.Namespace) -> int:
    from pipguard.zipapp import BuildError, build, describe_build

    try:
        built = build(args.output, bytecode=args.compile)
    except BuildError as exc:
        raise UsageError(str(exc)) from None
    for line in describe_build(built):
        print(line, file=sys.stderr)
    return EXIT_OK


@contextmanager
def _errors(debug: bool) -> Iterator[list[int]]:
    """Map every error to one readable line and an exit code; tracebacks only with --debug."""
    code = [EXIT_OK]
    try:
        yield code
    except (UsageError, EnvironmentError_) as exc:
        print(f"pipguard: error: {exc}", file=sys.stderr)
        code[0] = EXIT_USAGE
    except KeyboardInterrupt:
        print("pipguard: interrupted", file=sys.stderr)
        code[0] = 130
    except BrokenPipeError:
        # The reader went away (| head): nothing more to say, and no traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code[0] = EXIT_FINDINGS
    except Exception as exc:
        if debug:
            raise
        print(
            f"pipguard: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        code[0] = EXIT_USAGE


def main(argv: Sequence[str] | None = None, prog: str = "pipguard") -> int:
    """Run pipguard with ``argv`` (default: the process arguments) and return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # A path a terminal cannot show (PYTHONIOENCODING=ascii, a C locale) is escaped, not fatal.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    first = next((arg for arg in args_list if arg in OWN_COMMANDS or arg in PIP_COMMANDS), None)
    if first in PIP_COMMANDS:
        from pipguard.install import pipbridge

        return pipbridge.run_pip(args_list)
    if first in ("install", "uninstall", "repair"):
        if first == "install":
            from pipguard.install.command import install_main as run
        else:
            from pipguard.install.remove import repair_main, uninstall_main

            run = uninstall_main if first == "uninstall" else repair_main
        with _errors("--debug" in args_list) as code:
            code[0] = run([a for a in args_list if a != "--debug"], prog=prog)
        return code[0]
    parser = _parser(prog)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = {"check": _cmd_check, "owner": _cmd_owner, "zipapp": _cmd_zipapp}[args.command]
    with _errors(getattr(args, "debug", False)) as code:
        code[0] = handler(args)
    return code[0]
