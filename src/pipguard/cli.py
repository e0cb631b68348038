"""Command line: ``pipguard check``, ``owner`` and ``install``; other pip commands pass through."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, NoReturn

from pipguard.environment import Environment, EnvironmentError_, describe_paths, describe_python
from pipguard.render import one_line
from pipguard.usage import (
    HELP_FLAGS,
    OWN_SUMMARIES,
    WRAPPED,
    command_word,
    say_pip,
    unknown_command,
    version_line,
    wrapped_help,
)

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


def _add_check_options(check: argparse.ArgumentParser) -> None:
    """Add check's own options: where to look, how to say it, how strict to be."""
    _add_target_options(check)
    check.add_argument(
        "--format",
        choices=("table", "json", "github"),
        default="table",
        help="table (default), one JSON document on stdout, or github: one GitHub Actions "
        "workflow command (::error, ::warning) per finding",
    )
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every file: identical (harmless) overlaps too, and groups of more than ten "
        "clashes in full",
    )
    check.add_argument(
        "--strict", action="store_true", help="fail on identical overlaps and case-only clashes too"
    )
    check.add_argument(
        "--config",
        metavar="FILE",
        help="read [tool.pipguard] from FILE (default: ./pyproject.toml)",
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
    parser.add_argument("-V", "--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check",
        help=OWN_SUMMARIES["check"],
        description="Audit an environment: which files two or more "
        "installed distributions list, and whose copy is on disk.",
    )
    _add_check_options(check)

    owner = commands.add_parser(
        "owner",
        help=OWN_SUMMARIES["owner"],
        description="Show which installed distributions own a file "
        "(absolute or site-packages-relative) or an import name.",
    )
    _add_target_options(owner)
    owner.add_argument("target", metavar="PATH_OR_MODULE")
    owner.add_argument("--format", choices=("table", "json"), default="table")

    for name in ("install", "uninstall", "repair"):
        commands.add_parser(name, help=OWN_SUMMARIES[name], add_help=False)

    zipapp = commands.add_parser(
        "zipapp",
        help=OWN_SUMMARIES["zipapp"],
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
    from pipguard.console import console_for

    return console_for(sys.stderr if stderr else sys.stdout)


def _check_rules(args: argparse.Namespace, env: Environment) -> Rules:
    """The rules of this check: [tool.pipguard], then environment variables, then flags."""
    from pipguard.config import ConfigError, load_config
    from pipguard.environment import canonical_name
    from pipguard.policy import Rules

    try:
        config = load_config(args.config, os.getcwd())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    allow = [*os.environ.get("PIPGUARD_ALLOW_STARTUP", "").split(), *(args.allow_startup or [])]
    winners = os.environ.get("PIPGUARD_WINNER", "").split()
    return Rules(
        winners=config.winners | {canonical_name(name) for name in winners},
        allow_startup=config.allow_startup | {canonical_name(name) for name in allow},
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
    result = run_check(env, full_verify=args.verify, winners=rules.winners)
    if args.format == "json":
        sys.stdout.write(json.dumps(check_to_json(result, rules), indent=2) + "\n")
    elif args.format == "github":
        from pipguard.github import check_annotations

        annotations = check_annotations(result, rules, verbose=args.verbose, is_file=os.path.isfile)
        sys.stdout.writelines(line + "\n" for line in annotations)
    else:
        _print_check(result, rules, verbose=args.verbose)
    sys.stdout.flush()  # the summary comes after the report, in a log that merges both
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
    from pipguard.owner import find_owners, import_answer, label, managers, owner_entries
    from pipguard.render import one_line

    env = _environment(args)
    _, index, _ = scan(env)
    managed = managers(index)  # apt's distributions: named with their dpkg package
    looks_like_path = "/" in args.target or os.path.exists(args.target)
    answer = None if looks_like_path else import_answer(index, env, args.target, Disk(env.roots))
    if answer is not None:
        code = _print_import_answer(args, *answer)
        if args.format != "json":
            given = dict.fromkeys((o.name, o.version) for o in answer[0].owners if o.imported)
            for name, version in given:
                if (name, version) in managed:
                    print(one_line(f"  {label(name, version, managed)}: the system's package"))
        return code
    matches = find_owners(index, env, args.target, os.getcwd())
    if args.format == "json":
        doc = [{"path": path, "owners": owner_entries(owners, managed)} for path, owners in matches]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        for path, owners in matches:
            names = ", ".join(label(name, version, managed) for name, version in owners)
            print(one_line(f"{path}: {names or '(no owner)'}"))
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
    from pipguard.render import shadowed_to_json

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


def _help(args: Sequence[str], prog: str) -> int:
    """Run ``pipguard help [COMMAND]``: pipguard's help, or one command's (pipguard's or pip's)."""
    from pipguard.usage import general_help, pip_commands

    topic = next((arg for arg in args[args.index("help") + 1 :] if arg[:1] != "-"), None)
    if topic is None or topic == "help":
        sys.stdout.write(general_help(prog))
        return EXIT_OK
    if topic in WRAPPED:
        return wrapped_help(topic)
    if topic in OWN_COMMANDS:
        with suppress(SystemExit):  # argparse's help exits
            _parser(prog).parse_args([topic, "--help"])
        return EXIT_OK
    if topic in PIP_COMMANDS or topic in {name for name, _ in pip_commands()}:
        return say_pip(["help", topic])
    return unknown_command(topic, prog)


def _about(first: str | None, args: list[str], prog: str) -> int | None:
    """Answer what asks about pipguard itself (help, a mistyped command); None for the rest."""
    if first == "help":
        return _help(args, prog)
    if first in WRAPPED and any(arg in HELP_FLAGS for arg in args):
        return wrapped_help(first)
    if first is None and (not args or args[0] in HELP_FLAGS):
        from pipguard.usage import general_help

        sys.stdout.write(general_help(prog))
        return EXIT_OK if args else EXIT_USAGE
    word = command_word(args) if first is None else None
    return None if word is None else unknown_command(word, prog)


def _run_wrapped(first: str, args_list: list[str], prog: str) -> int:
    """Run install, uninstall or repair."""
    if first == "install":
        from pipguard.install.command import install_main as run
    else:
        from pipguard.install.remove import repair_main, uninstall_main

        run = uninstall_main if first == "uninstall" else repair_main
    with _errors("--debug" in args_list) as code:
        code[0] = run([a for a in args_list if a != "--debug"], prog=prog)
    return code[0]


def main(argv: Sequence[str] | None = None, prog: str = "pipguard") -> int:
    """Run pipguard with ``argv`` (default: the process arguments) and return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # A path a terminal cannot show (PYTHONIOENCODING=ascii, a C locale) is escaped, not fatal.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    if args_list[:1] in (["-V"], ["--version"]):
        print(version_line())
        return EXIT_OK
    first = next((arg for arg in args_list if arg in OWN_COMMANDS or arg in PIP_COMMANDS), None)
    about = None
    with _errors("--debug" in args_list) as code:
        about = _about(first, args_list, prog)
        if about is not None:
            code[0] = about
    if about is not None or code[0] != EXIT_OK:
        return code[0]
    if first in PIP_COMMANDS:
        from pipguard.install import pipbridge

        return pipbridge.run_pip(args_list)
    if first in WRAPPED:
        return _run_wrapped(first, args_list, prog)
    parser = _parser(prog)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = {"check": _cmd_check, "owner": _cmd_owner, "zipapp": _cmd_zipapp}[args.command]
    with _errors(getattr(args, "debug", False)) as code:
        code[0] = handler(args)
    return code[0]
