from __future__ import annotations

import asyncio
import gc
import io
import json
import sys
from email.parser import BytesParser
from email.policy import HTTP

import pytest

from erlen.datastructures import Authorization
from erlen.datastructures import FileMultiDict
from erlen.datastructures import FileStorage
from erlen.datastructures import Headers
from erlen.datastructures import MultiDict
from erlen.sansio.request import Request
from erlen.sansio.response import Response
from erlen.testing import CHUNK_SIZE
from erlen.testing import Client
from erlen.testing import ClientRedirectError
from erlen.testing import create_environ
from erlen.testing import encode_multipart
from erlen.testing import environ_to_scope
from erlen.testing import EnvironBuilder
from erlen.testing import run_asgi_app
from erlen.testing import run_wsgi_app
from erlen.testing import TestRequest
from erlen.testing import TestResponse

# -- tiny echo apps ----------------------------------------------------------


def _observe(method, root, path, query, headers, body):
    return {
        "method": method,
        "root": root,
        "path": path,
        "query": query,
        "headers": headers,
        "body": body.decode("latin-1"),
    }


def _routed(path):
    """Return (status, extra headers, body or None) for special paths."""
    if path.startswith("/redirect/"):
        code, _, target = path[len("/redirect/") :].partition("/")
        return int(code), [("Location", "/" + target.replace("~", "?"))], b"moved"
    if path == "/set":
        return (
            200,
            [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/sub")],
            b"set",
        )
    if path == "/unset":
        return 200, [("Set-Cookie", "a=; Max-Age=0; Path=/")], b"unset"
    return None


def wsgi_echo(environ, start_response):
    length = environ.get("CONTENT_LENGTH")
    body = environ["wsgi.input"].read(int(length)) if length else b""
    routed = _routed(environ["PATH_INFO"])
    if routed is not None:
        code, headers, data = routed
        start_response(f"{code} X", headers)
        return [data]
    headers = {
        k[5:].replace("_", "-").lower(): v
        for k, v in environ.items()
        if k.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if key in environ:
            headers[key.replace("_", "-").lower()] = environ[key]
    obs = _observe(
        environ["REQUEST_METHOD"],
        environ["SCRIPT_NAME"].encode("latin-1").decode(),
        environ["PATH_INFO"].encode("latin-1").decode(),
        environ["QUERY_STRING"],
        headers,
        body,
    )
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(obs, sort_keys=True).encode()]


async def asgi_echo(scope, receive, send):
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message["body"]
        if not message["more_body"]:
            break
    root = scope["root_path"]
    path = scope["path"][len(root) :]
    routed = _routed(path)
    if routed is not None:
        code, headers, data = routed
        await send(
            {
                "type": "http.response.start",
                "status": code,
                "headers": [(k.encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": data})
        return
    headers = {}
    for k, v in scope["headers"]:
        name = k.decode("latin-1")
        value = v.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    obs = _observe(
        scope["method"], root, path, scope["query_string"].decode(), headers, body
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(obs).encode()})


@pytest.fixture(params=["wsgi", "asgi"])
def interface(request):
    return request.param


@pytest.fixture
def client(interface):
    app = wsgi_echo if interface == "wsgi" else asgi_echo
    with Client(app) as c:
        yield c


def parse_multipart(content_type, body):
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    out = []
    for part in msg.iter_parts():
        out.append(
            (
                part.get_param("name", header="content-disposition"),
                part.get_param("filename", header="content-disposition"),
                part.get_content_type(),
                part.get_payload(decode=True),
            )
        )
    return out


# -- EnvironBuilder -----------------------------------------------------------


def test_builder_defaults():
    env = EnvironBuilder().get_environ()
    assert env["REQUEST_METHOD"] == "GET"
    assert env["PATH_INFO"] == "/"
    assert env["SCRIPT_NAME"] == ""
    assert env["QUERY_STRING"] == ""
    assert env["SERVER_NAME"] == "localhost"
    assert env["SERVER_PORT"] == "80"
    assert env["HTTP_HOST"] == "localhost"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input"].read() == b""
    assert env["wsgi.errors"] is sys.stderr
    assert env["wsgi.version"] == (1, 0)
    assert "CONTENT_TYPE" not in env
    assert "CONTENT_LENGTH" not in env
    assert env["REQUEST_URI"] == env["RAW_URI"] == "/"


def test_builder_path_query_and_iri():
    b = EnvironBuilder("/ä b?x=1&y=ü")
    assert b.path == "/%C3%A4%20b"
    env = b.get_environ()
    assert env["PATH_INFO"] == "/ä b".encode().decode("latin-1")
    assert env["QUERY_STRING"] == "x=1&y=ü".encode().decode("latin-1")
    assert env["REQUEST_URI"] == "/ä b?x=1&y=ü".encode().decode("latin-1")


def test_builder_path_keeps_undecodable_bytes():
    env = create_environ("/%FF%2F")
    assert env["PATH_INFO"] == "/\xff/"


def test_builder_query_both_places():
    with pytest.raises(ValueError, match="query string"):
        EnvironBuilder("/a?b=1", query_string="c=2")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"a": "1", "b": ["2", "3"], "n": None}, "a=1&b=2&b=3"),
        (MultiDict([("a", "x y"), ("a", "&")]), "a=x+y&a=%26"),
        ("raw=1&x", "raw=1&x"),
    ],
)
def test_builder_query_forms(query, expected):
    assert create_environ(query_string=query)["QUERY_STRING"] == expected


