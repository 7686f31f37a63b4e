from __future__ import annotations

import typing as t

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import erlen
from erlen.datastructures import Headers
from erlen.exceptions import BadRequest
from erlen.exceptions import RequestEntityTooLarge
from erlen.sansio.request import Request as SansIORequest
from erlen.testing import Client
from erlen.testing import EnvironBuilder
from erlen.urls import parse_qsl
from erlen.wrappers import _server_from_environ
from erlen.wrappers import _wsgi_decode


def _environ(**kwargs: t.Any) -> dict[str, t.Any]:
    builder = EnvironBuilder(**kwargs)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def test_wsgi_decode() -> None:
    assert _wsgi_decode("/caf\xc3\xa9") == "/café"
    assert _wsgi_decode("/\xff") == "/\ufffd"
    # Not a latin-1 string: kept as it is.
    assert _wsgi_decode("/€") == "/€"


def test_server_from_environ() -> None:
    assert _server_from_environ({}) is None
    assert _server_from_environ({"SERVER_NAME": "h", "SERVER_PORT": "81"}) == ("h", 81)
    assert _server_from_environ({"SERVER_NAME": "h", "SERVER_PORT": ""}) == ("h", None)
    assert _server_from_environ({"SERVER_NAME": "h", "SERVER_PORT": "x"}) == ("h", None)


def test_request_from_environ() -> None:
    environ = _environ(
        path="/caf%C3%A9", query_string="a=1", method="POST", data=b"body"
    )
    environ.update(
        {
            "REMOTE_USER": "alice",
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": True,
        }
    )
    request = erlen.Request(environ)
    assert environ["erlen.request"] is request
    assert request.path == "/café"
    assert request.args["a"] == "1"
    assert request.method == "POST"
    assert request.get_data() == b"body"
    assert request.remote_user == "alice"
    assert request.is_multithread is True
    assert request.is_multiprocess is False
    assert request.is_run_once is True
    environ["REMOTE_USER"] = 42
    assert request.remote_user is None


def test_request_not_populated() -> None:
    environ = _environ()
    erlen.Request(environ, populate_request=False)
    assert "erlen.request" not in environ
    request = erlen.Request(environ, shallow=True)
    assert request.shallow
    assert "erlen.request" not in environ


def test_request_method_read_at_creation() -> None:
    environ = _environ(method="patch")
    request = erlen.Request(environ)
    # Read when the request is made, as in Werkzeug.
    environ["REQUEST_METHOD"] = "PUT"
    assert request.method == "PATCH"
    request.method = "DELETE"
    assert request.method == "DELETE"
    # Not read again by a shallow request, which reads it on first use.
    shallow = erlen.Request(environ, shallow=True)
    assert shallow.method == "PUT"
    assert erlen.Request({}, populate_request=False).method == "GET"


def test_request_subclass_method_and_shallow() -> None:
    class OwnMethod(erlen.Request):
        @property
        def method(self) -> str:  # type: ignore[override]
            return "OWN"

    class Shallow(erlen.Request):
        shallow = True

    class Plain(erlen.Request):
        pass

    environ = _environ(method="POST")
    request = OwnMethod(environ)
    assert request.method == "OWN"
    assert environ["erlen.request"] is request
    assert not request.shallow
    shallow = Shallow(_environ(method="POST"))
    # The class default is kept as passed: shallow=False, as in Werkzeug.
    assert shallow.shallow is False
    assert shallow.method == "POST"
    assert Plain(_environ(method="POST")).method == "POST"
    assert (OwnMethod._erlen_plain_init, Shallow._erlen_plain_init) == (False, False)
    assert Plain._erlen_plain_init


def test_request_args_read_query_string_overrides() -> None:
    class Own(erlen.Request):
        @property
        def query_string(self) -> bytes:  # type: ignore[override]
            return b"own=1"

    assert erlen.Request(_environ(query_string="a=%C3%A9&b")).args.to_dict() == {
        "a": "\u00e9",
        "b": "",
    }
    assert Own(_environ(query_string="a=1")).args.to_dict() == {"own": "1"}
    assert not Own._erlen_plain_query
    request = erlen.Request(_environ(query_string="a=1"))
    request.query_string = b"assigned=2"
    assert request.args.to_dict() == {"assigned": "2"}
    assert request.headers.get("Host") == "localhost"
    assert request.headers.environ is request.environ  # type: ignore[attr-defined]


