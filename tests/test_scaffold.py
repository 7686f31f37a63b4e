from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types

import flask
import flask.helpers
import flask.sansio.scaffold
import pytest
import werkzeug.exceptions as wz_exc
from hypothesis import given
from hypothesis import strategies as st

from erlen import exceptions as erl_exc
from erlen.blueprints import Blueprint
from erlen.scaffold import _endpoint_from_view_func
from erlen.scaffold import _sentinel
from erlen.scaffold import find_package
from erlen.scaffold import get_root_path
from erlen.scaffold import Scaffold
from erlen.scaffold import setupmethod

HERE = os.path.dirname(os.path.abspath(__file__))


class Recorder(Scaffold):
    """A concrete scaffold that records add_url_rule calls and can be closed."""

    name = "rec"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = []
        self.finished = False

    def _check_setup_finished(self, f_name):
        if self.finished:
            raise AssertionError(f"late call to {f_name}")

    @setupmethod
    def add_url_rule(
        self,
        rule,
        endpoint=None,
        view_func=None,
        provide_automatic_options=None,
        **options,
    ):
        self.rules.append((rule, endpoint, view_func, options))


@pytest.fixture
def rec():
    return Recorder(__name__)


def view():
    return "ok"


# -- construction and paths ----------------------------------------------


def test_defaults_and_registries(rec):
    assert rec.import_name == __name__
    assert rec.root_path == HERE
    assert rec.static_folder is None
    assert rec.static_url_path is None
    assert not rec.has_static_folder
    assert rec.template_folder is None
    assert rec.view_functions == {}
    assert dict(rec.template_context_processors) == {None: []}
    for reg in (
        rec.before_request_funcs,
        rec.after_request_funcs,
        rec.teardown_request_funcs,
        rec.url_value_preprocessors,
        rec.url_default_functions,
        rec.error_handler_spec,
    ):
        assert dict(reg) == {}
    # Extensions append straight into the registries.
    rec.before_request_funcs["x"].append(view)
    assert rec.before_request_funcs["x"] == [view]
    assert rec.error_handler_spec["bp"][None] == {}
    assert repr(rec) == "<Recorder 'rec'>"


def test_explicit_root_path(tmp_path):
    rec = Recorder("does.not.exist", root_path=str(tmp_path))
    assert rec.root_path == str(tmp_path)


@pytest.mark.parametrize(
    ("folder", "url_path"),
    [
        ("static", None),
        ("static/", None),
        ("assets\\", None),
        ("a/b/files", None),
        ("static", "/s/"),
        ("static", ""),
        (None, "/only"),
        (None, None),
    ],
)
def test_static_folder_and_url_path_match_flask(folder, url_path, tmp_path):
    ours = Blueprint("b", __name__, folder, url_path, root_path=str(tmp_path))
    theirs = flask.Blueprint("b", __name__, folder, url_path, root_path=str(tmp_path))
    assert ours.static_folder == theirs.static_folder
    assert ours.static_url_path == theirs.static_url_path
    assert ours.has_static_folder == theirs.has_static_folder


@given(
    folder=st.one_of(st.none(), st.text("ab/\\.", max_size=8)),
    url_path=st.one_of(st.none(), st.text("ab/", max_size=6)),
)
def test_static_properties_differential(folder, url_path):
    ours = Blueprint("b", __name__, folder, url_path, root_path="/r")
    theirs = flask.Blueprint("b", __name__, folder, url_path, root_path="/r")
    assert (ours.static_folder, ours.static_url_path, ours.has_static_folder) == (
        theirs.static_folder,
        theirs.static_url_path,
        theirs.has_static_folder,
    )


def test_static_folder_accepts_pathlike(tmp_path):
    rec = Recorder(__name__, static_folder=tmp_path / "pub", root_path="/r")
    assert rec.static_folder == str(tmp_path / "pub")
    assert rec.static_url_path == "/pub"
    rec.static_folder = None
    assert rec.static_folder is None
    assert rec.static_url_path is None


def test_jinja_loader_is_lazy_and_cached(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "x.html").write_text("hi")
    rec = Recorder(__name__, template_folder="tpl", root_path=str(tmp_path))
    loader = rec.jinja_loader
    assert loader is rec.jinja_loader
    assert loader.searchpath == [str(tmp_path / "tpl")]
    assert loader.list_templates() == ["x.html"]
    assert Recorder(__name__).jinja_loader is None


def test_import_erlen_scaffold_does_not_import_jinja2():
    # The modules add neither Jinja2 nor click on top of ``import erlen``.
    code = (
        "import sys, erlen; before = set(sys.modules);"
        "import erlen.scaffold, erlen.blueprints, erlen.views;"
        "new = set(sys.modules) - before;"
        "bad = sorted(m for m in new if m.split('.')[0] in ('jinja2', 'click'));"
        "assert not bad, bad"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)