def test_builder_args_property():
    b = EnvironBuilder()
    b.args["x"] = "1"
    b.args.add("x", "2")
    assert b.query_string == "x=1&x=2"
    b.query_string = "y=2"
    with pytest.raises(AttributeError, match="query string"):
        b.args  # noqa: B018
    b.args = MultiDict({"z": "3"})
    assert b.query_string == "z=3"
    b.query_string = None
    assert b.query_string == ""


def test_builder_base_url():
    b = EnvironBuilder("/x", base_url="https://example.org:8443/app/")
    env = b.get_environ()
    assert env["SCRIPT_NAME"] == "/app"
    assert env["PATH_INFO"] == "/x"
    assert env["SERVER_NAME"] == "example.org"
    assert env["SERVER_PORT"] == "8443"
    assert env["HTTP_HOST"] == "example.org:8443"
    assert env["wsgi.url_scheme"] == "https"
    assert b.base_url == "https://example.org:8443/app/"
    assert EnvironBuilder(base_url="https://h/").server_port == 443
    odd = EnvironBuilder()
    odd.host = "h:x"
    assert odd.server_port == 80
    with pytest.raises(ValueError, match="Port"):
        EnvironBuilder(base_url="http://h:x/")
    v6 = EnvironBuilder(base_url="http://[::1]:81/")
    assert (v6.server_name, v6.server_port) == ("[::1]", 81)
    with pytest.raises(ValueError, match="fragment"):
        EnvironBuilder(base_url="http://h/?q=1")


def test_builder_headers_forms():
    for headers in (
        [("X-A", "1"), ("X-A", "2")],
        Headers([("X-A", "1"), ("X-A", "2")]),
    ):
        env = create_environ(headers=headers)
        assert env["HTTP_X_A"] == "1, 2"
    env = create_environ(headers={"X-B": "v", "Content-Type": "text/x"})
    assert env["HTTP_X_B"] == "v"
    assert env["CONTENT_TYPE"] == "text/x"
    assert "HTTP_CONTENT_TYPE" not in env
    b = EnvironBuilder(headers=Headers([("Content-Length", "3")]), data=b"abc")
    assert "HTTP_CONTENT_LENGTH" not in b.get_environ()


def test_builder_data_bytes_str_file():
    for data in (b"abc", "abc", io.BytesIO(b"abc")):
        env = create_environ(method="POST", data=data, content_type="text/plain")
        assert env["CONTENT_LENGTH"] == "3"
        assert env["CONTENT_TYPE"] == "text/plain"
        assert env["wsgi.input"].read() == b"abc"
    env = create_environ(data="é")
    assert env["wsgi.input"].read() == "é".encode()
    assert "CONTENT_TYPE" not in env
    env = create_environ(data=b"")
    assert "CONTENT_LENGTH" not in env
    with pytest.raises(TypeError, match="'data' must be"):
        EnvironBuilder(data=42)


def test_builder_explicit_content_length_kept_for_data():
    b = EnvironBuilder(data=b"abcdef", content_length=6)
    assert b.content_length == 6
    b.content_length = None
    assert b.content_length is None


def test_builder_json():
    env = create_environ(json={"a": [1, "é"]})
    assert env["CONTENT_TYPE"] == "application/json"
    assert env["wsgi.input"].read() == b'{"a":[1,"\\u00e9"]}'
    env = create_environ(json=[1], content_type="application/vnd+json")
    assert env["CONTENT_TYPE"] == "application/vnd+json"
    with pytest.raises(TypeError, match="json"):
        EnvironBuilder(json={}, data=b"x")


def test_builder_data_and_stream():
    with pytest.raises(TypeError, match="input_stream"):
        EnvironBuilder(data=b"x", input_stream=io.BytesIO())


def test_builder_input_stream_length():
    stream = io.BytesIO(b"0123456789")
    stream.seek(4)
    env = create_environ(input_stream=stream)
    assert env["CONTENT_LENGTH"] == "6"
    assert env["wsgi.input"].read() == b"456789"


class _Unseekable(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, b):
        return 0


def test_builder_unseekable_stream_keeps_given_length():
    env = create_environ(input_stream=_Unseekable(), content_length=5)
    assert env["CONTENT_LENGTH"] == "5"
    env = create_environ(input_stream=_Unseekable())
    assert "CONTENT_LENGTH" not in env


def test_builder_auth():
    env = create_environ(auth=("user", "pass"))
    assert env["HTTP_AUTHORIZATION"] == "Basic dXNlcjpwYXNz"
    env = create_environ(auth=Authorization("bearer", token="tok"))
    assert env["HTTP_AUTHORIZATION"] == "Bearer tok"
    with pytest.raises(TypeError, match="tuple"):
        EnvironBuilder(auth=("a", "b", "c"))
    with pytest.raises(TypeError, match="Authorization object"):
        EnvironBuilder(auth="Basic x")


def test_builder_mimetype():
    b = EnvironBuilder(mimetype="text/html")
    assert b.content_type == "text/html; charset=utf-8"
    assert b.mimetype == "text/html"
    b.content_type = None
    assert b.mimetype is None
    b.mimetype = "application/json"
    assert b.content_type == "application/json"


def test_builder_urlencoded_form():
    b = EnvironBuilder(method="POST", data={"a": "x y", "b": ["1", 2]})
    assert b.content_type == "application/x-www-form-urlencoded"
    env = b.get_environ()
    assert env["wsgi.input"].read() == b"a=x+y&b=1&b=2"
    assert env["CONTENT_LENGTH"] == "13"


