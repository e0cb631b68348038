"""Namespace declarations: an ``__init__.py`` whose code does nothing but declare its package.

Several distributions of a pkgutil or pkg_resources namespace (``backports``, ``zope``,
``google``, ``sphinxcontrib``) each ship ``<ns>/__init__.py``; every owner needs the file and
any owner's copy does the same, whatever its comments. Whether a file is such a declaration is
decided on its syntax tree, never on its bytes.

Accepted, in any order and number, after an optional module docstring (comments and blank
lines are not in the tree):

- ``import pkgutil`` / ``import pkg_resources`` (also ``as`` another name, several in one);
- ``from pkgutil import extend_path`` / ``from pkg_resources import declare_namespace``
  (also ``as`` another name);
- ``__path__ = <extend_path>(__path__, __name__)``, where ``<extend_path>`` is the name
  imported above, ``<pkgutil>.extend_path`` or ``__import__('pkgutil').extend_path``;
- ``<declare_namespace>(__name__)`` as a statement, spelt the same three ways;
- ``try:`` of these, with ``except`` clauses (bare, or naming built-in exception classes
  such as ``ImportError``) whose bodies are these or ``pass``; no ``else`` or ``finally``.

``__name__`` may be a string literal naming the package (zope's ``declare_namespace('zope')``);
when ``package`` is given the literal must equal it. At least one declaration call must be
present: an empty file, or one of comments or a docstring only, is a plain package, not a
declaration. Anything else (another import, an assignment such as ``__version__``, an ``if``,
an annotation, a ``del``) makes the file a module with code of its own.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["MAX_DECLARATION_BYTES", "Declaration", "is_namespace_declaration", "read_declaration"]

# A declaration with a long licence header is a few kilobytes: larger files are not parsed.
MAX_DECLARATION_BYTES = 256 * 1024

_MODULES = frozenset({"pkgutil", "pkg_resources"})
_FUNCTIONS = {("pkgutil", "extend_path"), ("pkg_resources", "declare_namespace")}
# Exception classes a fallback may catch: the handler's type changes nothing when the
# declaration succeeds, and its body is held to the same rules.
_HANDLED = frozenset(
    {"ImportError", "ModuleNotFoundError", "AttributeError", "Exception", "BaseException"}
)
_RESERVED = frozenset({"__path__", "__name__", "__import__"})

# name -> what it is bound to: a module ("pkgutil") or a function ("pkgutil.extend_path").
_Bindings = Mapping[str, str]


class Declaration(NamedTuple):
    """What a namespace declaration needs to work."""

    # Without pkg_resources (setuptools 84.2 ships none) the file raises ImportError or
    # declares nothing: copies of a namespace that differ in this do not behave alike.
    needs_pkg_resources: bool


def is_namespace_declaration(source: bytes, package: str | None = None) -> bool:
    """Tell whether ``source`` (an ``__init__.py``) does nothing but declare a namespace package.

    ``package`` is the package's dotted name, checked against a literal name in the call when
    given. Source that is not UTF-8 or does not parse is never a declaration.
    """
    return read_declaration(source, package) is not None


def read_declaration(source: bytes, package: str | None = None) -> Declaration | None:
    """Return what the namespace declaration ``source`` needs, or None if it is not one."""
    if len(source) > MAX_DECLARATION_BYTES:
        return None
    try:
        source.decode("utf-8")
        # Bytes, so that a BOM and a coding line are read as the interpreter reads them.
        tree = ast.parse(source)
    except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = tree.body
    if body and _is_docstring(body[0]):
        body = body[1:]
    outcome = _block(body, {}, package)
    if outcome is None or not outcome[1]:
        return None
    raised, declared = _without_pkg_resources(body)
    return Declaration(needs_pkg_resources=raised or not declared)


def _without_pkg_resources(body: list[ast.stmt]) -> tuple[bool, bool]:
    """Return (raises ImportError, declares) for a run of the declaration without pkg_resources."""
    declared = False
    for node in body:
        if isinstance(node, ast.Try):
            raised, done = _without_pkg_resources(node.body)
            declared = declared or done
            if raised:
                handler = next(filter(_catches_import_error, node.handlers), None)
                if handler is None:
                    return True, declared
                raised, done = _without_pkg_resources(handler.body)
                declared = declared or done
                if raised:
                    return True, declared
        elif _uses_pkg_resources(node):
            return True, declared
        elif isinstance(node, ast.Assign):
            declared = True
    return False, declared


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        kind is None or (isinstance(kind, ast.Name) and kind.id != "AttributeError")
        for kind in kinds
    )


def _uses_pkg_resources(node: ast.stmt) -> bool:
    """Tell whether a validated statement imports pkg_resources or calls declare_namespace."""
    if isinstance(node, ast.Import):
        return any(alias.name == "pkg_resources" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.module == "pkg_resources"
    # Every declare_namespace statement goes through pkg_resources; extend_path never does.
    return isinstance(node, ast.Expr)


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _block(
    body: list[ast.stmt], bound: _Bindings, package: str | None
) -> tuple[dict[str, str], bool] | None:
    """Return (bindings after ``body``, whether it declares), or None if anything else is in it."""
    names = dict(bound)
    declares = False
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            added = _imported(node)
            if added is None:
                return None
            names.update(added)
        elif isinstance(node, ast.Assign):
            if not _is_extend_path(node, names, package):
                return None
            declares = True
        elif isinstance(node, ast.Expr):
            if not _is_call_of(node.value, "pkg_resources.declare_namespace", names, package):
                return None
            declares = True
        elif isinstance(node, ast.Try):
            outcome = _try(node, names, package)
            if outcome is None:
                return None
            names, declared = outcome
            declares = declares or declared
        else:
            return None
    return names, declares


def _try(
    node: ast.Try, bound: dict[str, str], package: str | None
) -> tuple[dict[str, str], bool] | None:
    """Judge ``try: <declaration> except ...: <declaration or pass>``."""
    if node.orelse or node.finalbody:
        return None
    attempt = _block(node.body, bound, package)
    if attempt is None:
        return None
    # A name is bound after the try only if every way through binds it.
    after = attempt[0]
    for handler in node.handlers:
        if not _handles_only_builtins(handler.type):
            return None
        statements = [s for s in handler.body if not isinstance(s, ast.Pass)]
        # The handler starts from the names bound before the try: the body may have failed early.
        fallback = _block(statements, bound, package)
        if fallback is None:
            return None
        after = {k: v for k, v in after.items() if fallback[0].get(k) == v}
    return after, attempt[1]


def _handles_only_builtins(kind: ast.expr | None) -> bool:
    if kind is None:
        return True
    if isinstance(kind, ast.Tuple):
        return bool(kind.elts) and all(map(_handles_only_builtins, kind.elts))
    return isinstance(kind, ast.Name) and kind.id in _HANDLED


def _imported(node: ast.Import | ast.ImportFrom) -> dict[str, str] | None:
    """Return the names an import of pkgutil or pkg_resources binds; None for other imports."""
    added: dict[str, str] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in _MODULES:
                return None
            added[alias.asname or alias.name] = alias.name
    else:
        if node.level or node.module not in _MODULES:
            return None
        for alias in node.names:
            if (node.module, alias.name) not in _FUNCTIONS:
                return None
            added[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return None if _RESERVED.intersection(added) else added


def _is_extend_path(node: ast.Assign, names: _Bindings, package: str | None) -> bool:
    """Tell whether ``node`` is ``__path__ = <extend_path>(__path__, __name__)``."""
    target = node.targets[0] if len(node.targets) == 1 else None
    if not (isinstance(target, ast.Name) and target.id == "__path__"):
        return False
    return _is_call_of(node.value, "pkgutil.extend_path", names, package, leading="__path__")


def _is_call_of(
    value: ast.expr,
    function: str,
    names: _Bindings,
    package: str | None,
    leading: str | None = None,
) -> bool:
    """Tell whether ``value`` calls ``function`` with (``leading``,) the package's name."""
    if not isinstance(value, ast.Call) or value.keywords:
        return False
    args = value.args
    if leading is not None:
        if not (args and isinstance(args[0], ast.Name) and args[0].id == leading):
            return False
        args = args[1:]
    if len(args) != 1 or not _names_package(args[0], package):
        return False
    return _refers_to(value.func, function, names)


def _names_package(arg: ast.expr, package: str | None) -> bool:
    if isinstance(arg, ast.Name):
        return arg.id == "__name__"
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        dotted = arg.value.split(".")
        return all(part.isidentifier() for part in dotted) and package in (None, arg.value)
    return False


def _refers_to(func: ast.expr, function: str, names: _Bindings) -> bool:
    """Tell whether ``func`` is ``function`` (``module.name``): a bound name or an attribute."""
    module, _, attribute = function.partition(".")
    if isinstance(func, ast.Name):
        return names.get(func.id) == function
    if not (isinstance(func, ast.Attribute) and func.attr == attribute):
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        return names.get(owner.id) == module
    return (
        isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Name)
        and owner.func.id == "__import__"
        and not owner.keywords
        and len(owner.args) == 1
        and isinstance(owner.args[0], ast.Constant)
        and owner.args[0].value == module
    )
