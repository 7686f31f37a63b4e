"""Tests for erlen.cli: app discovery, the erlen command and its commands."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen import Blueprint
from erlen import cli as erlen_cli
from erlen import current_app
from erlen import Flask
from erlen import serving
from erlen.cli import AppGroup
from erlen.cli import CertParamType
from erlen.cli import ErlenGroup
from erlen.cli import find_app_by_string
from erlen.cli import find_best_app
from erlen.cli import FlaskCliRunner
from erlen.cli import FlaskGroup
from erlen.cli import load_dotenv
from erlen.cli import locate_app
from erlen.cli import NoAppException
from erlen.cli import prepare_import
from erlen.cli import ScriptInfo
from erlen.cli import SeparatedPathType
from erlen.cli import with_appcontext

APPS = Path(__file__).parent / "cli_apps"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch, tmp_path):
    """Restore sys.path, sys.modules and the environment; run in a temp dir."""
    for key in list(os.environ):
        if key.startswith(("ERLEN_", "FLASK_")) or key == "PYTHONSTARTUP":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    path = list(sys.path)
    modules = set(sys.modules)
    environ = dict(os.environ)
    yield
    # The command sets ERLEN_DEBUG, ERLEN_RUN_FROM_CLI and dotenv values.
    os.environ.clear()
    os.environ.update(environ)
    from erlen.globals import _cv_app

    assert _cv_app.get(None) is None, "an app context leaked"
    sys.path[:] = path
    # Forget the fixture apps, but not library modules imported on the way
    # (a second copy of those would break isinstance checks).
    for name in set(sys.modules) - modules:
        filename = getattr(sys.modules[name], "__file__", None) or ""
        if name.startswith("cliapp") or filename.startswith((str(tmp_path), str(APPS))):
            del sys.modules[name]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def served(monkeypatch):
    """Replace the dev server with a recorder of run_simple's arguments."""
    calls = []

    def fake_run_simple(host, port, app, **kwargs):
        calls.append({"host": host, "port": port, "app": app, **kwargs})

    monkeypatch.setattr(serving, "run_simple", fake_run_simple)
    return calls