def test_builder_multipart_form():
    data = MultiDict(
        [
            ("a", "1"),
            ("f", (io.BytesIO(b"file data"), "f.txt")),
            ("g", (io.BytesIO(b"\x00\xff"), "g.bin", "application/x-g")),
            ("h", FileStorage(io.BytesIO(b"h"), "h.png")),
            ("i", io.BytesIO(b"no name")),
        ]
    )
    b = EnvironBuilder(method="POST", data=data)
    assert b.content_type == "multipart/form-data"
    env = b.get_environ()
    ct = env["CONTENT_TYPE"]
    assert ct.startswith('multipart/form-data; boundary="')
    body = env["wsgi.input"].read()
    assert int(env["CONTENT_LENGTH"]) == len(body)
    assert parse_multipart(ct, body) == [
        ("a", None, "text/plain", b"1"),
        ("f", "f.txt", "text/plain", b"file data"),
        ("g", "g.bin", "application/x-g", b"\x00\xff"),
        ("h", "h.png", "image/png", b"h"),
        ("i", None, "application/octet-stream", b"no name"),
    ]
    b.close()
    b.close()
    assert data["h"].stream.closed


def test_builder_multipart_explicit_type_and_errors():
    env = create_environ(data={"a": "1"}, content_type="multipart/form-data")
    assert parse_multipart(env["CONTENT_TYPE"], env["wsgi.input"].read()) == [
        ("a", None, "text/plain", b"1")
    ]
    with pytest.raises(ValueError, match="files need multipart"):
        create_environ(
            data={"f": (io.BytesIO(b""), "f")},
            content_type="application/x-www-form-urlencoded",
        )
    with pytest.raises(ValueError, match="text/plain"):
        create_environ(data={"a": "1"}, content_type="text/plain")


def test_builder_form_and_stream_properties():
    b = EnvironBuilder(input_stream=io.BytesIO(b"x"))
    with pytest.raises(AttributeError, match="input stream"):
        b.form  # noqa: B018
    with pytest.raises(AttributeError, match="input stream"):
        b.files  # noqa: B018
    b.form = MultiDict({"a": "1"})
    assert b.input_stream is None
    assert b.form["a"] == "1"
    b.files.add_file("f", io.BytesIO(b"z"), "z.txt")
    assert b.content_type == "multipart/form-data"
    b.input_stream = io.BytesIO(b"raw")
    assert b.content_type is None
    b.files = FileMultiDict()
    assert b.input_stream is None


def test_builder_environ_base_and_overrides():
    env = create_environ(
        environ_base={"REMOTE_ADDR": "1.2.3.4", "PATH_INFO": "/ignored"},
        environ_overrides={"SERVER_PORT": "99"},
    )
    assert env["REMOTE_ADDR"] == "1.2.3.4"
    assert env["PATH_INFO"] == "/"
    assert env["SERVER_PORT"] == "99"


def test_builder_from_environ_roundtrip():
    env = create_environ(
        "/p ä",
        base_url="https://h:8443/root",
        query_string="q=1",
        method="PUT",
        headers={"X-A": "1"},
        data=b"body",
        content_type="text/plain",
    )
    env2 = EnvironBuilder.from_environ(env).get_environ()
    for key in ("PATH_INFO", "SCRIPT_NAME", "QUERY_STRING", "HTTP_HOST"):
        assert env2[key] == env[key]
    assert env2["REQUEST_METHOD"] == "PUT"
    assert env2["HTTP_X_A"] == "1"
    assert env2["CONTENT_TYPE"] == "text/plain"
    assert env2["CONTENT_LENGTH"] == "4"
    minimal = {"SERVER_NAME": "h", "SERVER_PORT": "81"}
    env3 = EnvironBuilder.from_environ(minimal).get_environ()
    assert env3["HTTP_HOST"] == "h:81"
    env4 = EnvironBuilder.from_environ({"SERVER_NAME": "h"}).get_environ()
    assert env4["HTTP_HOST"] == "h"


def test_builder_json_dumps_override():
    class Pretty(EnvironBuilder):
        @staticmethod
        def json_dumps(obj, **kwargs):
            return json.dumps(obj, indent=1)

    assert Pretty(json=[1]).get_environ()["wsgi.input"].read() == b"[\n 1\n]"


# -- encode_multipart ---------------------------------------------------------


def test_encode_multipart_exact_bytes():
    boundary, body = encode_multipart(
        {"a": "1", "b": [b"\xff", ""], 'q"\r\n': "x"}, boundary="B"
    )
    assert boundary == "B"
    assert body == (
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b'--B\r\nContent-Disposition: form-data; name="b"\r\n\r\n\xff\r\n'
        b'--B\r\nContent-Disposition: form-data; name="b"\r\n\r\n\r\n'
        b'--B\r\nContent-Disposition: form-data; name="q%22%0D%0A"\r\n\r\nx\r\n'
        b"--B--\r\n"
    )


def test_encode_multipart_file_headers_and_names():
    storage = FileStorage(
        io.BytesIO(b"d" * (CHUNK_SIZE + 3)),
        'a"b.txt',
        headers=Headers([("X-Part", "1"), ("Content-Disposition", "ignored")]),
    )

    class Named(io.BytesIO):
        name = "named.json"

    class FdNamed(io.BytesIO):
        name = 3

    _, body = encode_multipart(
        {"f": storage, "n": Named(b"{}"), "fd": FdNamed(b"z")}, boundary="B"
    )
    assert b'name="f"; filename="a%22b.txt"\r\n' in body
    assert b"X-Part: 1\r\nContent-Type: text/plain\r\n\r\n" in body
    assert b"ignored" not in body
    assert b"d" * (CHUNK_SIZE + 3) + b"\r\n--B" in body
    assert b'filename="named.json"\r\nContent-Type: application/json' in body
    assert b'name="fd"\r\nContent-Type: application/octet-stream' in body