def test_request_raw_headers_kept_apart() -> None:
    environ = _environ()
    environ["erlen.raw_headers"] = [
        (b"x-foo", b"dash"),
        (b"x_foo", b"underscore"),
        (b"x-foo", b"again"),
    ]
    request = erlen.Request(environ)
    assert request.headers.getlist("X-Foo") == ["dash", "again"]
    assert request.headers.getlist("X_Foo") == ["underscore"]


@pytest.mark.parametrize(
    ("attr", "key", "sansio_default"),
    [
        ("max_content_length", "MAX_CONTENT_LENGTH", SansIORequest.max_content_length),
        (
            "max_form_memory_size",
            "MAX_FORM_MEMORY_SIZE",
            SansIORequest.max_form_memory_size,
        ),
        ("max_form_parts", "MAX_FORM_PARTS", SansIORequest.max_form_parts),
        ("max_json_depth", "MAX_JSON_DEPTH", SansIORequest.max_json_depth),
    ],
)
def test_limits(
    app: erlen.Flask, attr: str, key: str, sansio_default: int | None
) -> None:
    request = erlen.Request(_environ())
    assert getattr(request, attr) == sansio_default
    app.config[key] = 1234
    with app.app_context():
        assert getattr(request, attr) == 1234
        setattr(request, attr, 7)
        assert getattr(request, attr) == 7
    setattr(request, attr, None)
    del app.config[key]
    with app.app_context():
        assert getattr(request, attr) == sansio_default


def test_max_content_length_from_config(app: erlen.Flask, client: Client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/", methods=["POST"])
    def index() -> str:
        return str(len(erlen.request.get_data()))

    @app.route("/raise", methods=["POST"])
    def per_request() -> str:
        erlen.request.max_content_length = 100
        return str(len(erlen.request.get_data()))

    assert client.post("/", data=b"x" * 10).data == b"10"
    assert client.post("/", data=b"x" * 11).status_code == 413
    assert client.post("/raise", data=b"x" * 50).data == b"50"


def test_endpoint_and_blueprints(app: erlen.Flask, client: Client) -> None:
    parent = erlen.Blueprint("parent", __name__, url_prefix="/p")
    child = erlen.Blueprint("child", __name__, url_prefix="/c")

    @child.route("/")
    def view() -> str:
        r = erlen.request
        return repr((r.endpoint, r.blueprint, r.blueprints))

    @app.route("/")
    def index() -> str:
        r = erlen.request
        return repr((r.endpoint, r.blueprint, r.blueprints))

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/").text == repr(
        ("parent.child.view", "parent.child", ["parent.child", "parent"])
    )
    assert client.get("/").text == repr(("index", None, []))
    with app.test_request_context("/missing"):
        r = erlen.request
        assert (r.endpoint, r.blueprint, r.blueprints) == (None, None, [])


def test_blueprints_of_a_subclass_overriding_endpoint(app: erlen.Flask) -> None:
    class Renamed(erlen.Request):
        @property
        def endpoint(self) -> str | None:
            return "outer.inner.view"

    class Plain(erlen.Request):
        pass

    assert not Renamed._erlen_plain_blueprint
    assert Plain._erlen_plain_blueprint
    request = Renamed(_environ())
    assert request.blueprint == "outer.inner"
    assert request.blueprints == ["outer.inner", "outer"]
    # The cached list is shared, as Flask's is.
    assert request.blueprints is request.blueprints

    class NoBlueprint(erlen.Request):
        @property
        def blueprint(self) -> str | None:
            return None

    assert NoBlueprint(_environ()).blueprints == []
    request = erlen.Request(_environ())
    request.url_rule = erlen.Flask.url_rule_class("/x", endpoint="x")
    assert request.blueprints == []


def test_on_json_loading_failed(app: erlen.Flask) -> None:
    request = erlen.Request(_environ())
    # Outside an app: the generic 400.
    with pytest.raises(BadRequest) as info:
        request.on_json_loading_failed(ValueError("detail here"))
    assert "detail here" not in str(info.value.description)
    with app.app_context():
        with pytest.raises(BadRequest) as info:
            request.on_json_loading_failed(ValueError("detail here"))
        assert "detail here" not in str(info.value.description)
        app.debug = True
        with pytest.raises(BadRequest) as info:
            request.on_json_loading_failed(ValueError("detail here"))
        assert "detail here" in str(info.value.description)


def test_bad_json_over_protocols(app: erlen.Flask, client: Client) -> None:
    @app.route("/", methods=["POST"])
    def index() -> t.Any:
        return {"got": erlen.request.json}

    response = client.post("/", data=b"{bad", content_type="application/json")
    assert response.status_code == 400
    assert client.post("/", json={"a": 1}).json == {"got": {"a": 1}}


