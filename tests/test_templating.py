from __future__ import annotations

import asyncio
import logging
import pathlib
import subprocess
import sys
import threading

import flask
import jinja2
import pytest

import erlen
import erlen.templating
from erlen.debughelpers import explain_template_loading_attempts
from erlen.templating import render_template_async
from erlen.templating import render_template_string_async

TEMPLATES = pathlib.Path(__file__).parent / "templates"


def make_app(**kwargs):
    app = erlen.Flask(
        "tpl_unit", root_path=str(TEMPLATES), template_folder="app", **kwargs
    )
    app.config.update(TESTING=True, SECRET_KEY="k")
    return app


def blueprint(name, folder=None):
    return erlen.Blueprint(
        name, __name__, root_path=str(TEMPLATES), template_folder=folder
    )


# -- lazy import ---------------------------------------------------------------


def test_import_erlen_does_not_import_jinja2():
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import erlen, erlen.templating"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = [line for line in out.stderr.splitlines() if "import time:" in line]
    assert any(line.endswith(" erlen.templating") for line in imported)
    assert not [line for line in imported if "jinja2" in line]


def test_jinja2_loads_when_templating_is_first_used():
    code = (
        "import sys, erlen\n"
        "app = erlen.Flask('x')\n"
        "assert 'jinja2' not in sys.modules\n"
        "with app.app_context():\n"
        "    print(erlen.render_template_string('{{ 1 + 1 }}'))\n"
        "assert 'jinja2' in sys.modules\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout == "2\n"


def test_lazy_names_of_the_templating_module():
    from erlen._jinja import DispatchingJinjaLoader
    from erlen._jinja import Environment

    assert erlen.templating.Environment is Environment
    assert erlen.templating.DispatchingJinjaLoader is DispatchingJinjaLoader
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        erlen.templating.nope  # noqa: B018


# -- outside contexts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (erlen.render_template, ("page.html",)),
        (erlen.render_template_string, ("x",)),
        (erlen.stream_template, ("page.html",)),
        (erlen.stream_template_string, ("x",)),
        (erlen.get_template_attribute, ("macros.html", "hello")),
    ],
)
def test_needs_an_app_context(func, args):
    with pytest.raises(
        RuntimeError, match=rf"{func.__name__}\(\) needs an application"
    ):
        func(*args)


def test_app_context_without_request():
    app = make_app()
    with app.app_context():
        erlen.g.who = "me"
        assert erlen.render_template_string("{{ g.who }} {{ request is defined }}") == (
            "me True"
        )
        # The proxy global outside a request raises, as Flask's does.
        with pytest.raises(RuntimeError, match="outside of request context"):
            erlen.render_template_string("{{ request.path }}")
        stream = erlen.stream_template_string("{{ g.who }}{{ 1 }}")
        # No request context: a plain generator, not a context-keeping one.
        assert stream.gi_code.co_name == "generate"
        assert "".join(stream) == "me1"
        hello = erlen.get_template_attribute("macros.html", "hello")
        assert hello("<x>") == "Hello &lt;x&gt;!"
        with pytest.raises(AttributeError):
            erlen.get_template_attribute("macros.html", "missing")


def test_default_processor_outside_contexts():
    assert erlen.templating._default_template_ctx_processor() == {}


# -- environment ---------------------------------------------------------------


def test_environment_class_and_options():
    app = make_app()
    assert erlen.Flask.jinja_environment is erlen.templating.Environment
    env = app.jinja_env
    assert isinstance(env, erlen.templating.Environment)
    assert env.app is app
    assert app.jinja_env is env
    assert isinstance(env.loader, erlen.templating.DispatchingJinjaLoader)
    assert env.globals["config"] is app.config
    assert env.globals["url_for"] == app.url_for
    assert env.policies["json.dumps_function"] == app.json.dumps
    assert env.auto_reload is False