def test_encode_multipart_random_boundary_and_validation():
    b1, _ = encode_multipart({})
    b2, body = encode_multipart({})
    assert b1 != b2
    assert body == f"--{b2}--\r\n".encode()
    _, body = encode_multipart({"t": (io.BytesIO(b"T"), "t.txt")}, boundary="B")
    assert b'name="t"; filename="t.txt"\r\nContent-Type: text/plain\r\n\r\nT' in body
    for bad in ("", "x" * 71, 'a"b', "a\nb", "é"):
        with pytest.raises(ValueError, match="boundary"):
            encode_multipart({}, boundary=bad)


# -- run_wsgi_app -------------------------------------------------------------


def test_run_wsgi_app_lazy_generator_and_close():
    events = []

    class Body:
        def __init__(self, start_response):
            self.start_response = start_response

        def __iter__(self):
            self.start_response("200 OK", [("X", "1")])
            events.append("first")
            yield b"a"
            events.append("second")
            yield b"b"

        def close(self):
            events.append("close")

    def app(environ, start_response):
        environ["MUTATED"] = True
        return Body(start_response)

    env = create_environ()
    app_iter, status, headers = run_wsgi_app(app, env)
    assert "MUTATED" not in env
    assert status == "200 OK"
    assert headers["X"] == "1"
    assert events == ["first"]
    assert list(app_iter) == [b"a", b"b"]
    app_iter.close()
    app_iter.close()
    assert events == ["first", "second", "close"]


def test_run_wsgi_app_buffered_and_write():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        write = start_response("201 CREATED", [])
        write(b"w")
        return Body([b"x"])

    app_iter, status, _ = run_wsgi_app(app, create_environ(), buffered=True)
    assert app_iter == [b"w", b"x"]
    assert status == "201 CREATED"
    assert closed == [True]


def test_run_wsgi_app_exc_info_reraised():
    def app(environ, start_response):
        try:
            raise KeyError("boom")
        except KeyError:
            start_response("500 X", [], sys.exc_info())
        return []

    with pytest.raises(KeyError, match="boom"):
        run_wsgi_app(app, create_environ())


@pytest.mark.parametrize("buffered", [False, True])
def test_run_wsgi_app_without_start_response(buffered):
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        return Body([b"x"])

    with pytest.raises(RuntimeError, match="start_response"):
        run_wsgi_app(app, create_environ(), buffered=buffered)
    assert closed == [True]

    def empty(environ, start_response):
        return []

    with pytest.raises(RuntimeError, match="start_response"):
        run_wsgi_app(empty, create_environ(), buffered=buffered)


# -- ASGI ---------------------------------------------------------------------


def test_environ_to_scope():
    env = create_environ(
        "/a%20b/ä",
        base_url="https://example.org:8443/root/",
        query_string="x=1",
        method="post",
        headers=[("X-Multi", "1"), ("X-Multi", "2")],
        data=b"abc",
        content_type="text/plain",
        environ_base={"REMOTE_ADDR": "10.0.0.1", "REMOTE_PORT": "5555"},
    )
    env["SERVER_PROTOCOL"] = "HTTP/2"
    scope = environ_to_scope(env)
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0"}
    assert scope["http_version"] == "2"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/root/a b/ä"
    assert scope["raw_path"] == b"/root/a%20b/%C3%A4"
    assert scope["root_path"] == "/root"
    assert scope["query_string"] == b"x=1"
    assert scope["client"] == ("10.0.0.1", 5555)
    assert scope["server"] == ("example.org", 8443)
    assert scope["extensions"] == {}
    headers = dict(scope["headers"])
    assert headers[b"x-multi"] == b"1, 2"
    assert headers[b"content-type"] == b"text/plain"
    assert headers[b"content-length"] == b"3"
    assert headers[b"host"] == b"example.org:8443"


def test_environ_to_scope_odd_values():
    env = {"REMOTE_ADDR": "1.1.1.1", "REMOTE_PORT": "x", "SERVER_PORT": "y"}
    scope = environ_to_scope(env)
    assert scope["client"] == ("1.1.1.1", 0)
    assert scope["server"] == ("localhost", None)
    assert scope["path"] == ""
    assert scope["http_version"] == "1.1"
    assert environ_to_scope({"REMOTE_ADDR": "2.2.2.2"})["client"] == ("2.2.2.2", 0)
    assert environ_to_scope({"HTTP_X_N": 5})["headers"] == [(b"x-n", b"5")]
    with pytest.raises(ValueError, match="latin-1"):
        environ_to_scope({"HTTP_X": "€"})


def _asgi_app(*messages, before=None, after=None):
    async def app(scope, receive, send):
        if before is not None:
            await before(receive, send)
        for message in messages:
            await send(message)
        if after is not None:
            await after(receive, send)

    return app


START = {"type": "http.response.start", "status": 200, "headers": []}


def test_run_asgi_app_body_chunks_and_disconnect():
    received = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            received.append((len(message["body"]), message["more_body"]))
            if not message["more_body"]:
                break
        await send(START)
        await send({"type": "http.response.body", "body": b"ok"})
        received.append(await receive())

    size = 2 * CHUNK_SIZE + 5
    env = create_environ(method="POST", data=b"x" * size)
    body, status, headers = run_asgi_app(app, env)
    assert body == [b"ok"]
    assert status == "200 OK"
    assert list(headers) == []
    assert received == [
        (CHUNK_SIZE, True),
        (CHUNK_SIZE, True),
        (5, False),
        {"type": "http.disconnect"},
    ]