def test_body_over_limit_is_413(app: erlen.Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 3
    environ = _environ(method="POST", data=b"12345")
    with app.request_context(environ):
        with pytest.raises(RequestEntityTooLarge):
            erlen.request.get_data()


def test_response_defaults(app: erlen.Flask) -> None:
    response = erlen.Response("x")
    assert response.mimetype == "text/html"
    response.headers["Location"] = "/relative"
    assert response.get_wsgi_headers(_environ())["Location"] == "/relative"
    assert response.max_cookie_size == 4093
    app.config["MAX_COOKIE_SIZE"] = 10
    with app.app_context():
        assert response.max_cookie_size == 10
        with pytest.warns(UserWarning, match="cookie"):
            response.set_cookie("k", "v" * 20)


class OwnPartsRequest(erlen.Request):
    @property
    def max_form_parts(self) -> int | None:
        return 2


def test_form_limits_read_together(app: erlen.Flask) -> None:
    def check(request: erlen.Request) -> None:
        assert request._erlen_form_limits() == (
            request.max_content_length,
            request.max_form_memory_size,
            request.max_form_parts,
        )

    assert not OwnPartsRequest._erlen_plain_limits
    for cls in (erlen.Request, OwnPartsRequest):
        request = cls(_environ())
        check(request)
        with app.app_context():
            check(request)
            app.config.update(
                MAX_CONTENT_LENGTH=10, MAX_FORM_MEMORY_SIZE=20, MAX_FORM_PARTS=30
            )
            check(request)
            request.max_content_length = 1
            check(request)
            request.max_form_memory_size = 2
            request._max_form_parts = 3
            check(request)
            del app.config["MAX_FORM_PARTS"]
            request._max_form_parts = None
            check(request)
        app.config.update(
            MAX_CONTENT_LENGTH=None, MAX_FORM_MEMORY_SIZE=500_000, MAX_FORM_PARTS=1000
        )


class OwnHeadersRequest(erlen.Request):
    @property
    def headers(self) -> t.Any:
        return erlen.Request.headers.func(self)  # type: ignore[attr-defined]


def _form_environ(**kwargs: t.Any) -> dict[str, t.Any]:
    return _environ(method="POST", data={"a": "1", "b": "é"}, **kwargs)


@pytest.mark.parametrize(
    "change",
    [
        "none",
        "headers read",
        "content_length read",
        "input_stream read",
        "raw headers",
        "chunked",
        "odd length",
        "no input",
        "parameters",
        "own headers",
    ],
)
def test_urlencoded_body_read_from_environ(change: str) -> None:
    environ = _form_environ()
    cls: type[erlen.Request] = erlen.Request
    expected = {"a": "1", "b": "é"}
    if change == "raw headers":
        environ["erlen.raw_headers"] = [
            (b"content-type", environ["CONTENT_TYPE"].encode()),
            (b"content-length", environ["CONTENT_LENGTH"].encode()),
        ]
    elif change == "chunked":
        environ["HTTP_TRANSFER_ENCODING"] = "gzip"
    elif change == "odd length":
        environ["CONTENT_LENGTH"] = " " + environ["CONTENT_LENGTH"]
    elif change == "no input":
        del environ["wsgi.input"]
        expected = {}
    elif change == "parameters":
        environ["CONTENT_TYPE"] += "; charset=utf-8"
    elif change == "own headers":
        cls = OwnHeadersRequest
        assert not cls._erlen_plain_body
    request = cls(environ)
    if change.endswith(" read"):
        getattr(request, change.split()[0])
    if change == "no input":
        # No body behind a Content-Length: the client went away.
        with pytest.raises(BadRequest):
            request.form  # noqa: B018
        return
    assert request.form.to_dict() == expected
    assert request.stream.read() == b""
    # Only the read from the environ leaves content_length unread; headers
    # already made over the same environ do not stop it.
    fast = change in ("none", "headers read", "raw headers", "parameters")
    assert ("content_length" in request.__dict__) == (not fast)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([(b"Content-Type", b"URL"), (b"CONTENT-LENGTH", b"LEN")], "fast"),
        ([(b"content-type", b"URL"), (b"content-type", b"text/plain")], "fast"),
        ([(b"content-type", b"text/plain"), (b"content-type", b"URL")], {}),
        ([(b"content-type", b"URL"), (b"transfer-encoding", b"gzip")], "slow"),
        ([(b"content-type", b"URL"), (b"content-length", b" LEN")], "slow"),
        ([(b"content-type", b"URL; charset=utf-8")], "fast"),
        ([(b"transfer-encoding", b"gzip"), (b"content-type", b"URL")], "slow"),
        ([(b"content_type", b"URL")], {}),
        ([(b"x-other", b"1")], {}),
    ],
)
def test_urlencoded_body_from_raw_headers(
    raw: list[tuple[bytes, bytes]], expected: t.Any
) -> None:
    for headers_first in (False, True):
        environ = _form_environ()
        url = environ["CONTENT_TYPE"].encode()
        length = environ["CONTENT_LENGTH"].encode()
        received = [(k, v.replace(b"URL", url).replace(b"LEN", length)) for k, v in raw]
        if not any(k.lower() == b"content-length" for k, _ in received):
            received.append((b"content-length", length))
        environ["erlen.raw_headers"] = received
        request = erlen.Request(environ)
        if headers_first:
            request.headers  # noqa: B018
        form = request.form.to_dict()
        assert form == ({"a": "1", "b": "é"} if isinstance(expected, str) else {})
        fast = expected == "fast" and not headers_first
        assert ("content_length" in request.__dict__) == (not fast)


