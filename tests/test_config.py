from __future__ import annotations

import errno
import json
import os
import string
import sys
import tomllib
import types

import flask.config
import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.utils import import_string as wz_import_string

from erlen.config import Config
from erlen.config import ConfigAttribute
from erlen.config import import_string

PREFIX = "ERLENCFGTEST"


def both(root, defaults=None):
    return Config(root, defaults), flask.config.Config(root, defaults)


def _builtin_type(e):
    # Werkzeug raises its own ImportError subclass; compare the builtin kind.
    return next(c for c in type(e).__mro__ if c.__module__ == "builtins")


def outcome(fn):
    """Return ("ok", result) or ("raise", builtin exception type, errno)."""
    try:
        return ("ok", fn())
    except Exception as e:
        return ("raise", _builtin_type(e), getattr(e, "errno", None))


def same(ours, theirs, call):
    """Run ``call`` on both configs and check results and contents agree."""
    a = outcome(lambda: call(ours))
    b = outcome(lambda: call(theirs))
    assert a == b
    assert dict(ours) == dict(theirs)
    return a


# -- construction, repr, mapping -------------------------------------------------


def test_init_and_repr_match_flask(tmp_path):
    ours, theirs = both(tmp_path, {"A": 1, "b": [2]})
    assert dict(ours) == dict(theirs) == {"A": 1, "b": [2]}
    assert ours.root_path == tmp_path
    assert repr(ours) == repr(theirs) == "<Config {'A': 1, 'b': [2]}>"
    assert isinstance(ours, dict)


def test_repr_uses_subclass_name():
    class MyConfig(Config):
        pass

    assert repr(MyConfig(".", {"X": 1})) == "<MyConfig {'X': 1}>"


def test_defaults_are_copied():
    defaults = {"A": 1}
    config = Config(".", defaults)
    config["A"] = 2
    assert defaults == {"A": 1}


def test_from_mapping_matches_flask(tmp_path):
    ours, theirs = both(tmp_path)
    for call in (
        lambda c: c.from_mapping({"A": 1, "lower": 2, "Mixed": 3}, B=4, A=5),
        lambda c: c.from_mapping(None, C=6),
        lambda c: c.from_mapping(),
        lambda c: c.from_mapping([("D", 7), ("e", 8)]),
        lambda c: c.from_mapping({"A_B1": 9, "_": 10, "1": 11}),
    ):
        assert same(ours, theirs, call) == ("ok", True)
    assert ours == {"A": 5, "B": 4, "C": 6, "D": 7, "A_B1": 9}


def test_from_mapping_rejects_non_string_keys():
    config = Config(".")
    with pytest.raises(TypeError, match=r"keys must be strings, got 1 \(type int\)"):
        config.from_mapping({1: "x"})


@given(
    st.dictionaries(
        st.text(alphabet=string.ascii_letters + "_1é", max_size=5), st.integers()
    ),
    st.dictionaries(st.sampled_from(["A", "b", "C_D", "e_F"]), st.integers()),
)
def test_from_mapping_hypothesis(mapping, kwargs):
    ours, theirs = both(".")
    same(ours, theirs, lambda c: c.from_mapping(mapping, **kwargs))


# -- from_object and import_string -----------------------------------------------


class _Settings:
    DEBUG = True
    SECRET = "s"
    lower = "ignored"
    Mixed = "ignored"
    _PRIVATE_X = 3

    @property
    def COMPUTED(self):
        return 42


def test_from_object_class_instance_module_match_flask():
    module = types.ModuleType("cfgmod")
    module.A = 1
    module.b = 2
    for obj in (_Settings, _Settings(), module):
        ours, theirs = both(".")
        assert same(ours, theirs, lambda c, o=obj: c.from_object(o)) == ("ok", None)
        assert "lower" not in ours
        assert "Mixed" not in ours
    assert ours == {"A": 1}
    ours = Config(".")
    ours.from_object(_Settings())
    assert ours["COMPUTED"] == 42
    assert ours["_PRIVATE_X"] == 3


def test_from_object_dict_loads_nothing():
    ours, theirs = both(".")
    same(ours, theirs, lambda c: c.from_object({"A": 1}))
    assert ours == {}