def test_run_asgi_app_body_of_unknown_length():
    received = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            received.append((len(message["body"]), message["more_body"]))
            if not message["more_body"]:
                break
        await send(START)
        await send({"type": "http.response.body"})

    env = create_environ(input_stream=_Unseekable())
    env["wsgi.input"] = io.BytesIO(b"y" * CHUNK_SIZE)
    run_asgi_app(app, env)
    assert received == [(CHUNK_SIZE, True), (0, False)]
    received.clear()
    env = {"CONTENT_LENGTH": "bad", "wsgi.input": io.BytesIO(b"abc")}
    run_asgi_app(app, env)
    assert received == [(3, False)]
    received.clear()
    run_asgi_app(app, {"CONTENT_LENGTH": "0"})
    assert received == [(0, False)]


def test_asgi_streaming_is_lazy_and_waits_for_app():
    events = []

    async def app(scope, receive, send):
        await send(START)
        for part in (b"a", b"", b"b"):
            events.append(part)
            await asyncio.sleep(0.001)
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "more_body": False})
        await asyncio.sleep(0.001)
        events.append("after")

    with Client(app) as c:
        response = c.get("/")
        assert "after" not in events
        assert response.is_streamed
        assert response.data == b"ab"
        assert events == [b"a", b"", b"b", "after"]


def test_asgi_endless_stream_can_be_read_in_part():
    async def app(scope, receive, send):
        await send(START)
        n = 0
        while True:
            n += 1
            await send(
                {"type": "http.response.body", "body": b"%d" % n, "more_body": True}
            )
            await asyncio.sleep(0)

    with Client(app) as c:
        response = c.get("/")
        body = iter(response.response)
        assert [next(body) for _ in range(3)] == [b"1", b"2", b"3"]
        response.close()


def test_asgi_disconnect_listener_waits_for_response():
    seen = []

    async def app(scope, receive, send):
        await receive()

        async def listen():
            seen.append(await receive())

        task = asyncio.ensure_future(listen())
        await send(START)
        await asyncio.sleep(0)
        assert not task.done()
        await send({"type": "http.response.body", "body": b"x"})
        await task

    with Client(app) as c:
        assert c.get("/").data == b"x"
    assert seen == [{"type": "http.disconnect"}]


def test_asgi_close_early_cancels_app():
    events = []

    async def app(scope, receive, send):
        await send(START)
        try:
            while True:
                await send(
                    {"type": "http.response.body", "body": b"x", "more_body": True}
                )
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    with Client(app) as c:
        response = c.get("/")
        assert next(iter(response.response)) == b"x"
        response.close()
        response.close()
        assert events == ["cancelled"]


def test_asgi_close_after_disconnect_send_error_swallowed():
    events = []

    async def app(scope, receive, send):
        await send(START)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
        try:
            await send({"type": "http.response.body", "body": b"late"})
        except OSError as e:
            events.append(type(e).__name__)
            raise

    with Client(app) as c:
        c.get("/").close()
    assert events == ["_Disconnected"]


def test_asgi_receive_after_client_close_reports_disconnect():
    events = []

    async def app(scope, receive, send):
        await receive()
        await send(START)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append(await receive())

    with Client(app) as c:
        c.get("/").close()
    assert events == [{"type": "http.disconnect"}]


def test_asgi_close_after_complete_response_is_noop():
    app = _asgi_app(START, {"type": "http.response.body", "body": b"z"})
    with Client(app) as c:
        response = c.get("/")
        assert response.data == b"z"
        response.close()


def test_asgi_app_errors():
    async def fails_before(scope, receive, send):
        raise LookupError("before")

    async def fails_after(scope, receive, send):
        await send(START)
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        raise LookupError("after")

    async def silent(scope, receive, send):
        pass

    with Client(fails_before) as c:
        with pytest.raises(LookupError, match="before"):
            c.get("/")
    with Client(fails_after) as c:
        response = c.get("/")
        with pytest.raises(LookupError, match="after"):
            response.get_data()
        with pytest.raises(LookupError, match="after"):
            c.get("/", buffered=True)
    with Client(silent) as c:
        with pytest.raises(RuntimeError, match="without sending"):
            c.get("/")


@pytest.mark.parametrize(
    ("messages", "exc", "match"),
    [
        ([{"type": "http.response.body"}], RuntimeError, "before"),
        ([START, START], RuntimeError, "twice"),
        ([{"type": "http.response.start", "status": "200"}], TypeError, "int"),
        ([{"type": "http.response.start", "status": True}], TypeError, "int"),
        (
            [{"type": "http.response.start", "status": 200, "headers": [("a", "b")]}],
            TypeError,
            "bytes",
        ),
        (
            [{"type": "http.response.start", "status": 200, "headers": [(b"a",)]}],
            TypeError,
            "bytes",
        ),
        ([START, {"type": "http.response.body", "body": "x"}], TypeError, "bytes"),
        ([START, {"type": "http.response.trailers"}], RuntimeError, "supports"),
        (
            [START, {"type": "http.response.body"}, {"type": "http.response.body"}],
            RuntimeError,
            "complete",
        ),
    ],
)
def test_asgi_protocol_errors(messages, exc, match):
    with Client(_asgi_app(*messages)) as c:
        with pytest.raises(exc, match=match):
            c.get("/", buffered=True)


def test_asgi_status_line_and_headers():
    app = _asgi_app(
        {
            "type": "http.response.start",
            "status": 299,
            "headers": [(b"x-a", b"\xe9")],
        },
        {"type": "http.response.body", "body": bytearray(b"ba")},
    )
    with Client(app) as c:
        response = c.get("/")
        assert response.status == "299 UNKNOWN"
        assert response.headers["X-A"] == "\xe9"
        assert response.data == b"ba"