def test_subclass_environment_and_options():
    class MyEnv(erlen.templating.Environment):
        pass

    class MyApp(erlen.Flask):
        jinja_environment = MyEnv
        jinja_options = {
            "autoescape": False,
            "trim_blocks": True,
            "loader": jinja2.DictLoader({"t.html": "{{ v }}\n"}),
        }

    app = MyApp("tpl_unit", root_path=str(TEMPLATES))
    assert type(app.jinja_env) is MyEnv
    with app.app_context():
        assert erlen.render_template("t.html", v="<b>") == "<b>"


def test_instance_environment_class():
    class Other(erlen.templating.Environment):
        pass

    app = make_app()
    app.jinja_environment = Other
    assert type(app.jinja_env) is Other


@pytest.mark.parametrize(
    ("setting", "debug", "expected"),
    [
        (None, False, False),
        (None, True, True),
        (True, False, True),
        (False, True, False),
    ],
)
def test_templates_auto_reload(setting, debug, expected):
    app = make_app()
    app.config.update(TEMPLATES_AUTO_RELOAD=setting, DEBUG=debug)
    assert app.jinja_env.auto_reload is expected


def test_debug_setter_before_the_environment_exists_stays_lazy():
    app = make_app()
    app.debug = True
    assert "jinja_env" not in app.__dict__
    assert app.jinja_env.auto_reload is True


def test_debug_setter_flips_auto_reload():
    app = make_app()
    assert app.jinja_env.auto_reload is False
    app.debug = True
    assert app.jinja_env.auto_reload is True
    app.debug = False
    assert app.jinja_env.auto_reload is False


def test_debug_setter_with_explicit_option_like_flask():
    for fw in (flask, erlen):

        class App(fw.Flask):
            jinja_options = {"auto_reload": False}

        app = App("tpl_unit", root_path=str(TEMPLATES))
        app.debug = True
        assert app.jinja_env.auto_reload is True


def test_debug_setter_leaves_configured_auto_reload():
    app = make_app()
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    app.debug = True
    assert "jinja_env" not in app.__dict__
    assert app.jinja_env.auto_reload is False


def test_auto_reload_picks_up_changed_template(tmp_path):
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "p.txt"
    page.write_text("one")
    app = erlen.Flask("tpl_unit", root_path=str(tmp_path))
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    with app.app_context():
        assert erlen.render_template("p.txt") == "one"
        page.write_text("two!")
        import os

        os.utime(page, (1, 1))
        assert erlen.render_template("p.txt") == "two!"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, True),
        ("a.html", True),
        ("a.htm", True),
        ("a.xml", True),
        ("a.xhtml", True),
        ("a.svg", True),
        ("a.txt", False),
        ("a.html.j2", False),
        ("html", False),
    ],
)
def test_select_jinja_autoescape(name, expected):
    assert make_app().select_jinja_autoescape(name) is expected


def test_environment_keeps_a_given_loader():
    app = make_app()
    loader = jinja2.DictLoader({})
    env = erlen.templating.Environment(app, loader=loader)
    assert env.loader is loader


# -- loader --------------------------------------------------------------------


def test_loader_order_and_listing():
    app = make_app()
    app.register_blueprint(blueprint("a", "bp_a"))
    app.register_blueprint(blueprint("none"))
    app.register_blueprint(blueprint("b", "bp_b"))
    names = app.jinja_env.list_templates()
    assert len(names) == len(set(names))
    assert {"shared.html", "bp_only.html", "b_only.html", "nested/deep.html"} <= set(
        names
    )
    with app.app_context():
        assert erlen.render_template("both_bps.html") == "from bp_a"
        assert erlen.render_template("shared.html") == "app shared"
        with pytest.raises(jinja2.TemplateNotFound) as info:
            erlen.render_template("nope.html")
        assert info.value.name == "nope.html"
        with pytest.raises(jinja2.TemplatesNotFound):
            erlen.render_template(["nope.html", "nope2.html"])