def test_urlencoded_body_lengths_from_environ() -> None:
    environ = _form_environ()
    del environ["CONTENT_LENGTH"]
    assert erlen.Request(environ).form == {}
    environ = _form_environ()
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    assert erlen.Request(environ).form == {}


def test_form_limits_from_config(app: erlen.Flask, client: Client) -> None:
    app.config["MAX_FORM_PARTS"] = 2

    @app.route("/", methods=["POST"])
    def index() -> str:
        return repr(sorted(erlen.request.form.items()))

    @app.route("/more", methods=["POST"])
    def more() -> str:
        erlen.request.max_form_parts = 3
        return str(len(erlen.request.form))

    assert (
        client.post("/", data={"a": "1", "b": "2"}).data == b"[('a', '1'), ('b', '2')]"
    )
    response = client.post("/", data={"a": "1", "b": "2", "c": "3"})
    assert response.status_code == 413
    assert client.post("/more", data={"a": "1", "b": "2", "c": "3"}).data == b"3"
    app.config["MAX_FORM_MEMORY_SIZE"] = 5
    assert client.post("/", data={"a": "1"}).status_code == 200
    assert client.post("/", data={"a": "123456"}).status_code == 413


@pytest.mark.parametrize("asgi", [False, True])
@pytest.mark.parametrize("ctype", [None, "", "application/json", "text/plain; a=1"])
def test_other_bodies_are_told_apart_without_headers(
    asgi: bool, ctype: str | None
) -> None:
    environ = _environ(method="POST", data=b"{}")
    environ.pop("CONTENT_TYPE", None)
    raw = [(b"content-length", b"2")]
    if ctype is not None:
        environ["CONTENT_TYPE"] = ctype
        raw.append((b"content-type", ctype.encode()))
    if asgi:
        environ["erlen.raw_headers"] = raw
    request = erlen.Request(environ)
    assert request._erlen_urlencoded_body() is None
    assert "headers" not in request.__dict__
    assert request.form == {}
    assert request.get_data() == b"{}"


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"a", b"b", b"=", b"&", b"+", b" ", b"%", b"%41", b"%c3%a9", b"%C3"]
            + [b"%2", b"%zz", b"%3D", b"%26", b"\x00", b"\r", b"\n", b"\xc3\xa9"]
            + [b"\xff", b";", b"%ff", b"%E2%82"]
        ),
        max_size=20,
    ).map(b"".join)
)
@example(b"b&a&b")  # a repeated key, apart: grouped by the MultiDict
def test_args_are_parse_qsl_s_answer(query: bytes) -> None:
    # request.args takes the form's bulk decoder: the same answer as
    # parse_qsl, for any query string (escapes, "+", NUL, CR/LF, non-UTF-8).
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": query.decode("latin-1"),
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    # A MultiDict lists a repeated key's values together, at the key's first
    # place (as Werkzeug's does): parse_qsl's pairs, grouped so.
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    expected = [(key, value) for key, values in grouped.items() for value in values]
    wsgi_args = erlen.Request(environ).args
    assert list(wsgi_args.items(multi=True)) == expected
    assert type(wsgi_args) is erlen.Request.parameter_storage_class
    sansio_args = SansIORequest(
        "GET", "http", None, "", "/", query, Headers(), None
    ).args
    assert list(sansio_args.items(multi=True)) == expected