def test_asgi_inside_running_loop_is_refused():
    app = _asgi_app(START, {"type": "http.response.body"})

    async def main():
        with Client(app) as c:
            c.get("/")

    with pytest.raises(RuntimeError, match="running event"):
        asyncio.run(main())
    with pytest.raises(RuntimeError, match="running event"):
        asyncio.run(_run_asgi_in_loop(app))


async def _run_asgi_in_loop(app):
    run_asgi_app(app, create_environ())


def test_asgi_iterating_inside_running_loop_is_refused():
    async def app(scope, receive, send):
        await send(START)
        await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b"x"})

    with Client(app) as c:
        response = c.get("/")

        async def main():
            return response.get_data()

        with pytest.raises(RuntimeError, match="running event"):
            asyncio.run(main())
        response.close()


def test_client_loop_reused_closed_and_recreated():
    loops = []

    async def app(scope, receive, send):
        loops.append(asyncio.get_running_loop())
        await send(START)
        await send({"type": "http.response.body"})

    c = Client(app)
    c.get("/")
    c.get("/")
    assert loops[0] is loops[1]
    c.close()
    assert loops[0].is_closed()
    c.close()
    c.get("/")
    assert loops[2] is not loops[0]
    c.close()


def test_client_loop_closed_on_gc():
    loops = []

    async def app(scope, receive, send):
        loops.append(asyncio.get_running_loop())
        await send(START)
        await send({"type": "http.response.body"})

    c = Client(app)
    c.get("/", buffered=True)
    del c
    gc.collect()
    assert loops[0].is_closed()


def test_asgi_autodetection():
    async def fn(scope, receive, send):
        pass

    class AsyncCallable:
        async def __call__(self, scope, receive, send):
            pass

    class Dual(AsyncCallable):
        def wsgi_app(self, environ, start_response):
            pass

    assert Client(fn).asgi is True
    assert Client(AsyncCallable()).asgi is True
    assert Client(Dual()).asgi is False
    assert Client(Dual(), asgi=True).asgi is True
    assert Client(wsgi_echo).asgi is False
    assert Client(fn, asgi=False).asgi is False


# -- Client -------------------------------------------------------------------


def test_client_methods(client):
    for method in ("get", "post", "put", "patch", "delete", "options", "trace"):
        assert getattr(client, method)("/m").json["method"] == method.upper()
    response = client.head("/m")
    assert response.request.method == "HEAD"
    assert repr(client).startswith("<Client <function")