def module(name="mod", **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


# -- find_best_app ------------------------------------------------------------


@pytest.mark.parametrize("name", ["app", "application"])
def test_find_best_app_by_conventional_name(name):
    app = Flask("x")
    other = Flask("y")
    assert find_best_app(module(**{name: app, "other": other})) is app


def test_find_best_app_single_instance_under_any_name():
    app = Flask("x")
    assert find_best_app(module(myapp=app, app="not an app")) is app


def test_find_best_app_many_instances_is_an_error():
    with pytest.raises(NoAppException, match=r"Found 2 erlen apps in module 'mod'"):
        find_best_app(module(a=Flask("a"), b=Flask("b")))


@pytest.mark.parametrize("name", ["create_app", "make_app"])
def test_find_best_app_calls_factory(name):
    app = Flask("x")
    assert find_best_app(module(**{name: lambda: app})) is app


def test_find_best_app_factory_returning_other_values_is_skipped():
    app = Flask("x")
    mod = module(create_app=lambda: None, make_app=lambda: app)
    assert find_best_app(mod) is app


def test_find_best_app_factory_needing_arguments():
    def create_app(config):
        return Flask("x")

    with pytest.raises(NoAppException, match=r"'mod:create_app\(args\)'"):
        find_best_app(module(create_app=create_app))


def test_find_best_app_factory_type_error_inside_is_not_masked():
    def create_app():
        raise TypeError("inside the factory")

    with pytest.raises(TypeError, match="inside the factory"):
        find_best_app(module(create_app=create_app))


def test_find_best_app_names_what_was_tried():
    with pytest.raises(NoAppException) as info:
        find_best_app(module(create_app="not a function"))
    message = str(info.value)
    for tried in ("'app'", "'application'", "single app", "'create_app'", "make_app"):
        assert tried in message


# -- find_app_by_string -------------------------------------------------------


def test_find_app_by_string_attribute():
    app = Flask("x")
    assert find_app_by_string(module(web=app), "web") is app


def test_find_app_by_string_factory_with_literal_arguments():
    seen = {}

    def factory(a, b, *, c=None, **rest):
        seen.update(a=a, b=b, c=c, rest=rest)
        return Flask("x")

    mod = module(factory=factory)
    app = find_app_by_string(mod, " factory('dev', [1, 2], c={'k': None}, d=True) ")
    assert isinstance(app, Flask)
    assert seen == {"a": "dev", "b": [1, 2], "c": {"k": None}, "rest": {"d": True}}


def test_find_app_by_string_ignores_double_star_arguments():
    mod = module(factory=lambda: Flask("x"))
    assert isinstance(find_app_by_string(mod, "factory(**{})"), Flask)


@pytest.mark.parametrize(
    ("app_name", "message"),
    [
        ("1 +", "Failed to parse '1 \\+' as an attribute name"),
        ("a + b", "Failed to parse 'a \\+ b' as an attribute name"),
        ("obj.factory()", "must be a simple name"),
        ("factory(os.name)", "literal values"),
        ("factory(x=os.name)", "literal values"),
        ("missing", "Module 'mod' has no attribute 'missing'"),
        ("factory(1, 2, 3)", "could not be called with the given arguments"),
        ("value", "gave a int, not an erlen app"),
    ],
)
def test_find_app_by_string_errors(app_name, message):
    mod = module(factory=lambda: Flask("x"), value=3)
    with pytest.raises(NoAppException, match=message):
        find_app_by_string(mod, app_name)


def test_find_app_by_string_type_error_inside_factory_is_not_masked():
    def factory():
        raise TypeError("boom")

    with pytest.raises(TypeError, match="boom"):
        find_app_by_string(module(factory=factory), "factory()")


# -- prepare_import and locate_app --------------------------------------------


def test_prepare_import_file_path_adds_its_folder(tmp_path):
    (tmp_path / "proj").mkdir()
    target = tmp_path / "proj" / "webapp.py"
    target.write_text("")
    assert prepare_import(str(target)) == "webapp"
    assert sys.path[0] == str(tmp_path / "proj")
    # The same folder is not added twice.
    prepare_import(str(target))
    assert sys.path.count(str(tmp_path / "proj")) == 1


def test_prepare_import_walks_out_of_packages(tmp_path):
    pkg = tmp_path / "outer" / "inner"
    pkg.mkdir(parents=True)
    (tmp_path / "outer" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "views.py").write_text("")
    assert prepare_import(str(pkg / "views.py")) == "outer.inner.views"
    assert prepare_import(str(pkg / "__init__.py")) == "outer.inner"
    assert prepare_import(str(pkg)) == "outer.inner"
    assert sys.path[0] == str(tmp_path)


def test_prepare_import_refuses_to_shadow_a_loaded_module(tmp_path):
    import code  # noqa: F401  (the standard library's, already loaded)

    (tmp_path / "code.py").write_text("app = 1\n")
    with pytest.raises(NoAppException, match="'code'.*already loaded.*Rename"):
        prepare_import(str(tmp_path / "code.py"))


def test_prepare_import_refuses_a_module_without_location(tmp_path):
    (tmp_path / "cliapp_nofile.py").write_text("")
    sys.modules["cliapp_nofile"] = types.ModuleType("cliapp_nofile")
    with pytest.raises(NoAppException, match="already loaded"):
        prepare_import(str(tmp_path / "cliapp_nofile.py"))


def test_prepare_import_accepts_the_module_already_loaded_from_there(tmp_path):
    (tmp_path / "cliapp_again.py").write_text("")
    (tmp_path / "cliapp_dir").mkdir()
    (tmp_path / "cliapp_dir" / "__init__.py").write_text("")
    prepare_import(str(tmp_path / "cliapp_again.py"))
    __import__("cliapp_again")
    __import__("cliapp_dir")
    assert prepare_import(str(tmp_path / "cliapp_again.py")) == "cliapp_again"
    assert prepare_import(str(tmp_path / "cliapp_dir")) == "cliapp_dir"


def test_locate_app_module_not_found():
    with pytest.raises(NoAppException, match="Could not import 'cliapp_nowhere'"):
        locate_app("cliapp_nowhere", None)
    assert locate_app("cliapp_nowhere", None, raise_if_not_found=False) is None


def test_locate_app_missing_submodule_of_existing_package():
    prepare_import(str(APPS / "cliapp_pkg"))
    with pytest.raises(NoAppException, match="Could not import 'cliapp_pkg.nope'"):
        locate_app("cliapp_pkg.nope", None)


def test_locate_app_import_error_inside_module_keeps_its_traceback():
    prepare_import(str(APPS / "cliapp_importerror.py"))
    with pytest.raises(NoAppException) as info:
        locate_app("cliapp_importerror", None, raise_if_not_found=False)
    message = str(info.value)
    assert "While importing 'cliapp_importerror', an ImportError was raised" in message
    assert "Traceback (most recent call last)" in message
    assert "cliapp_importerror.py" in message
    assert "No module named 'cliapp_does_not_exist'" in message


def test_locate_app_other_import_error_inside_module(tmp_path):
    (tmp_path / "cliapp_badname.py").write_text("from os import not_a_name\n")
    prepare_import(str(tmp_path / "cliapp_badname.py"))
    with pytest.raises(NoAppException, match="cannot import name 'not_a_name'"):
        locate_app("cliapp_badname", None)


def test_locate_app_error_raised_by_the_module_propagates(tmp_path):
    (tmp_path / "cliapp_boom.py").write_text("raise RuntimeError('module boom')\n")
    prepare_import(str(tmp_path / "cliapp_boom.py"))
    with pytest.raises(RuntimeError, match="module boom"):
        locate_app("cliapp_boom", None)


# -- ScriptInfo ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("import_path", "name"),
    [
        (str(APPS / "cliapp_simple.py"), "cliapp_simple"),
        (str(APPS / "cliapp_simple.py") + ":app", "cliapp_simple"),
        (str(APPS / "cliapp_factory.py"), "cliapp_factory_default"),
        (
            str(APPS / "cliapp_factory.py") + ":create_app('x', debug=True)",
            "cliapp_factory_x",
        ),
        (str(APPS / "cliapp_pkg"), "cliapp_pkg"),
        (str(APPS / "cliapp_pkg" / "__init__.py"), "cliapp_pkg"),
        (str(APPS / "cliapp_pkg" / "inner.py"), "cliapp_pkg.inner"),
        (str(APPS / "cliapp_pkg" / "inner.py") + ":inner_app", "cliapp_pkg.inner"),
    ],
)
def test_script_info_import_paths(import_path, name):
    app = ScriptInfo(app_import_path=import_path).load_app()
    assert app.name == name


