from __future__ import annotations

import importlib
import pathlib
import pkgutil

import pytest

import erlen
from tests._python import run_python

FORBIDDEN = (
    "werkzeug",
    "flask",
    "starlette",
    "quart",
    "asgiref",
    "python_multipart",
)


def _all_modules() -> list[str]:
    names = [erlen.__name__]
    for info in pkgutil.walk_packages(erlen.__path__, prefix="erlen."):
        # Importing __main__ runs the command line; it has its own tests.
        if info.name != "erlen.__main__":
            names.append(info.name)
    return sorted(names)


def test_ships_py_typed() -> None:
    marker = pathlib.Path(erlen.__file__).with_name("py.typed")
    assert marker.is_file()


def test_version_is_a_pep440_string() -> None:
    assert isinstance(erlen.__version__, str)
    assert erlen.__version__[0].isdigit()


def test_every_module_imports() -> None:
    modules = _all_modules()
    assert "erlen.sansio.request" in modules
    assert "erlen.routing" in modules
    for name in modules:
        assert importlib.import_module(name).__name__ == name


def test_no_runtime_import_of_replaced_frameworks() -> None:
    # Block the frameworks erlen replaces, then import every module in a fresh
    # interpreter: an import of any of them fails loudly there.
    code = (
        "import sys\n"
        f"for name in {FORBIDDEN!r}:\n"
        "    sys.modules[name] = None\n"
        "import importlib\n"
        f"for name in {_all_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"leaked = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}"
        " and sys.modules[m] is not None]\n"
        "assert not leaked, leaked\n"
        "print('ok')\n"
    )
    assert run_python(code) == "ok"


def test_python_multipart_is_not_imported() -> None:
    # erlen parses multipart bodies itself; python-multipart is a test and
    # benchmark dependency only.
    src = pathlib.Path(erlen.__file__).parent
    importers = sorted(
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if "python_multipart" in path.read_text(encoding="utf-8")
    )
    assert importers == []


# Modules that `from erlen import Flask, request, jsonify` must not load: each
# is imported where it is first needed (import time). Once app.py, ctx.py and
# sessions.py import them lazily too, add asyncio, concurrent.futures, logging,
# inspect, hashlib and itsdangerous here.
NOT_AT_IMPORT = (
    "jinja2",
    "click",
    "python_multipart",
    "blinker",
    "markupsafe",
    "email",
    "dataclasses",
    "decimal",
    "uuid",
    "tempfile",
    "shutil",
    "mimetypes",
    "html",
    "pprint",
    "difflib",
    "copy",
    "pathlib",
    "secrets",
    "http",
    "unicodedata",
)


def test_importing_flask_loads_no_rarely_needed_module() -> None:
    code = (
        "import sys\n"
        "from erlen import Flask, request, jsonify\n"
        f"print([m for m in {NOT_AT_IMPORT!r} if m in sys.modules])\n"
    )
    assert run_python(code) == "[]"


def test_public_names_resolve_lazily_and_once() -> None:
    code = (
        "import sys, erlen\n"
        "assert 'erlen.blueprints' not in sys.modules\n"
        "assert 'Blueprint' in dir(erlen) and 'Blueprint' not in vars(erlen)\n"
        "from erlen import Blueprint\n"
        "assert vars(erlen)['Blueprint'] is Blueprint\n"
        "from erlen import *\n"
        "print(sorted(n for n in erlen.__all__ if n not in globals()))\n"
    )
    assert run_python(code) == "[]"


def test_every_public_name_is_the_object_of_its_module() -> None:
    from erlen import blueprints
    from erlen import config
    from erlen import ctx
    from erlen import helpers
    from erlen import signals
    from erlen import templating

    modules = {
        "blueprints": blueprints,
        "config": config,
        "ctx": ctx,
        "helpers": helpers,
        "signals": signals,
        "templating": templating,
    }
    for name, module in erlen._LAZY.items():
        assert getattr(erlen, name) is getattr(modules[module], name), name
    assert set(erlen._LAZY) <= set(erlen.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        erlen.nope  # noqa: B018


def test_plain_wsgi_request_loads_no_form_or_template_machinery() -> None:
    # NOTE: add blinker and asyncio once app.py and ctx.py send signals through
    # signals.receivers_of() (a WSGI app that connects no signal never needs it).
    code = (
        "import io, sys\n"
        "from erlen import Flask\n"
        "app = Flask('x')\n"
        "app.add_url_rule('/', 'i', lambda: 'hi')\n"
        "env = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/', 'SERVER_NAME': 'x',\n"
        "       'SERVER_PORT': '80', 'wsgi.url_scheme': 'http',\n"
        "       'wsgi.input': io.BytesIO(), 'wsgi.errors': sys.stderr}\n"
        "assert b''.join(app(env, lambda *a: None)) == b'hi'\n"
        "print([m for m in ('python_multipart', 'jinja2', 'email', 'tempfile')"
        " if m in sys.modules])\n"
    )
    assert run_python(code) == "[]"