def test_app_without_template_folder():
    app = erlen.Flask("tpl_unit", root_path=str(TEMPLATES), template_folder=None)
    app.register_blueprint(blueprint("b", "bp_b"))
    with app.app_context():
        assert erlen.render_template("b_only.html") == "bp_b only"
    assert app.jinja_env.list_templates() == ["b_only.html", "both_bps.html"] or set(
        app.jinja_env.list_templates()
    ) == {"b_only.html", "both_bps.html"}


def test_render_a_template_object():
    app = make_app()
    with app.app_context():
        template = app.jinja_env.from_string("{{ v }}!")
        assert erlen.render_template(template, v=1) == "1!"
        assert "".join(erlen.stream_template([template], v=2)) == "2!"


# -- EXPLAIN_TEMPLATE_LOADING ------------------------------------------------------


@pytest.fixture
def explained_app():
    app = make_app()
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    bp = blueprint("a", "bp_a")

    @bp.route("/<name>")
    def load(name):
        try:
            return erlen.render_template(name)
        except jinja2.TemplateNotFound:
            return "missing"

    app.register_blueprint(bp, url_prefix="/a")
    app.register_blueprint(blueprint("b", "bp_b"))
    return app


def _log(caplog):
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "tpl_unit")


def test_explain_single_match(explained_app, caplog):
    caplog.set_level(logging.INFO, "tpl_unit")
    with explained_app.app_context():
        assert erlen.render_template("bp_only.html").startswith("bp_a only")
    log = _log(caplog)
    assert "Looking up template 'bp_only.html'" in log
    assert "1: asked the loader of the application 'tpl_unit'" in log
    assert "2: asked the loader of blueprint 'a' (tests.test_templating)" in log
    assert "class: jinja2.loaders.FileSystemLoader" in log
    assert "searchpath:" in log
    assert f"  - {TEMPLATES / 'app'}" in log
    assert "encoding: 'utf-8'" in log
    assert "followlinks: False" in log
    assert log.count("-> not found") == 2
    assert log.count("-> found (") == 1
    assert "Error" not in log
    assert "Warning" not in log


def test_explain_several_matches_from_a_blueprint(explained_app, caplog):
    caplog.set_level(logging.INFO, "tpl_unit")
    r = explained_app.test_client().get("/a/both_bps.html")
    assert r.text == "from bp_a"
    log = _log(caplog)
    assert "Warning: more than one loader has this template" in log
    assert "endpoint of the blueprint 'a'" in log
    assert "Check that" not in log


def test_explain_no_match(explained_app, caplog):
    caplog.set_level(logging.INFO, "tpl_unit")
    with explained_app.app_context():
        with pytest.raises(jinja2.TemplateNotFound):
            erlen.render_template("nope.html")
    log = _log(caplog)
    assert "Error: no loader has this template." in log
    assert "Check that the template is" in log
    assert "endpoint of the blueprint" not in log
    caplog.clear()
    assert explained_app.test_client().get("/a/nope.html").text == "missing"
    assert "endpoint of the blueprint 'a'" in _log(caplog)


def test_explain_describes_loader_attributes(caplog):
    class Loader(jinja2.BaseLoader):
        def __init__(self):
            self._private = "hidden"
            self.names = ["x", "y"]
            self.mixed = ["x", 1]
            self.count = 3
            self.other = object()

    app = make_app()
    caplog.set_level(logging.INFO, "tpl_unit")
    explain_template_loading_attempts(app, "t", [(Loader(), app, ("src", None, None))])
    log = _log(caplog)
    assert "class: tests.test_templating.Loader" in log
    assert "names:\n         - x\n         - y" in log
    assert "count: 3" in log
    assert "found ('<string>')" in log
    for hidden in ("_private", "hidden", "mixed", "other"):
        assert hidden not in log


# -- context processors, filters and registration ----------------------------------