def test_open_resource(tmp_path):
    (tmp_path / "data.txt").write_bytes("h\u00e9".encode())
    rec = Recorder(__name__, root_path=str(tmp_path))
    with rec.open_resource("data.txt") as f:
        assert f.read() == "h\u00e9".encode()
    with rec.open_resource("data.txt", "r", encoding="latin-1") as f:
        assert f.read() == "h\u00c3\u00a9"
    with rec.open_resource("data.txt", "rt", encoding="utf-8") as f:
        assert f.read() == "h\u00e9"
    for mode in ("w", "wb", "a", "r+", "x"):
        with pytest.raises(ValueError, match="only be opened for reading") as e:
            rec.open_resource("data.txt", mode)
        assert repr(mode) in str(e.value)
    assert (tmp_path / "data.txt").read_bytes() == "h\u00e9".encode()


# -- routes ----------------------------------------------------------------


def test_route_passes_endpoint_and_options(rec):
    decorator = rec.route("/a", endpoint="e", methods=["POST"], strict_slashes=False)
    assert decorator(view) is view
    # The decorator can be reused and keeps the endpoint.
    decorator(view)
    assert rec.rules == [
        ("/a", "e", view, {"methods": ["POST"], "strict_slashes": False}),
        ("/a", "e", view, {"methods": ["POST"], "strict_slashes": False}),
    ]


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "patch"])
def test_method_shortcuts(rec, method):
    getattr(rec, method)("/m", defaults={"x": 1})(view)
    assert rec.rules == [
        ("/m", None, view, {"methods": [method.upper()], "defaults": {"x": 1}})
    ]
    with pytest.raises(TypeError, match="Use the 'route' decorator") as e:
        getattr(rec, method)("/m", methods=["GET"])
    assert "['GET']" in str(e.value)


def test_method_shortcut_rejects_methods_like_flask():
    fbp = flask.Blueprint("f", __name__)
    with pytest.raises(TypeError):
        fbp.post("/x", methods=["GET"])
    with pytest.raises(TypeError):
        Blueprint("f", __name__).post("/x", methods=["GET"])


def test_endpoint_decorator(rec):
    assert rec.endpoint("ep")(view) is view
    assert rec.view_functions == {"ep": view}


def test_base_add_url_rule_and_guard_are_abstract():
    base = Scaffold(__name__)
    with pytest.raises(NotImplementedError):
        base.route("/")
    with pytest.raises(NotImplementedError):
        base._check_setup_finished("x")


def test_endpoint_from_view_func():
    assert _endpoint_from_view_func(view) == "view"
    with pytest.raises(AssertionError, match="expected view func"):
        _endpoint_from_view_func(None)


# -- hooks -------------------------------------------------------------------


def test_hook_decorators_register_under_none(rec):
    def f(*a):
        return None

    assert rec.before_request(f) is f
    assert rec.after_request(f) is f
    assert rec.teardown_request(f) is f
    assert rec.context_processor(f) is f
    assert rec.url_value_preprocessor(f) is f
    assert rec.url_defaults(f) is f
    for reg in (
        rec.before_request_funcs,
        rec.after_request_funcs,
        rec.teardown_request_funcs,
        rec.template_context_processors,
        rec.url_value_preprocessors,
        rec.url_default_functions,
    ):
        assert reg[None] == [f]


def test_hooks_work_with_plain_dict_registries(rec):
    # An extension may replace a registry with a plain dict; setdefault copes.
    rec.before_request_funcs = {}
    rec.after_request_funcs = {}
    rec.teardown_request_funcs = {}
    rec.before_request(view)
    rec.after_request(view)
    rec.teardown_request(view)
    assert rec.before_request_funcs == {None: [view]}
    assert rec.after_request_funcs == {None: [view]}
    assert rec.teardown_request_funcs == {None: [view]}


def test_setupmethod_guard(rec):
    rec.finished = True
    calls = [
        lambda: rec.route("/"),
        lambda: rec.get("/"),
        lambda: rec.add_url_rule("/"),
        lambda: rec.endpoint("e"),
        lambda: rec.before_request(view),
        lambda: rec.after_request(view),
        lambda: rec.teardown_request(view),
        lambda: rec.context_processor(view),
        lambda: rec.url_value_preprocessor(view),
        lambda: rec.url_defaults(view),
        lambda: rec.errorhandler(404),
        lambda: rec.register_error_handler(404, view),
    ]
    for call in calls:
        with pytest.raises(AssertionError, match="late call"):
            call()
    assert rec.rules == []