def test_script_info_dotted_module_name(monkeypatch):
    monkeypatch.chdir(APPS)
    assert ScriptInfo(app_import_path="cliapp_pkg.inner").load_app().name == (
        "cliapp_pkg.inner"
    )
    info = ScriptInfo(app_import_path="cliapp_simple:app")
    assert info.load_app().name == "cliapp_simple"
    # Loaded once.
    assert info.load_app() is info.load_app()


def test_script_info_create_app_and_debug_flag(monkeypatch):
    app = Flask("made")
    other = Flask("other")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert ScriptInfo(create_app=lambda: app).load_app() is app
    assert app.debug is True
    ScriptInfo(create_app=lambda: other, set_debug_flag=False).load_app()
    assert other.debug is False


@pytest.mark.parametrize("files", [["wsgi.py"], ["app.py"], ["wsgi.py", "app.py"]])
def test_script_info_default_files(tmp_path, files):
    for filename in files:
        stem = filename[:-3]
        (tmp_path / filename).write_text(
            f"from erlen import Flask\napplication = Flask('{stem}_default')\n"
        )
    app = ScriptInfo().load_app()
    assert app.name == f"{files[0][:-3]}_default"


def test_script_info_default_file_without_app_is_an_error(tmp_path):
    # As in Flask: a wsgi.py without an app is reported, not skipped.
    (tmp_path / "wsgi.py").write_text("x = 1\n")
    (tmp_path / "app.py").write_text("from erlen import Flask\nweb = Flask('a')\n")
    with pytest.raises(NoAppException, match="in module 'wsgi'"):
        ScriptInfo().load_app()


def test_script_info_nothing_found_names_what_was_tried():
    with pytest.raises(NoAppException) as info:
        ScriptInfo().load_app()
    message = str(info.value)
    for tried in ("'--app'", "ERLEN_APP", "FLASK_APP", "'wsgi.py'", "'app.py'"):
        assert tried in message
    assert os.getcwd() in message


def test_script_info_dotenv_defaults_follow_skip_variable(monkeypatch):
    assert ScriptInfo().load_dotenv_defaults is True
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    assert ScriptInfo().load_dotenv_defaults is False


# -- the erlen command: options and environment -----------------------------


def test_run_with_app_option(runner, served):
    path = str(APPS / "cliapp_simple.py")
    result = runner.invoke(erlen_cli.cli, ["--app", path, "run"])
    assert result.exit_code == 0, result.output
    assert f" * Serving erlen app '{path}'" in result.output
    assert " * Debug mode: off" in result.output
    (call,) = served
    assert call["app"].name == "cliapp_simple"
    assert (call["host"], call["port"], call["use_reloader"]) == (
        "127.0.0.1",
        5000,
        False,
    )
    assert call["ssl_certfile"] is call["ssl_keyfile"] is call["ssl_context"] is None
    assert os.environ["ERLEN_RUN_FROM_CLI"] == "true"


def test_run_options(runner, served, tmp_path):
    extra = tmp_path / "settings.toml"
    extra.write_text("")
    args = [
        "-A", str(APPS / "cliapp_simple.py"), "--debug", "run", "-h", "0.0.0.0",
        "-p", "8123", "--no-reload", "--debugger", "--without-threads",
        "--extra-files", str(extra), "--exclude-patterns", f"*.tmp{os.pathsep}*~",
    ]  # fmt: skip
    result = runner.invoke(erlen_cli.cli, args)
    assert result.exit_code == 0, result.output
    assert " * Debug mode: on" in result.output
    (call,) = served
    assert (call["host"], call["port"], call["use_reloader"]) == (
        "0.0.0.0",
        8123,
        False,
    )
    assert call["extra_files"] == [str(extra)]
    assert call["exclude_patterns"] == ["*.tmp", "*~"]
    assert call["app"].debug is True


def test_debug_turns_the_reloader_on(runner, served):
    result = runner.invoke(
        erlen_cli.cli, ["-A", str(APPS / "cliapp_simple.py"), "--debug", "run"]
    )
    assert result.exit_code == 0, result.output
    assert served[0]["use_reloader"] is True
    assert served[0]["use_debugger"] is True
    assert os.environ["ERLEN_DEBUG"] == os.environ["FLASK_DEBUG"] == "1"