def test_client_echo_observations(client):
    response = client.post(
        "/p ä",
        base_url="http://example.org/app",
        query_string={"q": "ü"},
        headers={"X-Test": "1"},
        data={"a": "b"},
    )
    obs = response.json
    assert obs["method"] == "POST"
    assert obs["root"] == "/app"
    assert obs["path"] == "/p ä"
    assert obs["query"] == "q=%C3%BC"
    assert obs["body"] == "a=b"
    assert obs["headers"]["x-test"] == "1"
    assert obs["headers"]["host"] == "example.org"
    assert obs["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert obs["headers"]["content-length"] == "3"


def test_client_open_accepts_builder_environ_request(client):
    builder = EnvironBuilder("/b", method="PUT")
    assert client.open(builder).json["method"] == "PUT"
    environ = create_environ("/e", method="PATCH", environ_base={"X_EXTRA": "1"})
    response = client.open(environ)
    assert response.json["path"] == "/e"
    assert "X_EXTRA" not in response.request.environ
    request = TestRequest(create_environ("/r", method="DELETE"))
    response = client.open(request)
    assert response.request is request
    assert response.json["method"] == "DELETE"


def test_test_request_attributes():
    env = create_environ(
        "/x y",
        base_url="https://h:444/root",
        query_string="a=1",
        headers={"X": "1"},
        environ_base={"REMOTE_ADDR": "9.9.9.9"},
    )
    request = TestRequest(env)
    assert request.environ is env
    assert request.method == "GET"
    assert request.path == "/x y"
    assert request.root_path == "/root"
    assert request.url == "https://h:444/root/x%20y?a=1"
    assert request.headers["X"] == "1"
    assert request.args["a"] == "1"
    assert request.remote_addr == "9.9.9.9"
    odd = TestRequest({"SERVER_PORT": "x", "wsgi.input": _Unseekable()})
    assert odd.server == ("", None)
    assert odd._body_start is None
    odd._rewind_body()
    closed = io.BytesIO(b"")
    req = TestRequest({"wsgi.input": closed})
    closed.close()
    req._rewind_body()


def test_test_response(client):
    response = client.get("/r")
    assert isinstance(response, TestResponse)
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.mimetype == "application/json"
    assert response.text == response.get_data(as_text=True)
    assert response.get_json()["path"] == "/r"
    assert response.history == ()
    assert response.request.path == "/r"
    assert response.request.url == "http://localhost/r"
    assert repr(response).endswith(" bytes [200 OK]>")
    streamed = client.get("/r")
    assert repr(streamed) == "<TestResponse streamed [200 OK]>"
    streamed.close()
    buffered = client.get("/r", buffered=True)
    assert buffered.is_sequence
    assert TestResponse.__test__ is False


def test_test_response_no_default_mimetype():
    def app(environ, start_response):
        start_response("204 NO CONTENT", [])
        return []

    response = Client(app).get("/")
    assert "Content-Type" not in response.headers
    assert response.mimetype is None
    assert response.json is None


def test_response_wrapper_options():
    class Custom(Response):
        marker = True

    class CustomTest(TestResponse):
        pass

    assert Client(wsgi_echo).response_wrapper is TestResponse
    assert Client(wsgi_echo, Response).response_wrapper is TestResponse
    assert Client(wsgi_echo, CustomTest).response_wrapper is CustomTest
    wrapped = Client(wsgi_echo, Custom)
    response = wrapped.get("/")
    assert isinstance(response, TestResponse)
    assert isinstance(response, Custom)
    assert type(response).__name__ == "WrapperTestResponse"
    for bad in (dict, "x"):
        with pytest.raises(TypeError, match="response_wrapper"):
            Client(wsgi_echo, bad)


# -- cookies ------------------------------------------------------------------


def test_cookies_from_response_and_path_scoping(client):
    client.get("/set")
    assert client.get("/x").json["headers"]["cookie"] == "a=1"
    assert client.get("/sub").json["headers"]["cookie"] == "a=1; b=2"
    assert client.get("/sub/deeper").json["headers"]["cookie"] == "a=1; b=2"
    assert client.get("/subway").json["headers"]["cookie"] == "a=1"
    cookie = client.get_cookie("b", path="/sub")
    assert (cookie.key, cookie.value, cookie.domain, cookie.path) == (
        "b",
        "2",
        "localhost",
        "/sub",
    )
    assert cookie.origin_only
    client.get("/unset")
    assert client.get_cookie("a") is None
    assert client.get("/x").json["headers"].get("cookie") is None


def test_cookie_jar_replaces_explicit_cookie_header(client):
    obs = client.get("/", headers={"Cookie": "manual=1"}).json
    assert "cookie" not in obs["headers"]
    client.set_cookie("k", "v")
    obs = client.get("/", headers={"Cookie": "manual=1"}).json
    assert obs["headers"]["cookie"] == "k=v"


def test_client_set_get_delete_cookie():
    c = Client(wsgi_echo)
    c.set_cookie("k", "a b", path="/p", httponly=True, samesite="Lax")
    cookie = c.get_cookie("k", path="/p")
    assert cookie.value == '"a b"'
    assert cookie.decoded_value == "a b"
    assert cookie.http_only is True
    assert cookie.same_site == "Lax"
    assert cookie.origin_only is True
    assert c.get("/p").json["headers"]["cookie"] == 'k="a b"'
    assert "cookie" not in c.get("/").json["headers"]
    c.delete_cookie("k", path="/p")
    c.delete_cookie("k", path="/p")
    assert c.get_cookie("k", path="/p") is None
    c.set_cookie("gone", "1")
    c.set_cookie("gone", "", max_age=0)
    assert c.get_cookie("gone") is None
    with pytest.raises(ValueError, match="cookie name"):
        c.set_cookie("a b", "x")


def test_cookie_domains():
    c = Client(wsgi_echo)
    c.set_cookie("exact", "1", domain="example.org")
    c.set_cookie("wide", "1", domain="example.org", origin_only=False)
    sub = c.get("/", base_url="http://a.example.org").json["headers"]["cookie"]
    assert sub == "wide=1"
    top = c.get("/", base_url="http://example.org:8080").json["headers"]["cookie"]
    assert top == "exact=1; wide=1"
    assert "cookie" not in c.get("/", base_url="http://badexample.org").json["headers"]
    assert "cookie" not in c.get("/").json["headers"]


def test_cookie_attributes_parsed():
    def app(environ, start_response):
        start_response(
            "200 OK",
            [
                (
                    "Set-Cookie",
                    "s=1; Domain=.Example.ORG; Path=/a; Secure; HttpOnly;"
                    " SameSite=Strict; Partitioned; Max-Age=100",
                ),
                ("Set-Cookie", "e=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT"),
                ("Set-Cookie", "bad=1; Max-Age=soon; Path=relative"),
                ("Set-Cookie", "=novalue"),
                ("Set-Cookie", "old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"),
            ],
        )
        return [b""]

    c = Client(app)
    c.get("/dir/page", base_url="http://www.example.org")
    s = c.get_cookie("s", domain="example.org", path="/a")
    assert s.secure
    assert s.http_only
    assert s.partitioned
    assert s.same_site == "Strict"
    assert s.max_age == 100
    assert s.origin_only is False
    e = c.get_cookie("e", domain="www.example.org", path="/dir")
    assert e.expires.year == 2099
    assert e.max_age is None
    assert e.secure is False
    bad = c.get_cookie("bad", domain="www.example.org", path="/dir")
    assert bad.max_age is None
    assert c.get_cookie("old", domain="www.example.org", path="/dir") is None
    assert len(c._cookies) == 3


def test_cookie_expiry_on_send():
    c = Client(wsgi_echo)
    c.set_cookie("short", "1", max_age=100)
    c.set_cookie("long", "1")
    c.get_cookie("short")._expiry = 1.0
    assert c.get("/").json["headers"]["cookie"] == "long=1"
    assert c.get_cookie("short") is None


def test_cookies_disabled():
    c = Client(wsgi_echo, use_cookies=False)
    assert c.get("/set").headers.getlist("Set-Cookie")
    assert "cookie" not in c.get("/").json["headers"]
    assert c.get("/", headers={"Cookie": "m=1"}).json["headers"]["cookie"] == "m=1"
    for call in (
        lambda: c.get_cookie("a"),
        lambda: c.set_cookie("a"),
        lambda: c.delete_cookie("a"),
    ):
        with pytest.raises(TypeError, match="disabled"):
            call()


def test_cookie_target_with_bad_host():
    c = Client(wsgi_echo)
    c.set_cookie("k", "v")
    obs = c.get("/", headers={"Host": "[bad"}).json
    assert obs["headers"]["cookie"] == "k=v"


# -- redirects ----------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 303, 305])
def test_redirect_switches_to_get(client, code):
    response = client.post(
        f"/redirect/{code}/target~x=1",
        data=b"payload",
        content_type="text/plain",
        headers={"Transfer-Encoding": "chunked"},
        follow_redirects=True,
    )
    obs = response.json
    assert obs["method"] == "GET"
    assert obs["path"] == "/target"
    assert obs["query"] == "x=1"
    assert obs["body"] == ""
    assert "content-type" not in obs["headers"]
    assert "transfer-encoding" not in obs["headers"]
    assert [r.status_code for r in response.history] == [code]
    assert response.history[0].data == b"moved"


@pytest.mark.parametrize("code", [307, 308])
def test_redirect_keeps_method_and_body(client, code):
    response = client.put(
        f"/redirect/{code}/target",
        data=b"payload",
        content_type="text/plain",
        follow_redirects=True,
    )
    obs = response.json
    assert obs["method"] == "PUT"
    assert obs["body"] == "payload"
    assert obs["headers"]["content-type"] == "text/plain"


def test_redirect_keeps_head(client):
    response = client.head("/redirect/302/t", follow_redirects=True)
    assert response.request.method == "HEAD"
    assert response.request.path == "/t"


def test_redirect_chain_history_and_cookies(client):
    response = client.get(
        "/redirect/302/redirect/301/set", follow_redirects=True, buffered=True
    )
    assert [r.status_code for r in response.history] == [302, 301]
    assert response.history[1].history == (response.history[0],)
    assert response.data == b"set"
    assert client.get_cookie("a").value == "1"


def test_redirect_loop(client):
    response = client.get("/redirect/302/redirect/302/x")
    assert response.status_code == 302

    def looping(environ, start_response):
        start_response("302 FOUND", [("Location", "/again")])
        return [b""]

    with pytest.raises(ClientRedirectError, match="already followed"):
        Client(looping).get("/", follow_redirects=True)


def _redirecting(location, code="302 FOUND"):
    def app(environ, start_response):
        if environ["PATH_INFO"].endswith("/start"):
            start_response(code, [("Location", location)])
            return [b""]
        return wsgi_echo(environ, start_response)

    return app


def test_redirect_external_and_subdomain():
    with pytest.raises(RuntimeError, match="another host"):
        Client(_redirecting("http://other.org/x")).get("/start", follow_redirects=True)
    sub = _redirecting("http://api.localhost/x")
    with pytest.raises(RuntimeError, match="allow_subdomain_redirects"):
        Client(sub).get("/start", follow_redirects=True)
    response = Client(sub, allow_subdomain_redirects=True).get(
        "/start", follow_redirects=True
    )
    assert response.json["headers"]["host"] == "api.localhost"


def test_redirect_absolute_same_host_changes_scheme():
    app = _redirecting("https://localhost:8443/secure?x=1")
    obs = Client(app).get("/start", follow_redirects=True).json
    assert obs["headers"]["host"] == "localhost:8443"
    assert obs["path"] == "/secure"
    assert obs["query"] == "x=1"


def test_redirect_relative_and_script_root():
    obs = (
        Client(_redirecting("next"))
        .get("/dir/start", base_url="http://localhost/app", follow_redirects=True)
        .json
    )
    assert (obs["root"], obs["path"]) == ("/app", "/dir/next")
    obs = (
        Client(_redirecting("/app/in"))
        .get("/start", base_url="http://localhost/app", follow_redirects=True)
        .json
    )
    assert (obs["root"], obs["path"]) == ("/app", "/in")
    obs = (
        Client(_redirecting("/outside"))
        .get("/start", base_url="http://localhost/app", follow_redirects=True)
        .json
    )
    assert (obs["root"], obs["path"]) == ("", "/outside")


def test_redirect_307_with_unseekable_body():
    app = _redirecting("/target", "307 TEMPORARY REDIRECT")
    response = Client(app).post(
        "/start",
        input_stream=_Unseekable(),
        content_length=0,
        follow_redirects=True,
    )
    assert response.json["method"] == "POST"


def test_redirect_from_foreign_request_object():
    class Foreign(TestRequest):
        pass

    env = create_environ("/start", method="POST", data=b"abc")
    request = Foreign(env)
    app = _redirecting("/target", "308 PERMANENT REDIRECT")
    response = Client(app).open(request, follow_redirects=True)
    assert response.json["body"] == "abc"


def test_asgi_cancelled_receive_waiter_is_skipped():
    async def app(scope, receive, send):
        await receive()
        listener = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        listener.cancel()
        await send(START)
        await send({"type": "http.response.body", "body": b"done"})

    with Client(app) as c:
        assert c.get("/").data == b"done"


def test_asgi_close_after_complete_body_cancels_lingering_app():
    events = []

    async def app(scope, receive, send):
        await receive()
        await send(START)
        await send({"type": "http.response.body", "body": b"x"})
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append(await receive())
            raise

    with Client(app) as c:
        c.get("/").close()
    assert events == [{"type": "http.disconnect"}]


class EnvRequest(Request):
    def __init__(self, environ):
        super().__init__("POST", "http", None, "", "/start", b"", Headers(), None)
        self.environ = environ


@pytest.mark.parametrize("status", ["307 TEMPORARY REDIRECT", "302 FOUND"])
def test_redirect_from_plain_request_with_environ(status):
    env = create_environ("/start", method="POST")
    del env["wsgi.input"]
    app = _redirecting("/target", status)
    response = Client(app).open(EnvRequest(env), follow_redirects=True)
    assert response.json["path"] == "/target"


def test_open_with_single_path_argument(client):
    assert client.open("/single").json["path"] == "/single"
    with pytest.raises(TypeError, match="path must be a str"):
        client.open(object())