def test_setupmethod_keeps_metadata():
    assert Scaffold.before_request.__name__ == "before_request"
    assert Scaffold.before_request.__doc__.startswith("Register")
    assert Scaffold.before_request.__wrapped__.__name__ == "before_request"


# -- error handlers ----------------------------------------------------------


def test_errorhandler_by_code_and_class(rec):
    class MyError(Exception):
        pass

    def h(e):
        return "h"

    assert rec.errorhandler(404)(h) is h
    rec.register_error_handler(MyError, h)
    rec.register_error_handler(erl_exc.Forbidden, h)
    rec.register_error_handler(erl_exc.HTTPException, h)
    spec = rec.error_handler_spec[None]
    assert spec[404] == {erl_exc.NotFound: h}
    assert spec[403] == {erl_exc.Forbidden: h}
    assert spec[None] == {MyError: h, erl_exc.HTTPException: h}


def test_get_exc_class_and_code_errors():
    get = Scaffold._get_exc_class_and_code
    with pytest.raises(ValueError, match="'999' is not a recognized HTTP error code"):
        get(999)
    with pytest.raises(TypeError, match="is an instance, not a class"):
        get(ValueError("x"))
    with pytest.raises(TypeError, match="is an instance, not a class"):
        get(erl_exc.NotFound())
    with pytest.raises(ValueError, match="'int' is not a subclass of Exception"):
        get(int)
    with pytest.raises(ValueError, match="'KeyboardInterrupt' is not a subclass"):
        get(KeyboardInterrupt)
    with pytest.raises(TypeError, match=r"got str \('404'\)"):
        get("404")


def _flask_outcome(value):
    try:
        cls, code = flask.sansio.scaffold.Scaffold._get_exc_class_and_code(value)
    except (TypeError, ValueError) as e:
        return type(e)
    return cls.__name__, code


def _erlen_outcome(value):
    try:
        cls, code = Scaffold._get_exc_class_and_code(value)
    except (TypeError, ValueError) as e:
        return type(e)
    return cls.__name__, code


@pytest.mark.parametrize("code", sorted(wz_exc.default_exceptions) + [0, 200, 302, 599])
def test_code_resolution_matches_flask(code):
    assert _erlen_outcome(code) == _flask_outcome(code)


@given(st.integers(min_value=-5, max_value=700))
def test_code_resolution_differential(code):
    assert _erlen_outcome(code) == _flask_outcome(code)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in dir(wz_exc)
        if isinstance(getattr(wz_exc, n), type)
        and issubclass(getattr(wz_exc, n), BaseException)
    ]
    + ["Exception", "ValueError", "KeyError", "BaseException", "object", "int"],
)
def test_class_resolution_matches_flask(name):
    import builtins

    theirs = getattr(wz_exc, name, None) or getattr(builtins, name)
    ours = getattr(erl_exc, name, None) or getattr(builtins, name)
    assert _erlen_outcome(ours) == _flask_outcome(theirs)


# -- root path and package discovery -----------------------------------------


@pytest.fixture
def syspath(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    importlib.invalidate_caches()


def _make_tree(root):
    (root / "erlen_t_mod.py").write_text("x = 1\n")
    pkg = root / "erlen_t_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sub.py").write_text("")
    ns = root / "erlen_t_ns"
    (ns / "inner").mkdir(parents=True)
    (ns / "inner" / "__init__.py").write_text("")
    (ns / "leaf.py").write_text("")
    importlib.invalidate_caches()


@pytest.mark.parametrize(
    "name",
    [
        "erlen_t_mod",
        "erlen_t_pkg",
        "erlen_t_pkg.sub",
        "erlen_t_ns.inner",
        "erlen_t_ns.leaf",
        "erlen_t_missing",
        "erlen_t_pkg.missing",
        "erlen_t_missing.sub",
        "os",
        "json",
        "erlen",
        "erlen.scaffold",
        "",
        ".rel",
    ],
)
def test_get_root_path_matches_flask(syspath, name):
    _make_tree(syspath)
    theirs = flask.helpers.get_root_path(name)
    for mod in [m for m in sys.modules if m.startswith("erlen_t_")]:
        del sys.modules[mod]
    assert get_root_path(name) == theirs


def test_get_root_path_imported_module_uses_file(syspath):
    _make_tree(syspath)
    importlib.import_module("erlen_t_pkg.sub")
    assert get_root_path("erlen_t_pkg.sub") == str(syspath / "erlen_t_pkg")
    assert get_root_path("erlen_t_mod") == str(syspath)


def test_get_root_path_main(monkeypatch, tmp_path):
    main = types.ModuleType("__main__")
    main.__file__ = str(tmp_path / "script.py")
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert get_root_path("__main__") == str(tmp_path)
    # An interactive __main__ has no file and no spec: the working directory.
    bare = types.ModuleType("__main__")
    bare.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", bare)
    assert (
        get_root_path("__main__")
        == os.getcwd()
        == flask.helpers.get_root_path("__main__")
    )