def test_debugger_option_overrides_debug_mode(runner, served):
    app_path = str(APPS / "cliapp_simple.py")
    result = runner.invoke(
        erlen_cli.cli, ["-A", app_path, "--debug", "run", "--no-debugger"]
    )
    assert result.exit_code == 0, result.output
    assert served[0]["use_debugger"] is False


def test_no_debug_overrides_the_environment(runner, served, monkeypatch):
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    result = runner.invoke(
        erlen_cli.cli, ["-A", str(APPS / "cliapp_simple.py"), "--no-debug", "run"]
    )
    assert result.exit_code == 0, result.output
    assert served[0]["app"].debug is False
    assert os.environ["ERLEN_DEBUG"] == "0"


@pytest.mark.parametrize("prefix", ["ERLEN", "FLASK"])
def test_options_from_environment(runner, served, monkeypatch, prefix):
    monkeypatch.setenv(f"{prefix}_APP", str(APPS / "cliapp_simple.py"))
    monkeypatch.setenv(f"{prefix}_DEBUG", "true")
    monkeypatch.setenv(f"{prefix}_RUN_HOST", "127.0.0.2")
    monkeypatch.setenv(f"{prefix}_RUN_PORT", "8001")
    monkeypatch.setenv(f"{prefix}_RUN_RELOAD", "false")
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 0, result.output
    (call,) = served
    assert (call["host"], call["port"], call["use_reloader"]) == (
        "127.0.0.2",
        8001,
        False,
    )
    assert call["app"].debug is True


def test_erlen_variables_win_over_flask_ones(runner, served, monkeypatch):
    monkeypatch.setenv("ERLEN_APP", str(APPS / "cliapp_simple.py"))
    monkeypatch.setenv("FLASK_APP", str(APPS / "cliapp_factory.py"))
    monkeypatch.setenv("ERLEN_RUN_PORT", "8002")
    monkeypatch.setenv("FLASK_RUN_PORT", "8003")
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 0, result.output
    assert served[0]["port"] == 8002
    assert served[0]["app"].name == "cliapp_simple"


def test_command_line_wins_over_environment(runner, served, monkeypatch):
    monkeypatch.setenv("FLASK_APP", str(APPS / "cliapp_factory.py"))
    monkeypatch.setenv("FLASK_RUN_PORT", "8003")
    result = runner.invoke(
        erlen_cli.cli, ["--app", str(APPS / "cliapp_simple.py"), "run", "-p", "8004"]
    )
    assert result.exit_code == 0, result.output
    assert served[0]["port"] == 8004
    assert served[0]["app"].name == "cliapp_simple"


