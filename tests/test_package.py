from __future__ import annotations

import importlib
import pathlib
import pkgutil
import subprocess
import sys

import erlen

FORBIDDEN = ("werkzeug", "flask", "starlette", "quart", "asgiref")


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
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_python_multipart_is_only_imported_by_its_wrapper() -> None:
    src = pathlib.Path(erlen.__file__).parent
    importers = sorted(
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if "python_multipart" in path.read_text(encoding="utf-8")
    )
    assert importers == ["sansio/multipart.py"]