@pytest.fixture
def cfg_module(tmp_path, monkeypatch):
    pkg = tmp_path / "erlen_cfg_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("PKG_LEVEL = 1\n")
    (pkg / "settings.py").write_text(
        "DEBUG = True\nNAME = 'prod'\nhelper = 3\n"
        "class Dev:\n    DEBUG = False\n    NAME = 'dev'\n"
    )
    (pkg / "broken.py").write_text("import erlen_missing_module_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "erlen_cfg_pkg"
    for name in list(sys.modules):
        if name.startswith("erlen_cfg_pkg"):
            del sys.modules[name]


@pytest.mark.parametrize(
    "path",
    [
        "erlen_cfg_pkg",
        "erlen_cfg_pkg.settings",
        "erlen_cfg_pkg.settings.Dev",
        "erlen_cfg_pkg.settings:Dev",
        "erlen_cfg_pkg:settings",
        "erlen_cfg_pkg.missing",
        "erlen_cfg_pkg.settings.Missing",
        "erlen_cfg_pkg.broken",
        "erlen_no_such_module",
        "erlen_no_such_module.attr",
        "",
        ".relative",
        "erlen_cfg_pkg.",
        "erlen_cfg_pkg..settings",
    ],
)
def test_from_object_string_matches_flask(cfg_module, path):
    ours, theirs = both(".")
    result = same(ours, theirs, lambda c: c.from_object(path))
    if path.endswith(("settings", "Dev")) and ".." not in path:
        assert result == ("ok", None)
        assert ours["DEBUG"] is not None


@pytest.mark.parametrize(
    "path",
    [
        "os",
        "os.path",
        "os:path",
        "os.path:join",
        "json.decoder",
        "json.decoder.JSONDecoder",
        "os.nope",
        "os.path.join.x",
        "erlen_nope",
        "erlen_nope.x",
        "a b",
        "os.",
        "",
        ".",
        ".os",
        ":os",
    ],
)
@pytest.mark.parametrize("silent", [False, True])
def test_import_string_matches_werkzeug(path, silent):
    ours = outcome(lambda: import_string(path, silent=silent))
    theirs = outcome(lambda: wz_import_string(path, silent=silent))
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert ours[1] is theirs[1]
    else:
        assert issubclass(theirs[1], ours[1])


def test_import_string_error_message(cfg_module):
    with pytest.raises(ImportError, match="Could not import 'erlen_cfg_pkg.nope'") as e:
        import_string("erlen_cfg_pkg.nope")
    assert "has no attribute 'nope'" in str(e.value)
    assert e.value.name == "erlen_cfg_pkg.nope"
    with pytest.raises(ValueError, match="absolute dotted path"):
        import_string(".x")


# -- from_pyfile and from_envvar -------------------------------------------------

PYFILE = """\
import os
DEBUG = True
SECRET_KEY = "dev"
NAMES = [x for x in "ab"]
HERE = os.path.basename(__file__)
lower = "ignored"
"""


def test_from_pyfile_relative_and_absolute_match_flask(tmp_path):
    (tmp_path / "settings.cfg").write_text(PYFILE)
    for name in ("settings.cfg", str(tmp_path / "settings.cfg")):
        ours, theirs = both(tmp_path)
        assert same(ours, theirs, lambda c, n=name: c.from_pyfile(n)) == ("ok", True)
        assert ours["HERE"] == "settings.cfg"
        assert ours["NAMES"] == ["a", "b"]
        assert "lower" not in ours
        assert "os" not in ours


def test_from_pyfile_accepts_pathlike_root(tmp_path):
    (tmp_path / "c.py").write_text("X = 1\n")
    config = Config(tmp_path)
    assert config.from_pyfile(tmp_path / "c.py") is True
    assert config == {"X": 1}


@pytest.mark.parametrize(
    ("name", "silent"),
    [
        ("missing.cfg", False),
        ("missing.cfg", True),
        ("subdir", False),
        ("subdir", True),
        ("afile.txt/inner.cfg", False),
        ("afile.txt/inner.cfg", True),
        ("bad_syntax.cfg", False),
        ("bad_syntax.cfg", True),
        ("raises.cfg", True),
    ],
)
def test_from_pyfile_errors_match_flask(tmp_path, name, silent):
    (tmp_path / "subdir").mkdir()
    (tmp_path / "afile.txt").write_text("x")
    (tmp_path / "bad_syntax.cfg").write_text("A = (\n")
    (tmp_path / "raises.cfg").write_text("A = 1 / 0\n")
    ours, theirs = both(tmp_path)
    same(ours, theirs, lambda c: c.from_pyfile(name, silent=silent))


def test_from_pyfile_missing_message_names_path_and_errno(tmp_path):
    config = Config(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        config.from_pyfile("nope.cfg")
    assert e.value.errno == errno.ENOENT
    assert e.value.filename == str(tmp_path / "nope.cfg")
    message = str(e.value)
    assert message.startswith(
        "[Errno 2] Could not load the configuration file (No such file or directory)"
    )
    assert str(tmp_path / "nope.cfg") in message


def test_from_envvar_matches_flask(tmp_path, monkeypatch):
    cfg = tmp_path / "env.cfg"
    cfg.write_text("FROM_ENV = 'yes'\n")
    var = f"{PREFIX}_SETTINGS"

    monkeypatch.delenv(var, raising=False)
    ours, theirs = both(tmp_path)
    assert same(ours, theirs, lambda c: c.from_envvar(var))[1] is RuntimeError
    assert same(ours, theirs, lambda c: c.from_envvar(var, silent=True)) == (
        "ok",
        False,
    )

    monkeypatch.setenv(var, "")
    assert same(ours, theirs, lambda c: c.from_envvar(var))[1] is RuntimeError

    monkeypatch.setenv(var, str(tmp_path / "missing.cfg"))
    assert same(ours, theirs, lambda c: c.from_envvar(var, silent=True)) == (
        "ok",
        False,
    )
    assert same(ours, theirs, lambda c: c.from_envvar(var))[1] is FileNotFoundError

    monkeypatch.setenv(var, str(cfg))
    assert same(ours, theirs, lambda c: c.from_envvar(var)) == ("ok", True)
    assert ours == {"FROM_ENV": "yes"}


def test_from_envvar_message(monkeypatch):
    monkeypatch.delenv(f"{PREFIX}_X", raising=False)
    with pytest.raises(RuntimeError, match=f"'{PREFIX}_X' is not set"):
        Config(".").from_envvar(f"{PREFIX}_X")


# -- from_prefixed_env -----------------------------------------------------------


def _clear_prefixed(mp):
    for key in list(os.environ):
        if key.startswith(PREFIX):
            mp.delenv(key)


def test_from_prefixed_env_matches_flask(monkeypatch):
    _clear_prefixed(monkeypatch)
    env = {
        "STRING": "hello",
        "INT": "42",
        "FLOAT": "1.5",
        "BOOL": "true",
        "NULL": "null",
        "LIST": "[1, 2]",
        "DICT": '{"k": "v"}',
        "BADJSON": "{not json",
        "EXIST__NEW": "1",
        "EXIST__INNER__DEEP": '"x"',
        "FRESH__A__B": "2",
        "lower": "3",
        "": "empty key",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"{PREFIX}_{key}", value)
    monkeypatch.setenv(f"{PREFIX}X_OTHER", "ignored")
    defaults = {"EXIST": {"OLD": 0, "INNER": {}}}
    ours = Config(".", json.loads(json.dumps(defaults)))
    theirs = flask.config.Config(".", json.loads(json.dumps(defaults)))
    assert same(ours, theirs, lambda c: c.from_prefixed_env(PREFIX)) == ("ok", True)
    assert ours["INT"] == 42
    assert ours["BADJSON"] == "{not json"
    assert ours["EXIST"] == {"OLD": 0, "INNER": {"DEEP": "x"}, "NEW": 1}
    assert ours["FRESH"] == {"A": {"B": 2}}
    assert ours["lower"] == 3
    assert "X_OTHER" not in ours


def test_from_prefixed_env_default_prefix_and_custom_loads(monkeypatch):
    monkeypatch.setenv("FLASK_ERLEN_TEST_KEY", "[1]")
    config = Config(".")
    config.from_prefixed_env()
    assert config["ERLEN_TEST_KEY"] == [1]

    def loads(value):
        if value == "boom":
            raise KeyError(value)
        return value.upper()

    _clear_prefixed(monkeypatch)
    monkeypatch.setenv(f"{PREFIX}_A", "abc")
    monkeypatch.setenv(f"{PREFIX}_B", "boom")
    ours, theirs = both(".")
    same(ours, theirs, lambda c: c.from_prefixed_env(PREFIX, loads=loads))
    assert ours == {"A": "ABC", "B": "boom"}


def test_from_prefixed_env_nesting_into_scalar_is_a_type_error(monkeypatch):
    _clear_prefixed(monkeypatch)
    monkeypatch.setenv(f"{PREFIX}_A", "1")
    monkeypatch.setenv(f"{PREFIX}_A__B", "2")
    ours, theirs = both(".")
    assert same(ours, theirs, lambda c: c.from_prefixed_env(PREFIX))[1] is TypeError
    with pytest.raises(TypeError, match=r"'B' .* 'ERLENCFGTEST_A__B'.* a int"):
        Config(".").from_prefixed_env(PREFIX)


_env_key = st.lists(
    st.sampled_from(["A", "B", "a", "C_D", "", "_"]), min_size=1, max_size=3
).map("__".join)
_env_value = st.one_of(
    st.sampled_from(["1", "x", "{}", '{"A": 1}', "[1]", "null", "", "{bad"]),
    st.text(alphabet='ab1{}[]" ,:', max_size=6),
)


@given(st.dictionaries(_env_key, _env_value, max_size=6))
def test_from_prefixed_env_hypothesis(env):
    with pytest.MonkeyPatch.context() as mp:
        _clear_prefixed(mp)
        for key, value in env.items():
            mp.setenv(f"{PREFIX}_{key}", value)
        ours, theirs = both(".", {"A": {}})
        ours["A"], theirs["A"] = {}, {}
        same(ours, theirs, lambda c: c.from_prefixed_env(PREFIX))


# -- from_file -------------------------------------------------------------------


def test_from_file_json_and_toml_match_flask(tmp_path):
    (tmp_path / "c.json").write_text('{"A": 1, "b": 2, "NESTED": {"x": 1}}')
    (tmp_path / "c.toml").write_text('A = 1\nb = 2\n[NESTED]\nx = "y"\n')
    ours, theirs = both(tmp_path)
    assert same(ours, theirs, lambda c: c.from_file("c.json", json.load)) == (
        "ok",
        True,
    )
    assert ours == {"A": 1, "NESTED": {"x": 1}}
    assert same(
        ours, theirs, lambda c: c.from_file("c.toml", tomllib.load, text=False)
    ) == ("ok", True)
    assert ours == {"A": 1, "NESTED": {"x": "y"}}


@pytest.mark.parametrize(
    ("name", "silent"),
    [
        ("missing.json", False),
        ("missing.json", True),
        ("subdir", True),
        ("subdir", False),
        ("afile.txt/inner.json", True),
        ("afile.txt/inner.json", False),
        ("bad.json", True),
    ],
)
def test_from_file_errors_match_flask(tmp_path, name, silent):
    (tmp_path / "subdir").mkdir()
    (tmp_path / "afile.txt").write_text("x")
    (tmp_path / "bad.json").write_text("{")
    ours, theirs = both(tmp_path)
    same(ours, theirs, lambda c: c.from_file(name, json.load, silent=silent))


def test_from_file_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="Could not load the configuration"):
        Config(tmp_path).from_file("nope.json", json.load)


# -- get_namespace ---------------------------------------------------------------


def test_get_namespace_matches_flask():
    data = {
        "IMAGE_STORE_TYPE": "fs",
        "IMAGE_STORE_PATH": "/var",
        "IMAGE_STORE_Base_URL": "http://x",
        "IMAGE_STORETYPE": "no",
        "OTHER": 1,
    }
    ours, theirs = both(".", data)
    for args in (
        ("IMAGE_STORE_",),
        ("IMAGE_STORE_", False),
        ("IMAGE_STORE_", True, False),
        ("IMAGE_STORE_", False, False),
        ("",),
        ("NOPE",),
    ):
        assert ours.get_namespace(*args) == theirs.get_namespace(*args)
    assert ours.get_namespace("IMAGE_STORE_") == {
        "type": "fs",
        "path": "/var",
        "base_url": "http://x",
    }


def test_get_namespace_skips_non_string_keys():
    config = Config(".", {"A_X": 1})
    config[1] = 2
    assert config.get_namespace("A_") == {"x": 1}


@given(
    st.dictionaries(st.text(alphabet="AB_ab", max_size=5), st.integers(), max_size=8),
    st.text(alphabet="AB_a", max_size=3),
    st.booleans(),
    st.booleans(),
)
def test_get_namespace_hypothesis(data, namespace, lowercase, trim):
    ours, theirs = both(".", data)
    assert ours.get_namespace(namespace, lowercase, trim) == theirs.get_namespace(
        namespace, lowercase, trim
    )


# -- ConfigAttribute -------------------------------------------------------------


class _App:
    debug = ConfigAttribute[bool]("DEBUG")
    lifetime = ConfigAttribute("LIFETIME", get_converter=int)

    def __init__(self):
        self.config = Config(".", {"DEBUG": False, "LIFETIME": "30"})


def test_config_attribute_forwards_to_config():
    app = _App()
    assert app.debug is False
    app.debug = True
    assert app.config["DEBUG"] is True
    assert app.debug is True
    assert app.lifetime == 30
    app.lifetime = "45"
    assert app.config["LIFETIME"] == "45"
    assert app.lifetime == 45
    del app.config["DEBUG"]
    with pytest.raises(KeyError):
        _ = app.debug


def test_config_attribute_on_class_returns_descriptor():
    descriptor = _App.__dict__["lifetime"]
    assert _App.lifetime is descriptor
    assert descriptor.__name__ == "LIFETIME"
    assert descriptor.get_converter is int


def test_config_attribute_matches_flask():
    class FlaskApp:
        lifetime = flask.config.ConfigAttribute("LIFETIME", get_converter=int)

        def __init__(self):
            self.config = flask.config.Config(".", {"LIFETIME": "7"})

    ours, theirs = _App(), FlaskApp()
    ours.config["LIFETIME"] = "7"
    assert ours.lifetime == theirs.lifetime == 7
