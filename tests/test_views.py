from __future__ import annotations

import asyncio
import functools
import inspect
import types

import flask.views
import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen import views
from erlen.globals import _cv_app
from erlen.globals import _cv_request
from erlen.views import http_method_funcs
from erlen.views import MethodView
from erlen.views import View


class FakeApp:
    """Stands in for the app: ensure_sync runs coroutines to completion."""

    def __init__(self):
        self.wrapped = []

    def ensure_sync(self, func):
        self.wrapped.append(func)
        if inspect.iscoroutinefunction(func):

            def run(*args, **kwargs):
                return asyncio.run(func(*args, **kwargs))

            return run
        return func


@pytest.fixture
def app():
    fake = FakeApp()
    token = _cv_app.set(types.SimpleNamespace(app=fake))
    yield fake
    _cv_app.reset(token)


@pytest.fixture
def method(app):
    """Set the current request's method: ``method("POST")``."""
    tokens = []

    def set_method(name):
        request = types.SimpleNamespace(method=name)
        tokens.append(_cv_request.set(types.SimpleNamespace(request=request)))

    yield set_method
    for token in reversed(tokens):
        _cv_request.reset(token)


# -- View ----------------------------------------------------------------------


def test_view_defaults():
    assert View.methods is None
    assert View.provide_automatic_options is None
    assert View.decorators == []
    assert View.init_every_request is True
    with pytest.raises(NotImplementedError):
        View().dispatch_request()


def test_as_view_attributes():
    class Greet(View):
        """Say hello."""

        methods = ["GET", "POST"]
        provide_automatic_options = False

        def dispatch_request(self):
            return "hi"

    view = Greet.as_view("greet")
    assert view.__name__ == "greet"
    assert view.__doc__ == "Say hello."
    assert view.__module__ == __name__
    assert view.view_class is Greet
    assert view.methods == ["GET", "POST"]
    assert view.provide_automatic_options is False


def test_as_view_new_instance_per_request(app):
    inits = []

    class Counter(View):
        def __init__(self, start, step=1):
            inits.append((start, step))
            self.n = start

        def dispatch_request(self, extra=0):
            self.n += 1
            return self.n + extra

    view = Counter.as_view("c", 10, step=2)
    assert inits == []
    assert view() == 11
    assert view(extra=5) == 16
    assert inits == [(10, 2), (10, 2)]
    assert len(app.wrapped) == 2


def test_as_view_single_instance(app):
    inits = []

    class Counter(View):
        init_every_request = False

        def __init__(self, start):
            inits.append(start)
            self.n = start

        def dispatch_request(self):
            self.n += 1
            return self.n

    view = Counter.as_view("c", 0)
    assert inits == [0]
    assert view() == 1
    assert view() == 2
    assert inits == [0]


def test_view_class_can_be_swapped(app):
    class Real(View):
        def dispatch_request(self):
            return "real"

    class Fake(View):
        def dispatch_request(self):
            return "fake"

    view = Real.as_view("v")
    view.view_class = Fake
    assert view() == "fake"


def test_decorators_applied_in_order_and_see_name():
    seen = []

    def outer_tag(f):
        seen.append(("outer", f.__name__, f.__module__))

        @functools.wraps(f)
        def wrapper(**kw):
            return "<" + f(**kw) + ">"

        return wrapper

    def inner_tag(f):
        seen.append(("inner", f.__name__, f.__module__))

        @functools.wraps(f)
        def wrapper(**kw):
            return "[" + f(**kw) + "]"

        return wrapper

    class Tagged(View):
        decorators = [inner_tag, outer_tag]

        def dispatch_request(self):
            return "x"

    view = Tagged.as_view("tagged")
    # The first decorator listed is applied first (innermost).
    assert seen == [("inner", "tagged", __name__), ("outer", "tagged", __name__)]
    assert view.view_class is Tagged
    assert view.__name__ == "tagged"


def test_decorated_view_runs(app):
    def bracket(f):
        def wrapper(**kw):
            return "[" + f(**kw) + "]"

        return wrapper

    class V(View):
        decorators = [bracket]

        def dispatch_request(self, name):
            return name

    assert V.as_view("v")(name="n") == "[n]"


def test_async_dispatch_request(app):
    class AsyncView(View):
        async def dispatch_request(self, x):
            await asyncio.sleep(0)
            return x * 2

    assert AsyncView.as_view("a")(x=21) == 42


def test_as_view_attributes_match_flask():
    def build(base):
        class V(base):
            """Doc."""

            methods = ["PUT"]
            provide_automatic_options = True

            def dispatch_request(self):
                return ""

        return V.as_view("named")

    ours, theirs = build(View), build(flask.views.View)
    for attr in (
        "__name__",
        "__doc__",
        "__module__",
        "methods",
        "provide_automatic_options",
    ):
        assert getattr(ours, attr) == getattr(theirs, attr)


# -- MethodView -------------------------------------------------------------------


def test_http_method_funcs():
    assert http_method_funcs == flask.views.http_method_funcs
    assert (
        views.http_method_funcs
        is MethodView.__init_subclass__.__globals__["http_method_funcs"]
    )


def test_methods_collected_from_handlers():
    class Api(MethodView):
        def get(self):
            return "g"

        def post(self):
            return "p"

    assert Api.methods == {"GET", "POST"}
    assert MethodView.methods is None


