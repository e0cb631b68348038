"""Namespace declarations, decided on the syntax tree: the spellings distributions ship."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipguard.checks.namespace import (
    MAX_DECLARATION_BYTES,
    Declaration,
    is_namespace_declaration,
    read_declaration,
)


def src(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode()


# Spellings as the distributions named ship them (comments shortened); the flag says whether
# the file fails or declares nothing where pkg_resources is missing.
DECLARATIONS: dict[str, tuple[bytes, bool]] = {
    # backports.datetime_fromisoformat, newer protobuf's google/__init__.py
    "pkgutil via __import__": (
        src("""
            #drop-pkg-resources-declare
            __path__ = __import__('pkgutil').extend_path(__path__, __name__)
        """),
        False,
    ),
    # backports.csv, backports.range
    "from pkgutil import extend_path": (
        src("""
            # A Python "namespace package" http://www.python.org/dev/peps/pep-0382/
            # This always goes inside of a namespace package's __init__.py

            from pkgutil import extend_path
            # noinspection PyUnboundLocalVariable
            __path__ = extend_path(__path__, __name__)
        """),
        False,
    ),
    # backports.html
    "import pkgutil, docstring": (
        src('''
            """Backports namespace"""
            import pkgutil

            __path__ = pkgutil.extend_path(__path__, __name__)
        '''),
        False,
    ),
    "extend_path under another name": (
        src("""
            # this __init__.py can't have any code beyond the extend_path call.
            from pkgutil import extend_path as _extend_path
            __path__ = _extend_path(__path__, __name__)  # type: ignore
        """),
        False,
    ),
    # sphinxcontrib-openapi, -redoc; gax-python's google/__init__.py
    "declare_namespace via __import__": (
        src('''
            """
                sphinxcontrib
                ~~~~~~~~~~~~~

                This package is a namespace package that contains all extensions
                distributed in the ``sphinx-contrib`` distribution.
            """

            __import__("pkg_resources").declare_namespace(__name__)
        '''),
        True,
    ),
    "import pkg_resources; declare": (
        src("""
            import pkg_resources; pkg_resources.declare_namespace(__name__)
        """),
        True,
    ),
    # backports.lzma, many zope.* and Products.* distributions
    "try declare_namespace, except extend_path": (
        src("""
            # See http://peak.telecommunity.com/DevCenter/setuptools#namespace-packages
            try:
                __import__('pkg_resources').declare_namespace(__name__)
            except ImportError:
                # Otherwise, use the stdlib way
                from pkgutil import extend_path
                __path__ = extend_path(__path__, __name__)
        """),
        False,
    ),
    # google-cloud-* google/__init__.py, ckanext-*
    "try import pkg_resources, except import pkgutil": (
        src("""
            # this is a namespace package
            try:  # pragma: no cover
                import pkg_resources
                pkg_resources.declare_namespace(__name__)
            except ImportError:  # pragma: no cover
                import pkgutil
                __path__ = pkgutil.extend_path(__path__, __name__)
        """),
        False,
    ),
    # zope.interface's src/zope/__init__.py
    "try from pkg_resources import declare_namespace": (
        src("""
            # this is a namespace package
            try:
                from pkg_resources import declare_namespace
                declare_namespace(__name__)
            except ImportError:
                import pkgutil
                __path__ = pkgutil.extend_path(__path__, __name__)
        """),
        False,
    ),
    # protobuf 3.x google/__init__.py, two-space indent
    "protobuf: try __import__ both ways": (
        src("""
            try:
              __import__('pkg_resources').declare_namespace(__name__)
            except ImportError:
              __path__ = __import__('pkgutil').extend_path(__path__, __name__)
        """),
        False,
    ),
    # older zope distributions: a literal name, and nothing without pkg_resources
    "zope: literal name, except pass": (
        src("""
            # This file is necessary to make this directory a package.

            try:
                # Declare this a namespace package if pkg_resources is available.
                import pkg_resources
                pkg_resources.declare_namespace('zope')
            except ImportError:
                pass
        """),
        True,
    ),
    # openSUSE's python-backports: both, one after the other
    "extend_path, then try declare_namespace": (
        src("""
            from pkgutil import extend_path
            __path__ = extend_path(__path__, __name__)

            try:
                import pkg_resources
                pkg_resources.declare_namespace(__name__)
            except ImportError:
                pass
        """),
        False,
    ),
    "except a tuple, bound as a name": (
        src("""
            try:
                __import__('pkg_resources').declare_namespace(__name__)
            except (ImportError, AttributeError) as exc:
                __path__ = __import__('pkgutil').extend_path(__path__, __name__)
        """),
        False,
    ),
    "bare except": (
        src("""
            try:
                __import__('pkg_resources').declare_namespace(__name__)
            except:
                __path__ = __import__('pkgutil').extend_path(__path__, __name__)
        """),
        False,
    ),
    "only AttributeError caught": (
        src("""
            try:
                __import__('pkg_resources').declare_namespace(__name__)
            except AttributeError:
                __path__ = __import__('pkgutil').extend_path(__path__, __name__)
        """),
        True,
    ),
    "coding line, CRLF": (
        b"# -*- coding: utf-8 -*-\r\n"
        b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\r\n",
        False,
    ),
    "UTF-8 BOM": (
        b"\xef\xbb\xbf# \xc3\xa9\n"
        b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
        False,
    ),
}

NOT_DECLARATIONS: dict[str, bytes] = {
    "empty": b"",
    "blank lines": b"\n\n   \n",
    # googleapis/python-logging's google/__init__.py: a licence header and no code
    "comments only": b"# Copyright 2016 Google LLC\n#\n# Licensed under the Apache License\n",
    "docstring only": b'"""A namespace, one day."""\n',
    "import, no call": b"import pkgutil\n",
    "call without its import": b"__path__ = extend_path(__path__, __name__)\n",
    # sphinxcontrib's old __init__.py with a version
    "and a __version__": src("""
        __import__('pkg_resources').declare_namespace(__name__)
        __version__='0.5.0'
    """),
    # visuals.sphinx_ext
    "and another import": src("""
        from os import path

        __import__('pkg_resources').declare_namespace(__name__)

        package_dir = path.abspath(path.dirname(__file__))
    """),
    # ndg-saml's ndg/__init__.py
    "and metadata assignments": src("""
        \"\"\"NDG namespace package. DO NOT place any other code in this file!\"\"\"
        __author__ = "P J Kershaw"
        __import__('pkg_resources').declare_namespace(__name__)
    """),
    "an annotation and typing": src("""
        from pkgutil import extend_path
        from typing import List

        __path__: List[str] = extend_path(__path__, __name__)
    """),
    "a modulefinder block": src("""
        try:
            import pkg_resources
            pkg_resources.declare_namespace(__name__)
        except ImportError:
            import pkgutil
            __path__ = pkgutil.extend_path(__path__, __name__)

        try:
            import modulefinder
        except ImportError:
            pass
        else:
            for p in __path__:
                modulefinder.AddPackagePath(__name__, p)
    """),
    "except NameError assigns a list": src("""
        from pkgutil import extend_path

        try:
            __path__ = extend_path(__path__, __name__)
        except NameError:
            __path__ = [__name__]
    """),
    "guarded by if __name__": src("""
        if __name__ != '__main__':
            try:
                __import__('pkg_resources').declare_namespace(__name__)
            except ImportError:
                __path__ = __import__('pkgutil').extend_path(__path__, __name__)
    """),
    "extend_path then a version import": src("""
        from pkgutil import extend_path
        __path__ = extend_path(__path__, __name__)

        from ._version import get_versions
        __version__ = get_versions()['version']
    """),
    "declare_namespace with __file__": src("""
        import pkg_resources
        pkg_resources.declare_namespace(__file__, __name__)
    """),
    "extend_path result dropped": b"import pkgutil\npkgutil.extend_path(__path__, __name__)\n",
    "a function": src("""
        __path__ = __import__('pkgutil').extend_path(__path__, __name__)
        def hello():
            return 1
    """),
    "a non-builtin exception": src("""
        try:
            __import__('pkg_resources').declare_namespace(__name__)
        except errors.Missing:
            pass
    """),
    "try with else": src("""
        try:
            import pkg_resources
        except ImportError:
            pass
        else:
            pkg_resources.declare_namespace(__name__)
    """),
    "name bound only if the try succeeded": src("""
        try:
            import pkgutil
        except ImportError:
            pass
        __path__ = pkgutil.extend_path(__path__, __name__)
    """),
    "another module under __import__": (
        b"__path__ = __import__('mypkgutil').extend_path(__path__, __name__)\n"
    ),
    "imported as a reserved name": (
        b"from pkgutil import extend_path as __import__\n"
        b"__path__ = __import__(__path__, __name__)\n"
    ),
    # backports.datetime_fromisoformat once shipped a bare URL as its first line
    "does not parse": src("""
        https://packaging.python.org/guides/packaging-namespace-packages/

        __path__ = __import__('pkgutil').extend_path(__path__, __name__)
    """),
    "Python 2 except syntax": src("""
        try:
            __import__('pkg_resources').declare_namespace(__name__)
        except ImportError, e:
            from pkgutil import extend_path
            __path__ = extend_path(__path__, __name__)
    """),
    "not UTF-8": b"# caf\xe9\n__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
    "latin-1 by its coding line": (
        b"# -*- coding: latin-1 -*-\n# caf\xe9\n"
        b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    ),
    "a NUL byte": b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n\x00",
    "too large": b"#" * MAX_DECLARATION_BYTES
    + b"\n__import__('pkg_resources').declare_namespace(__name__)\n",
}


@pytest.mark.parametrize("name", DECLARATIONS)
def test_declarations(name: str) -> None:
    source, needs = DECLARATIONS[name]
    assert is_namespace_declaration(source)
    assert read_declaration(source) == Declaration(needs_pkg_resources=needs)


@pytest.mark.parametrize("name", NOT_DECLARATIONS)
def test_not_declarations(name: str) -> None:
    assert not is_namespace_declaration(NOT_DECLARATIONS[name])
    assert read_declaration(NOT_DECLARATIONS[name]) is None


def test_a_literal_name_must_be_the_package() -> None:
    source = DECLARATIONS["zope: literal name, except pass"][0]
    assert is_namespace_declaration(source, "zope")
    assert not is_namespace_declaration(source, "plone")
    pkgutil = b"__path__ = __import__('pkgutil').extend_path(__path__, 'zope.app')\n"
    assert is_namespace_declaration(pkgutil, "zope.app")
    assert not is_namespace_declaration(pkgutil, "zope")
    assert not is_namespace_declaration(b"__import__('pkg_resources').declare_namespace('a b')\n")


_RUN_AS_PACKAGES = r"""
import json, sys
sys.modules["pkg_resources"] = None  # import pkg_resources raises ModuleNotFoundError
cases = json.loads(sys.argv[1])
out = {}
for name, first, second, package in cases:
    sys.path[:0] = [first, second]
    try:
        module = __import__(package)
        out[name] = sorted(module.__path__)
    except ImportError as exc:
        out[name] = type(exc).__name__
    del sys.path[:2]
print(json.dumps(out))
"""


def test_declarations_extend_the_path_in_a_real_interpreter(tmp_path: Path) -> None:
    # Each spelling as ns_<n>/__init__.py in two directories, run where pkg_resources is
    # missing (as with setuptools 84): those that work without it put both on __path__;
    # those that need it fail or extend nothing.
    cases = []
    for number, (name, (source, _)) in enumerate(DECLARATIONS.items()):
        package = "zope" if "zope" in name else f"ns_{number}"
        roots = [tmp_path / f"a{number}", tmp_path / f"b{number}"]
        for root in roots:
            (root / package).mkdir(parents=True)
            (root / package / "__init__.py").write_bytes(source)
        cases.append((name, str(roots[0]), str(roots[1]), package))
    result = subprocess.run(
        [sys.executable, "-S", "-c", _RUN_AS_PACKAGES, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout)
    for name, first, second, package in cases:
        both = sorted([f"{first}/{package}", f"{second}/{package}"])
        extended = found[name] == both
        assert extended != DECLARATIONS[name][1], (name, found[name])