def test_version_option(runner):
    result = runner.invoke(erlen_cli.cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("Python 3.")
    assert "\nerlen 0." in result.output


def test_python_dash_m_erlen_version():
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "erlen 0." in proc.stdout


def test_missing_app_for_run(runner, served):
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 2
    assert "Could not locate an erlen app" in result.output
    assert not served


def test_broken_app_for_run_shows_its_error(runner, served, tmp_path):
    (tmp_path / "app.py").write_text("raise RuntimeError('broken app')\n")
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert not served


def test_help_lists_app_commands(runner):
    result = runner.invoke(
        erlen_cli.cli, ["-A", str(APPS / "cliapp_commands.py"), "--help"]
    )
    assert result.exit_code == 0
    for name in ("hello", "routes", "run", "shell", "tools"):
        assert f"  {name}" in result.output


@pytest.mark.parametrize("args", [[], ["--help"]])
def test_bare_help_reads_app_from_environment(runner, monkeypatch, args):
    monkeypatch.setenv("ERLEN_APP", str(APPS / "cliapp_commands.py"))
    result = runner.invoke(erlen_cli.cli, args)
    assert "  hello" in result.output
    assert "Usage: erlen" in result.output


def test_help_shows_load_errors(runner, tmp_path):
    result = runner.invoke(erlen_cli.cli, ["--help"])
    assert result.exit_code == 0
    assert "Error: Could not locate an erlen app" in result.output
    (tmp_path / "app.py").write_text("raise RuntimeError('broken app')\n")
    result = runner.invoke(erlen_cli.cli, ["--help"])
    assert result.exit_code == 0
    assert "RuntimeError: broken app" in result.output
    assert "Traceback" in result.output


def test_unknown_command_shows_load_error(runner):
    result = runner.invoke(erlen_cli.cli, ["nope"])
    assert result.exit_code == 2
    assert "Error: Could not locate an erlen app" in result.output
    assert "No such command 'nope'" in result.output


# -- dotenv -------------------------------------------------------------------


def write_env(tmp_path):
    (tmp_path / ".flaskenv").write_text(
        "A=flaskenv\nB=flaskenv\nC=flaskenv\nD=flaskenv\n"
    )
    (tmp_path / ".env").write_text("B=env\nC=env\nD=env\n")
    (tmp_path / "custom.env").write_text("C=custom\nD=custom\nE\n")


def test_load_dotenv_precedence(tmp_path, monkeypatch):
    write_env(tmp_path)
    monkeypatch.setenv("D", "real")
    for key in "ABCE":
        monkeypatch.delenv(key, raising=False)
    assert load_dotenv(tmp_path / "custom.env") is True
    assert [os.environ.get(k) for k in "ABCDE"] == [
        "flaskenv",
        "env",
        "custom",
        "real",
        None,
    ]


def test_load_dotenv_searches_parent_folders(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("CLI_UP=found\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.delenv("CLI_UP", raising=False)
    assert load_dotenv() is True
    assert os.environ["CLI_UP"] == "found"


def test_load_dotenv_without_files_or_defaults(tmp_path, monkeypatch):
    write_env(tmp_path)
    monkeypatch.delenv("A", raising=False)
    assert load_dotenv("missing.env", load_defaults=False) is False
    assert "A" not in os.environ


def test_env_file_option_and_dotenv_files(runner, served, tmp_path, monkeypatch):
    write_env(tmp_path)
    for key in "ABCD":
        monkeypatch.delenv(key, raising=False)
    (tmp_path / ".flaskenv").write_text(
        f"FLASK_APP={APPS / 'cliapp_simple.py'}\nFLASK_RUN_PORT=8005\nA=flaskenv\n"
    )
    result = runner.invoke(erlen_cli.cli, ["-e", "custom.env", "run"])
    assert result.exit_code == 0, result.output
    assert served[0]["port"] == 8005
    assert (os.environ["A"], os.environ["C"]) == ("flaskenv", "custom")


@pytest.mark.parametrize("variable", ["ERLEN_SKIP_DOTENV", "FLASK_SKIP_DOTENV"])
def test_skip_dotenv(runner, served, tmp_path, monkeypatch, variable):
    (tmp_path / ".env").write_text(f"FLASK_APP={APPS / 'cliapp_simple.py'}\n")
    monkeypatch.setenv(variable, "1")
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 2
    assert "Could not locate an erlen app" in result.output


def test_group_without_dotenv_still_loads_an_env_file(runner, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("CLI_DEFAULT=1\n")
    (tmp_path / "x.env").write_text("CLI_GIVEN=1\n")
    monkeypatch.delenv("CLI_DEFAULT", raising=False)
    monkeypatch.delenv("CLI_GIVEN", raising=False)
    group = ErlenGroup(load_dotenv=False, create_app=lambda: Flask("x"))

    @group.command()
    def show():
        click.echo(f"{os.environ.get('CLI_DEFAULT')} {os.environ.get('CLI_GIVEN')}")

    assert runner.invoke(group, ["show"]).output == "None None\n"
    assert runner.invoke(group, ["-e", "x.env", "show"]).output == "None 1\n"


def test_without_python_dotenv(runner, served, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dotenv", None)
    (tmp_path / ".env").write_text("X=1\n")
    (tmp_path / "app.py").write_text("from erlen import Flask\napp = Flask('a')\n")
    assert load_dotenv() is False
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 0
    assert "Tip: there are .env files present. Install python-dotenv" in result.output
    result = runner.invoke(erlen_cli.cli, ["-e", ".env", "run"])
    assert result.exit_code == 2
    assert "python-dotenv must be installed" in result.output
    (tmp_path / ".env").unlink()
    assert load_dotenv() is False
    assert load_dotenv("given.env") is False


# -- run: certificates and the reloader child ----------------------------------


def test_cert_and_key_files(runner, served, tmp_path):
    (tmp_path / "c.pem").write_text("")
    (tmp_path / "k.pem").write_text("")
    args = ["-A", str(APPS / "cliapp_simple.py"), "run", "--cert", "c.pem"]
    result = runner.invoke(erlen_cli.cli, [*args, "--key", "k.pem"])
    assert result.exit_code == 0, result.output
    assert served[0]["ssl_certfile"] == str(tmp_path / "c.pem")
    assert served[0]["ssl_keyfile"] == str(tmp_path / "k.pem")
    result = runner.invoke(erlen_cli.cli, args)
    assert result.exit_code == 2
    assert 'Required when using "--cert"' in result.output
    result = runner.invoke(erlen_cli.cli, [*args[:3], "--key", "k.pem"])
    assert '"--cert" must also be specified' in result.output


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)


def test_cert_ssl_context_import(runner, served, tmp_path):
    args = [
        "-A",
        str(APPS / "cliapp_simple.py"),
        "run",
        "--cert",
        "tests.test_cli:context",
    ]
    result = runner.invoke(erlen_cli.cli, args)
    assert result.exit_code == 0, result.output
    assert served[0]["ssl_context"] is context
    (tmp_path / "k.pem").write_text("")
    result = runner.invoke(erlen_cli.cli, [*args, "--key", "k.pem"])
    assert 'SSLContext object, "--key" is not used' in result.output


def test_cert_adhoc(runner, served, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "cryptography", None)
    args = ["-A", str(APPS / "cliapp_simple.py"), "run", "--cert", "adhoc"]
    result = runner.invoke(erlen_cli.cli, args)
    assert result.exit_code == 2
    assert "Ad-hoc certificates need the cryptography library" in result.output
    # With cryptography present, 'adhoc' reaches the server glue.
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    made = []
    monkeypatch.setattr(
        serving, "make_adhoc_ssl_files", lambda host: made.append(host) or ("c", "k")
    )
    result = runner.invoke(erlen_cli.cli, args)
    assert result.exit_code == 0, result.output
    assert (served[0]["ssl_certfile"], served[0]["ssl_keyfile"], made) == (
        "c",
        "k",
        ["127.0.0.1"],
    )
    (tmp_path / "k.pem").write_text("")
    result = runner.invoke(erlen_cli.cli, [*args, "--key", "k.pem"])
    assert 'When "--cert" is "adhoc", "--key" is not used' in result.output


@pytest.mark.parametrize(
    "value", ["not-a-file", "tests.test_cli:APPS", "nomodule_x:thing", "plain"]
)
def test_cert_bad_values(value):
    with pytest.raises(click.BadParameter, match="does not exist"):
        CertParamType().convert(value, None, None)


def test_separated_path_type(tmp_path):
    (tmp_path / "a").write_text("")
    value = f"a{os.pathsep}b"
    assert SeparatedPathType().convert(value, None, None) == ["a", "b"]
    with pytest.raises(click.BadParameter):
        SeparatedPathType(exists=True).convert(value, None, None)


def test_run_in_reloader_child_serves_the_load_error(
    runner, served, tmp_path, monkeypatch
):
    monkeypatch.setenv("ERLEN_RUN_MAIN", "true")
    (tmp_path / "app.py").write_text("def broken(:\n")
    result = runner.invoke(erlen_cli.cli, ["run"])
    assert result.exit_code == 0, result.output
    # No banner from a reloaded child: the parent printed it.
    assert "Serving erlen app" not in result.output
    error_app = served[0]["app"]
    assert not isinstance(error_app, Flask)
    status, headers, body = call_asgi(error_app)
    assert status == 500
    assert headers[0] == (b"content-type", b"text/plain; charset=utf-8")
    assert b"erlen could not load the app" in body
    assert b"SyntaxError" in body


def call_asgi(app, scope_type="http"):
    import asyncio

    sent = []
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": scope_type}, receive, send))
    if scope_type != "http":
        return sent
    start, body = sent
    return start["status"], start["headers"], body["body"]


def test_error_app_lifespan_and_websocket():
    app = erlen_cli._error_app(ValueError("x"))
    assert call_asgi(app, "lifespan") == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert call_asgi(app, "websocket") == []


def test_app_run_uses_serving(served, monkeypatch, tmp_path, capsys):
    app = Flask("runner")
    (tmp_path / ".env").write_text("FLASK_DEBUG=1\n")
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app.run(port=8006, use_debugger=True, threaded=True, extra_files=["x"])
    (call,) = served
    assert (call["host"], call["port"], call["app"]) == ("127.0.0.1", 8006, app)
    assert call["use_reloader"] is True
    assert call["extra_files"] == ["x"]
    assert call["use_debugger"] is True
    assert "threaded" not in call
    assert "Serving erlen app 'runner'" in capsys.readouterr().out
    served.clear()
    app.run(debug=False, load_dotenv=False)
    assert served[0]["use_reloader"] is False
    assert served[0]["use_debugger"] is False


# -- routes -------------------------------------------------------------------


def build_routes(flask_module, **kwargs):
    app = flask_module.Flask("routes_app", **kwargs)

    @app.route("/")
    def index():
        return ""

    @app.route("/post/<int:id>", methods=["POST", "PUT"])
    def edit(id):
        return ""

    @app.route("/a-very-long-rule/for/alignment", endpoint="zz")
    def last():
        return ""

    bp = flask_module.Blueprint("blog", "routes_bp", url_prefix="/blog")
    bp.add_url_rule("/feed", "feed", lambda: "", methods=["GET", "DELETE"])
    app.register_blueprint(bp)
    return app


def flask_routes(app, args):
    from flask.cli import routes_command as flask_routes_command
    from flask.cli import ScriptInfo as FlaskScriptInfo

    result = CliRunner().invoke(
        flask_routes_command, args, obj=FlaskScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 0, result.output
    return result.output


ROUTE_ARGS = [
    [],
    ["--sort", "rule"],
    ["-s", "methods"],
    ["-s", "match"],
    ["--all-methods"],
    ["-s", "endpoint", "--all-methods"],
]


@pytest.mark.parametrize("args", ROUTE_ARGS)
def test_routes_match_flask(args):
    import flask

    app = build_routes(sys.modules["erlen"])
    result = app.test_cli_runner().invoke(erlen_cli.routes_command, args)
    assert result.exit_code == 0, result.output
    assert result.output == flask_routes(build_routes(flask), args)


@pytest.mark.parametrize("args", [[], ["-s", "domain"], ["--all-methods"]])
def test_routes_subdomain_column_matches_flask(args):
    import flask

    apps = []
    for mod in (sys.modules["erlen"], flask):
        app = build_routes(mod, subdomain_matching=True)
        app.config["SERVER_NAME"] = "example.test"
        app.add_url_rule("/", "api_root", lambda: "", subdomain="api")
        apps.append(app)
    result = apps[0].test_cli_runner().invoke(erlen_cli.routes_command, args)
    assert "Subdomain" in result.output
    assert result.output == flask_routes(apps[1], args)


def test_routes_host_column_matches_flask():
    import flask

    apps = []
    for mod in (sys.modules["erlen"], flask):
        app = mod.Flask("hosts", host_matching=True, static_host="static.test")
        app.add_url_rule("/", "home", lambda: "", host="www.test")
        app.add_url_rule("/api", "api", lambda: "", host="api.test")
        apps.append(app)
    result = (
        apps[0].test_cli_runner().invoke(erlen_cli.routes_command, ["-s", "domain"])
    )
    assert "Host" in result.output
    assert result.output == flask_routes(apps[1], ["-s", "domain"])


def test_routes_without_routes():
    app = Flask("empty", static_folder=None)
    result = app.test_cli_runner().invoke(erlen_cli.routes_command)
    assert result.output == "No routes were registered.\n"


def test_routes_through_the_command(runner):
    result = runner.invoke(
        erlen_cli.cli, ["-A", str(APPS / "cliapp_simple.py"), "routes"]
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert lines[2].split() == ["index", "GET", "/"]


# -- shell --------------------------------------------------------------------


def test_shell(monkeypatch, tmp_path):
    app = Flask("shell_app")

    @app.shell_context_processor
    def extra():
        return {"answer": 42, "current_app_name": lambda: current_app.name}

    startup = tmp_path / "startup.py"
    startup.write_text("from_startup = 'yes'\nanswer = 0\n")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    hooked = []
    monkeypatch.setattr(
        sys, "__interactivehook__", lambda: hooked.append(1), raising=False
    )
    completers = []
    import readline

    monkeypatch.setattr(readline, "set_completer", completers.append)
    code_in = "print(app.name, answer, from_startup)\nprint(current_app_name())\n"
    result = app.test_cli_runner().invoke(erlen_cli.shell_command, input=code_in)
    assert result.exit_code == 0, result.output
    assert f"App: shell_app\nInstance: {app.instance_path}" in result.output
    assert "shell_app 42 yes\n" in result.output
    assert ">>> shell_app\n" in result.output
    assert hooked == [1]
    # (Importing rlcompleter installs a default completer first.)
    assert completers[-1]("answ", 0) == "answer"


def test_shell_without_readline_or_hook(monkeypatch):
    app = Flask("plain_shell")
    monkeypatch.setitem(sys.modules, "readline", None)
    monkeypatch.setattr(sys, "__interactivehook__", lambda: None, raising=False)
    result = app.test_cli_runner().invoke(
        erlen_cli.shell_command, input="print(1 + 1)\n"
    )
    assert result.exit_code == 0
    assert "\n2\n" in result.output or ">>> 2" in result.output
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    monkeypatch.setenv("PYTHONSTARTUP", "does-not-exist.py")
    result = app.test_cli_runner().invoke(erlen_cli.shell_command, input="print(app)\n")
    assert "<Flask 'plain_shell'>" in result.output


# -- custom commands ----------------------------------------------------------


def test_app_cli_commands_run_in_app_context():
    app = Flask("cmds")

    @app.cli.command()
    def ctx():
        click.echo(current_app.name)

    @app.cli.command(with_appcontext=False)
    def bare():
        from erlen import has_app_context

        click.echo(str(has_app_context()))

    @app.cli.group()
    def db():
        pass

    @db.command()
    def init():
        click.echo(f"init {current_app.name}")

    assert isinstance(app.cli, AppGroup)
    assert isinstance(db, AppGroup)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ctx"]).output == "cmds\n"
    assert runner.invoke(args=["bare"]).output == "False\n"
    assert runner.invoke(args=["db", "init"]).output == "init cmds\n"


def test_app_commands_through_erlen(runner):
    path = str(APPS / "cliapp_commands.py")
    result = runner.invoke(erlen_cli.cli, ["-A", path, "hello", "--name", "you"])
    assert result.output == "hello you from cliapp_commands\n"
    result = runner.invoke(erlen_cli.cli, ["-A", path, "tools", "sync"])
    assert result.output == "synced cliapp_commands\n"


def test_app_command_options_from_environment(runner, monkeypatch):
    monkeypatch.setenv("ERLEN_HELLO_NAME", "env")
    result = runner.invoke(
        erlen_cli.cli, ["-A", str(APPS / "cliapp_commands.py"), "hello"]
    )
    assert result.output == "hello env from cliapp_commands\n"


def blueprint_app(**options):
    app = Flask("bp_app")
    bp = Blueprint("admin", __name__, **options.pop("bp", {}))

    @bp.cli.command("ping")
    def ping():
        click.echo(f"pong {current_app.name}")

    app.register_blueprint(bp, **options)
    return app


def test_blueprint_cli_group_default_name():
    app = blueprint_app()
    assert (
        app.test_cli_runner().invoke(args=["admin", "ping"]).output == "pong bp_app\n"
    )


def test_blueprint_cli_group_custom_and_none():
    app = blueprint_app(bp={"cli_group": "tools"})
    assert (
        app.test_cli_runner().invoke(args=["tools", "ping"]).output == "pong bp_app\n"
    )
    app = blueprint_app(cli_group=None)
    assert app.test_cli_runner().invoke(args=["ping"]).output == "pong bp_app\n"


def test_with_appcontext_on_a_plain_command():
    app = Flask("plain")

    @click.command()
    @with_appcontext
    def show():
        click.echo(current_app.name)

    assert app.test_cli_runner().invoke(show).output == "plain\n"
    # An app context already pushed is reused.
    with app.app_context():
        assert CliRunner().invoke(show, obj=ScriptInfo()).output == "plain\n"


def test_custom_script_group():
    app = Flask("custom_script")

    @click.group(cls=FlaskGroup, create_app=lambda: app, add_version_option=False)
    def manage():
        """Manage the app."""

    @manage.command()
    def who():
        click.echo(current_app.name)

    assert FlaskGroup is ErlenGroup
    runner = CliRunner()
    assert runner.invoke(manage, ["who"]).output == "custom_script\n"
    result = runner.invoke(manage, ["--version"])
    assert result.exit_code == 2
    result = runner.invoke(manage, ["--help"])
    assert "run" in result.output
    assert "Manage the app." in result.output


def test_nested_group_and_no_default_commands():
    app = Flask("nested")

    @app.cli.command()
    def inner():
        click.echo(current_app.name)

    group = ErlenGroup(add_default_commands=False, create_app=lambda: app)
    outer = click.Group(commands={"app": group})
    runner = CliRunner()
    assert runner.invoke(outer, ["app", "inner"]).output == "nested\n"
    assert runner.invoke(outer, ["app", "run"]).exit_code == 2
    # The app context of an already pushed app is not pushed again.
    with app.app_context():
        assert runner.invoke(outer, ["app", "inner"]).output == "nested\n"


def write_plugin(folder, group, name, target):
    # The folder's name up to the first "-" is the distribution's name.
    dist = folder / f"cliplugin_{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: cliplugin-{name}\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(f"[{group}]\n{name} = {target}\n")


def test_plugin_commands(runner, tmp_path, monkeypatch):
    (tmp_path / "cliplugin_mod.py").write_text(
        "import click\n@click.command()\ndef cmd():\n    click.echo('plugin ran')\n"
    )
    write_plugin(tmp_path, "erlen.commands", "from-erlen", "cliplugin_mod:cmd")
    write_plugin(tmp_path, "flask.commands", "from-flask", "cliplugin_mod:cmd")
    write_plugin(tmp_path, "erlen.commands", "broken", "cliplugin_missing:cmd")
    monkeypatch.syspath_prepend(str(tmp_path))
    group = ErlenGroup(create_app=lambda: Flask("plugged"))
    result = runner.invoke(group, ["from-erlen"])
    assert result.exit_code == 0
    assert "plugin ran" in result.output
    assert "could not load the command 'broken'" in result.output
    result = runner.invoke(group, ["from-flask"])
    assert "plugin ran" in result.output
    result = runner.invoke(group, ["--help"])
    assert "from-erlen" in result.output
    assert "from-flask" in result.output


def test_test_cli_runner_class_override():
    class MyRunner(FlaskCliRunner):
        pass

    app = Flask("override")
    app.test_cli_runner_class = MyRunner
    runner = app.test_cli_runner()
    assert isinstance(runner, MyRunner)
    assert runner.app is app
    obj = ScriptInfo(create_app=lambda: Flask("other"))

    @click.command()
    @with_appcontext
    def name():
        click.echo(current_app.name)

    assert runner.invoke(name, obj=obj).output == "other\n"


def test_group_with_its_own_script_info_and_main(monkeypatch, capsys):
    app = Flask("own_info")
    group = ErlenGroup(context_settings={"obj": ScriptInfo(create_app=lambda: app)})

    @group.command()
    def who():
        click.echo(current_app.name)

    assert CliRunner().invoke(group, ["who"]).output == "own_info\n"
    monkeypatch.setattr(sys, "argv", ["erlen", "--version"])
    with pytest.raises(SystemExit) as info:
        erlen_cli.main()
    assert info.value.code == 0
    assert "erlen 0." in capsys.readouterr().out


def test_python_dash_m_in_process(monkeypatch, capsys):
    import runpy

    monkeypatch.setattr(sys, "argv", ["erlen", "--version"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("erlen", run_name="__main__")
    assert info.value.code == 0
    assert "erlen 0." in capsys.readouterr().out