def test_get_root_path_namespace_package(syspath):
    _make_tree(syspath)
    # Not imported yet: the spec has no loader, so the working directory.
    assert get_root_path("erlen_t_ns") == os.getcwd()
    # Imported: its loader gives no file name, which is an error.
    importlib.import_module("erlen_t_ns")
    with pytest.raises(RuntimeError, match="namespace package") as e:
        get_root_path("erlen_t_ns")
    assert "root_path=" in str(e.value)
    with pytest.raises(RuntimeError):
        flask.helpers.get_root_path("erlen_t_ns")


class _HookLoader(importlib.abc.Loader):
    """A loader without get_filename; it sets __file__ only for 'filed'."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if module.__name__ == "erlen_t_filed":
            module.__file__ = "/somewhere/hooked/erlen_t_filed.py"


class _HookFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname in ("erlen_t_hooked", "erlen_t_filed"):
            return importlib.machinery.ModuleSpec(fullname, _HookLoader())
        return None


def test_get_root_path_import_hook_without_get_filename(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [_HookFinder(), *sys.meta_path])
    try:
        with pytest.raises(RuntimeError, match="import hook"):
            get_root_path("erlen_t_hooked")
        # A hook module that sets __file__ when executed is located by it.
        assert get_root_path("erlen_t_filed") == "/somewhere/hooked"
    finally:
        sys.modules.pop("erlen_t_hooked", None)
        sys.modules.pop("erlen_t_filed", None)


@pytest.mark.parametrize(
    "name",
    [
        "erlen_t_mod",
        "erlen_t_pkg",
        "erlen_t_pkg.sub",
        "erlen_t_ns",
        "erlen_t_ns.inner",
        "erlen_t_ns.leaf",
        "erlen_t_ns.missing",
        "erlen_t_missing",
        "os",
        "json",
        "pytest",
        "hypothesis.strategies",
        "erlen",
        "__main__",
        "",
    ],
)
def test_find_package_matches_flask(syspath, name):
    _make_tree(syspath)
    theirs = flask.sansio.scaffold.find_package(name)
    for mod in [m for m in sys.modules if m.startswith("erlen_t_")]:
        del sys.modules[mod]
    assert find_package(name) == theirs


def test_find_package_namespace_spanning_two_dirs(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "erlen_t_split" / "one").mkdir(parents=True)
    (b / "erlen_t_split" / "two").mkdir(parents=True)
    (a / "erlen_t_split" / "one" / "__init__.py").write_text("")
    (b / "erlen_t_split" / "two" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(a))
    monkeypatch.syspath_prepend(str(b))
    importlib.invalidate_caches()
    try:
        for name in ("erlen_t_split.one", "erlen_t_split.two"):
            assert find_package(name) == flask.sansio.scaffold.find_package(name)
        assert find_package("erlen_t_split.one") == (None, str(a))
        assert find_package("erlen_t_split.two") == (None, str(b))
        # Flask raises StopIteration for the split namespace itself (no
        # location contains the common path); erlen picks the first one.
        with pytest.raises(StopIteration):
            flask.sansio.scaffold.find_package("erlen_t_split")
        assert find_package("erlen_t_split") == (None, str(b))
        # A missing intermediate package: Flask lets ModuleNotFoundError out;
        # erlen falls back to the first location.
        with pytest.raises(ModuleNotFoundError):
            flask.sansio.scaffold.find_package("erlen_t_split.nope.deeper")
        assert find_package("erlen_t_split.nope.deeper") == (None, str(b))
    finally:
        for mod in [m for m in sys.modules if m.startswith("erlen_t_")]:
            del sys.modules[mod]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/opt/venv/lib/python3.11/site-packages", "/opt/venv"),
        ("/opt/win/Lib/site-packages", "/opt/win"),
        ("/opt/odd/site-packages", "/opt/odd"),
        ("/srv/project", None),
    ],
)
def test_find_package_prefix_shapes(monkeypatch, path, expected):
    import erlen.scaffold as sc

    monkeypatch.setattr(sc, "_find_package_path", lambda name: path)
    monkeypatch.setattr(flask.sansio.scaffold, "_find_package_path", lambda name: path)
    assert find_package("x") == (expected, path)
    assert flask.sansio.scaffold.find_package("x") == (expected, path)
    monkeypatch.setattr(sys, "prefix", "/srv")
    assert find_package("x")[0] == ("/srv" if path.startswith("/srv") else expected)


def test_sentinel_is_unique():
    assert _sentinel is not None
    assert _sentinel is not flask.sansio.scaffold._sentinel