def test_nested_blueprint_processors_like_flask():
    def build(fw):
        app = fw.Flask("tpl_unit")
        parent = fw.Blueprint("parent", __name__)
        child = fw.Blueprint("child", __name__)

        @app.context_processor
        def app_proc():
            return {"a": "app", "b": "app", "c": "app"}

        @parent.context_processor
        def parent_proc():
            return {"b": "parent", "c": "parent"}

        @child.context_processor
        def child_proc():
            return {"c": "child"}

        @child.route("/")
        def index():
            return fw.render_template_string("{{ a }} {{ b }} {{ c }} {{ d }}", d="d")

        parent.register_blueprint(child, url_prefix="/child")
        app.register_blueprint(parent, url_prefix="/parent")
        return app

    expected = build(flask).test_client().get("/parent/child/").text
    assert expected == "app parent child d"
    assert build(erlen).test_client().get("/parent/child/").text == expected


def test_async_context_processor(interface):
    app = make_app()

    @app.context_processor
    async def proc():
        await asyncio.sleep(0)
        return {"x": "async"}

    @app.route("/")
    def index():
        return erlen.render_template_string("{{ x }}")

    assert app.test_client(asgi=interface == "asgi").get("/").text == "async"


def test_registration_after_first_request_fails():
    app = make_app()

    @app.route("/")
    def index():
        return ""

    app.test_client().get("/")
    with pytest.raises(AssertionError, match="add_template_filter"):
        app.add_template_filter(str.upper)
    with pytest.raises(AssertionError, match="template_global"):
        app.template_global()


def test_registration_names():
    app = make_app()
    app.add_template_filter(str.upper, "up")
    app.add_template_test(str.isdigit)
    app.add_template_global(len, name="length")

    @app.template_filter()
    def low(s):
        return s.lower()

    @app.template_test("short")
    def is_short(s):
        return len(s) < 3

    @app.template_global()
    def hi():
        return "hi"

    env = app.jinja_env
    assert env.filters["up"] is str.upper
    assert env.filters["low"] is low
    assert env.tests["isdigit"] is str.isdigit
    assert env.tests["short"] is is_short
    assert env.globals["length"] is len
    assert env.globals["hi"] is hi


# -- async views -----------------------------------------------------------------


def test_render_template_async_renders_off_the_loop(interface):
    app = make_app()
    threads = {}

    @app.template_global()
    def where():
        threads["render"] = threading.get_ident()
        return erlen.request.args["q"]

    @app.route("/")
    async def index():
        threads["view"] = threading.get_ident()
        erlen.g.who = "gee"
        page = await render_template_async("page.html", value="<v>")
        text = await render_template_string_async("{{ where() }} {{ g.who }}")
        return page + text

    r = app.test_client(asgi=interface == "asgi").get("/?q=<q>")
    assert r.text == "&lt;v&gt;|<v>&lt;q&gt; gee"
    assert threads["render"] != threads["view"]


def test_stream_template_from_async_view(interface):
    app = make_app()
    threads = {}

    @app.template_global()
    def where():
        threads["render"] = threading.get_ident()
        return erlen.request.path

    @app.route("/s")
    async def index():
        threads["view"] = threading.get_ident()
        erlen.session["user"] = "async"
        return erlen.Response(
            erlen.stream_template_string(
                "{% for i in items %}{{ where() }} {{ i }}|{% endfor %}"
                "{{ session.user }}",
                items=[1, "<b>"],
            )
        )

    # NOTE: keep the client: an ASGI stream is read on its loop.
    client = app.test_client(asgi=interface == "asgi")
    text = client.get("/s?q=1").text
    assert text == "/s 1|/s &lt;b&gt;|async"
    if interface == "asgi":
        # The body is produced in the ASGI driver's worker thread.
        assert threads["render"] != threads["view"]