def test_methods_inherited_and_extended():
    class Base(MethodView):
        def get(self):
            return "g"

    class Child(Base):
        def delete(self):
            return "d"

    class Mixin:
        def patch(self):
            return "m"

    class WithMixin(Mixin, Child):
        pass

    assert Base.methods == {"GET"}
    assert Child.methods == {"GET", "DELETE"}
    assert WithMixin.methods == {"GET", "DELETE", "PATCH"}


def test_explicit_methods_are_kept():
    class Api(MethodView):
        methods = ["GET"]

        def get(self):
            return "g"

        def post(self):
            return "p"

    class Sub(Api):
        def put(self):
            return "u"

    assert Api.methods == ["GET"]
    # A subclass collects again: the parent's explicit list plus handlers.
    assert Sub.methods == {"GET", "POST", "PUT"}


def test_no_handlers_leaves_methods_none():
    class Empty(MethodView):
        pass

    assert Empty.methods is None


def test_dispatch_by_method(app, method):
    class Api(MethodView):
        def get(self, id):
            return f"get {id}"

        def post(self, id):
            return f"post {id}"

    view = Api.as_view("api")
    method("GET")
    assert view(id=1) == "get 1"
    method("POST")
    assert view(id=2) == "post 2"
    # HEAD falls back to get.
    method("HEAD")
    assert view(id=3) == "get 3"


def test_head_handler_preferred(app, method):
    class Api(MethodView):
        def get(self):
            return "get"

        def head(self):
            return "head"

    method("HEAD")
    assert Api.as_view("api")() == "head"


def test_async_handler(app, method):
    class Api(MethodView):
        async def get(self):
            await asyncio.sleep(0)
            return "async get"

    method("GET")
    assert Api.as_view("api")() == "async get"


def test_unimplemented_method(app, method):
    class Api(MethodView):
        def post(self):
            return "p"

    view = Api.as_view("api")
    for name in ("GET", "HEAD", "PUT"):
        method(name)
        with pytest.raises(AssertionError, match=f"Unimplemented method '{name}'") as e:
            view()
        assert "Api has no" in str(e.value)


_handlers = st.sets(st.sampled_from(sorted(http_method_funcs) + ["other"]), max_size=4)


def _build_hierarchy(base, levels):
    cls = base
    for i, (handlers, explicit) in enumerate(levels):
        namespace = {name: (lambda self: "") for name in handlers}
        if explicit is not None:
            namespace["methods"] = list(explicit)
        cls = type(f"L{i}", (cls,), namespace)
    return cls


@given(
    st.lists(
        st.tuples(
            _handlers,
            st.one_of(
                st.none(), st.lists(st.sampled_from(["GET", "POST", "X"]), max_size=2)
            ),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_methods_match_flask(levels):
    ours = _build_hierarchy(MethodView, levels)
    theirs = _build_hierarchy(flask.views.MethodView, levels)
    assert ours.methods == theirs.methods
    assert ours.as_view("v").methods == theirs.as_view("v").methods


# -- on a real erlen app, driven by the test client ------------------------------


@pytest.fixture
def client_for(interface):
    from erlen.testing import Client

    def make(app):
        return Client(app, asgi=interface == "asgi")

    return make


def test_method_view_on_real_app(client_for):
    from erlen.app import Flask

    class Item(MethodView):
        def get(self, id):
            return f"get {id}"

        async def post(self, id):
            await asyncio.sleep(0)
            return f"post {id}"

    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/item/<int:id>", view_func=Item.as_view("item"))
    rule = next(app.url_map.iter_rules("item"))
    flask_app = flask.Flask(__name__, static_folder=None)

    class FlaskItem(flask.views.MethodView):
        def get(self, id):
            return ""

        def post(self, id):
            return ""

    flask_app.add_url_rule("/item/<int:id>", view_func=FlaskItem.as_view("item"))
    assert rule.methods == next(flask_app.url_map.iter_rules("item")).methods

    client = client_for(app)
    assert client.get("/item/1").text == "get 1"
    assert client.post("/item/2").text == "post 2"
    head = client.head("/item/3")
    assert head.status_code == 200
    assert head.data == b""
    put = client.put("/item/4")
    assert put.status_code == 405
    assert set(put.headers["Allow"].replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
    }
    options = client.options("/item/5")
    assert options.status_code == 200


def test_view_on_real_app(client_for):
    from erlen.app import Flask

    def shout(f):
        @functools.wraps(f)
        def wrapper(**kw):
            return f(**kw).upper()

        return wrapper

    class Hello(View):
        methods = ["GET", "POST"]
        decorators = [shout]
        init_every_request = False

        def __init__(self, greeting):
            self.greeting = greeting
            self.count = 0

        def dispatch_request(self, name):
            self.count += 1
            return f"{self.greeting} {name} {self.count}"

    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/hi/<name>", view_func=Hello.as_view("hi", "hello"))
    client = client_for(app)
    assert client.get("/hi/ann").text == "HELLO ANN 1"
    assert client.post("/hi/bob").text == "HELLO BOB 2"
    assert client.delete("/hi/bob").status_code == 405


def test_async_view_on_real_app(client_for):
    from erlen.app import Flask

    class Slow(View):
        async def dispatch_request(self):
            await asyncio.sleep(0)
            return "slow"

    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/slow", view_func=Slow.as_view("slow"))
    assert client_for(app).get("/slow").text == "slow"
