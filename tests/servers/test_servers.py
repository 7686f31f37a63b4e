"""One app under gunicorn, uvicorn, hypercorn and granian, over real sockets."""

from __future__ import annotations

import json

import pytest

from .conftest import Server

pytestmark = pytest.mark.servers


def _multipart(
    fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    boundary = "erlenBoundary7MA4YWxkTrZu0gW"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data;"
            f' name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, mimetype, content) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}";'
                f' filename="{filename}"\r\nContent-Type: {mimetype}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _session_cookie(set_cookie: str) -> str:
    # "session=<value>; HttpOnly; Path=/" -> "session=<value>"
    return set_cookie.split(";", 1)[0]


def test_get(server: Server) -> None:
    reply = server.request("GET", "/")
    assert reply.status == 200, server.log()
    assert reply.body == b"hello from erlen"
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Content-Length"] == str(len(b"hello from erlen"))


def test_protocol_chosen_by_server(server: Server) -> None:
    # The same object is WSGI under gunicorn and ASGI under uvicorn: the
    # servers sniff app.__call__ (or are told the interface).
    reply = server.request("GET", "/pid")
    assert reply.status == 200, server.log()
    assert reply.json()["protocol"] == server.protocol


def test_json_post(server: Server) -> None:
    payload = {
        "name": "erlen",
        "tags": ["wsgi", "asgi"],
        "n": 3,
        "nested": {"ok": True},
    }
    reply = server.request(
        "POST",
        "/json",
        body=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 200, server.log()
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"received": payload, "content_type": "application/json"}


def test_bad_json_is_400(server: Server) -> None:
    reply = server.request(
        "POST", "/json", body=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400, server.log()


@pytest.mark.parametrize("size", [11, 1536 * 1024])
def test_multipart_upload(server: Server, size: int) -> None:
    # 1.5 MiB goes past both the ASGI driver's in-memory body limit and the
    # form parser's spool threshold.
    content = (b"erlen file\n" * (size // 11 + 1))[:size]
    body, content_type = _multipart(
        {"title": "h\u00e9llo"}, {"file": ("notes.txt", "text/plain", content)}
    )
    reply = server.request(
        "POST", "/upload", body=body, headers={"Content-Type": content_type}
    )
    assert reply.status == 200, server.log()
    assert reply.json() == {
        "title": "h\u00e9llo",
        "filename": "notes.txt",
        "mimetype": "text/plain",
        "size": size,
        "text": content.decode(),
    }


def test_session_round_trip(server: Server) -> None:
    first = server.request("GET", "/session/set?value=round-trip-%C3%A9")
    assert first.status == 200, server.log()
    set_cookie = first.headers["Set-Cookie"]
    assert set_cookie.startswith("session=")
    assert "HttpOnly" in set_cookie
    assert "Path=/" in set_cookie
    assert first.headers["Vary"] == "Cookie"

    second = server.request(
        "GET", "/session/get", headers={"Cookie": _session_cookie(set_cookie)}
    )
    assert second.status == 200
    assert second.json() == {"value": "round-trip-\u00e9"}
    # Read but not modified: no new cookie.
    assert second.headers["Set-Cookie"] is None

    # Without the cookie the session is empty; a forged cookie is ignored.
    assert server.request("GET", "/session/get").json() == {"value": None}
    forged = _session_cookie(set_cookie)[:-2] + "xx"
    assert server.request("GET", "/session/get", headers={"Cookie": forged}).json() == {
        "value": None
    }


def test_async_view(server: Server) -> None:
    reply = server.request("GET", "/async?id=a1")
    assert reply.status == 200, server.log()
    assert reply.json() == {"async": True, "id": "a1", "g": "a1"}


def test_not_found(server: Server) -> None:
    reply = server.request("GET", "/no/such/page")
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<title>404 Not Found</title>" in reply.body


def test_method_not_allowed(server: Server) -> None:
    reply = server.request("DELETE", "/json")
    assert reply.status == 405
    # Werkzeug's order follows a set; compare as one.
    assert set(reply.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_streamed_response(server: Server) -> None:
    reply = server.request("GET", "/stream?id=s9&n=50")
    assert reply.status == 200, server.log()
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    # No length up front: the body was streamed (chunked over HTTP/1.1).
    assert reply.headers["Content-Length"] is None
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert reply.body == "".join(f"s9:{i}\n" for i in range(50)).encode()


def _hypercorn_wsgi(server: Server) -> bool:
    # hypercorn's WSGI adapter sends the status line only with the first body
    # chunk, so any WSGI response with an empty body (HEAD, 204, 304) becomes
    # a 500 there (pgjones/hypercorn#331, open). Flask apps are hit the same
    # way. erlen's app reaches that adapter only when hypercorn sniffs it as
    # WSGI (Python 3.11, without the "asgi:" prefix).
    return server.name.startswith("hypercorn") and server.protocol == "wsgi"


def test_head_has_no_body(server: Server) -> None:
    reply = server.request("HEAD", "/")
    if _hypercorn_wsgi(server):
        assert reply.status == 500
        assert "UnexpectedMessageError" in server.log()
        return
    assert reply.status == 200, server.log()
    assert reply.body == b""
    assert reply.headers["Content-Length"] == str(len(b"hello from erlen"))


def test_no_content(server: Server) -> None:
    reply = server.request("POST", "/empty")
    if _hypercorn_wsgi(server):
        assert reply.status == 500
        return
    assert reply.status == 204, server.log()
    assert reply.body == b""
    assert reply.headers["X-Done"] == "yes"


def test_keep_alive_connection_serves_many(server: Server) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        for i in range(5):
            conn.request("GET", f"/async?id=k{i}")
            resp = conn.getresponse()
            assert resp.status == 200
            assert json.loads(resp.read()) == {
                "async": True,
                "id": f"k{i}",
                "g": f"k{i}",
            }
    finally:
        conn.close()


def test_request_values_over_the_wire(server: Server) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        conn.putrequest(
            "GET", "/inspect/%C3%BCber/a%2Fb?q=a+b&q=%C3%A9t%C3%A9&empty=&x=%26"
        )
        conn.putheader("X-Custom", "one")
        conn.putheader("X-Custom", "two")
        conn.endheaders()
        resp = conn.getresponse()
        data = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 200, server.log()
    assert data["rest"] == "\u00fcber/a/b"
    assert data["path"] == "/inspect/\u00fcber/a/b"
    assert data["args"] == {"q": ["a b", "\u00e9t\u00e9"], "empty": [""], "x": ["&"]}
    assert data["host"] == f"127.0.0.1:{server.port}"
    assert data["url"] == (
        # An IRI, as Werkzeug's: the path and query decoded, "&" kept quoted.
        f"http://127.0.0.1:{server.port}/inspect/\u00fcber/a/b"
        "?q=a+b&q=\u00e9t\u00e9&empty=&x=%26"
    )
    assert data["scheme"] == "http"
    assert data["remote_addr"] == "127.0.0.1"
    # WSGI servers join a repeated header with "," (gunicorn, granian) in
    # the environ; under ASGI erlen keeps the raw list and joins with ", ".
    assert [v.strip() for v in data["x_custom"].split(",")] == ["one", "two"]


def _chunks(data: bytes, size: int) -> object:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_chunked_request_body(server: Server) -> None:
    # No Content-Length: the body comes in chunks and ends with the 0 chunk.
    import http.client

    payload = {"chunked": True, "items": list(range(2000))}
    raw = json.dumps(payload).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        conn.request(
            "POST",
            "/json",
            body=_chunks(raw, 1000),
            headers={
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
            },
            encode_chunked=True,
        )
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if _hypercorn_wsgi(server):
        # hypercorn's WSGI adapter gives neither CONTENT_LENGTH nor
        # wsgi.input_terminated for a chunked body, so the body cannot be
        # read safely and the JSON is missing: 400, as Flask answers there.
        assert resp.status == 400
        return
    assert resp.status == 200, server.log()
    assert json.loads(body)["received"] == payload


def test_urlencoded_form_post(server: Server) -> None:
    reply = server.request(
        "POST",
        "/inspect/form",
        body=b"a=1&a=2&b=%C3%A9+x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200, server.log()
    data = reply.json()
    assert data["method"] == "POST"
    assert data["form"] == {"a": ["1", "2"], "b": ["\u00e9 x"]}