def test_signals_sent_for_streams():
    app = make_app()
    seen = []

    def on_rendered(sender, template, context):
        seen.append(("rendered", sender, context["v"]))

    def on_before(sender, template, context):
        seen.append(("before", sender, context["v"]))

    with (
        erlen.template_rendered.connected_to(on_rendered, app),
        erlen.before_render_template.connected_to(on_before, app),
        app.app_context(),
    ):
        stream = erlen.stream_template_string("{{ v }}", v=1)
        assert seen == [("before", app, 1)]
        assert list(stream) == ["1"]
        assert seen == [("before", app, 1), ("rendered", app, 1)]


def test_blueprint_without_processors_gets_the_app_ones(interface):
    app = make_app()
    bp = blueprint("quiet")

    @app.context_processor
    def proc():
        return {"x": "app"}

    @bp.route("/")
    def index():
        return erlen.render_template_string("{{ x }} {{ request.blueprint }}")

    app.register_blueprint(bp, url_prefix="/q")
    client = app.test_client(asgi=interface == "asgi")
    assert client.get("/q/").text == "app quiet"


# -- the template class's context ---------------------------------------------


def _plain_jinja_context(template, vars=None, shared=False, locals=None):
    """The context Jinja's own Template.new_context builds for ``template``."""
    return jinja2.Template.new_context(template, vars, shared, locals)


def test_templates_are_erlen_templates():
    app = make_app()
    with app.app_context():
        template = app.jinja_env.from_string("{{ x }}")
        assert isinstance(template, erlen.templating.Environment.template_class)
        assert isinstance(template, jinja2.Template)


@pytest.mark.parametrize(
    ("vars", "shared", "locals"),
    [
        (None, False, None),
        ({"a": 1, "range": "mine"}, False, None),
        ({"a": 1}, False, {"b": 2, "c": jinja2.runtime.missing}),
        ({"a": 1}, True, {"b": 2}),
        ({"a": 1}, True, None),
    ],
)
def test_new_context_matches_jinja(vars, shared, locals):
    app = make_app()
    with app.app_context():
        env = app.jinja_env
        template = env.from_string("{{ x }}", globals={"x": 1, "url_for": "t"})
        env.globals["late"] = "added after loading"
        ours = template.new_context(
            None if vars is None else dict(vars), shared, locals
        )
        theirs = _plain_jinja_context(
            template, None if vars is None else dict(vars), shared, locals
        )
        assert list(ours.parent.items()) == list(theirs.parent.items())
        assert ours.globals_keys == theirs.globals_keys
        if not shared:
            assert ours.parent["late"] == "added after loading"
            assert ours.parent["url_for"] == "t"


class _Missing(dict):
    def __missing__(self, key):
        return f"missing {key}"


@pytest.mark.parametrize(
    "make_globals",
    [
        lambda env: jinja2.utils.LRUCache(5),
        lambda env: __import__("collections").ChainMap(_Missing(), env.globals),
        lambda env: {"range": "plain dict"},
    ],
    ids=["other-mapping", "dict-subclass-map", "plain-dict"],
)
def test_new_context_falls_back_to_jinja(make_globals):
    app = make_app()
    with app.app_context():
        template = app.jinja_env.from_string("{{ range }}")
        template.globals = make_globals(app.jinja_env)
        ours = template.new_context({"a": 1})
        theirs = _plain_jinja_context(template, {"a": 1})
        assert list(ours.parent.items()) == list(theirs.parent.items())
        assert ours.globals_keys == theirs.globals_keys


def test_render_sees_template_and_environment_globals():
    app = make_app()
    with app.test_request_context():
        env = app.jinja_env
        template = env.from_string("{{ a }} {{ b }} {{ c }}", globals={"a": "tpl"})
        env.globals.update(a="env", b="env")
        assert erlen.render_template(template, c="ctx") == "tpl env ctx"
        assert erlen.render_template(template, a="ctx", c="ctx") == "ctx env ctx"
