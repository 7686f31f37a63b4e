"""The floor: a hand-written WSGI callable and ASGI callable.

They do the minimum work each endpoint needs and nothing else: a dict of
``(method, path)`` for the static routes, two precompiled regexes for the
dynamic ones (the 200 extra routes are *not* registered: their cost is what
a framework adds), ``urllib.parse`` for query strings and urlencoded bodies,
``json`` for JSON, python-multipart's low-level parser (the one erlen and
Starlette use) for the upload, a split of the ``Cookie`` header, and a Jinja
template compiled once. The "hooks" are two inline statements.
"""

from __future__ import annotations

import json
import re
import typing as t
import urllib.parse

from python_multipart.multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from benchmarks import common as c

_USER = re.compile(r"/user/(\d+)/post/([^/]+)\Z")
_DEEP = re.compile(r"/api/v(\d+)/items/(\d+)\Z")

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"

Answer = tuple[int, list[tuple[str, str]], bytes]


def _text(body: str) -> Answer:
    return 200, [("Content-Type", _TEXT)], body.encode()


def _json(obj: t.Any) -> Answer:
    return 200, [("Content-Type", _JSON)], json.dumps(obj).encode()


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    """Return ``(fields, files)`` of a multipart body; files map to (name, data)."""
    _, params = parse_options_header(content_type)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    header_name = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}
    data: list[bytes] = []

    def on_part_begin() -> None:
        headers.clear()
        data.clear()

    def on_header_field(buf: bytes, start: int, end: int) -> None:
        header_name.extend(buf[start:end])

    def on_header_value(buf: bytes, start: int, end: int) -> None:
        header_value.extend(buf[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(buf: bytes, start: int, end: int) -> None:
        data.append(buf[start:end])

    def on_part_end() -> None:
        _, disp = parse_options_header(headers.get(b"content-disposition", b""))
        name = disp[b"name"].decode()
        if b"filename" in disp:
            files[name] = (disp[b"filename"].decode(), b"".join(data))
        else:
            fields[name] = b"".join(data).decode()

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    parser.write(body)
    parser.finalize()
    return fields, files


def _search(query: str) -> Answer:
    args = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    return _json({"q": args.get("q", ""), "page": int(args.get("page", "1"))})


def _form(body: bytes) -> Answer:
    values = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    return _text(c.form_answer(len(values), values["f9"]))


def _upload(content_type: str, body: bytes) -> Answer:
    fields, files = _parse_multipart(content_type, body)
    filename, data = files["file"]
    return _text(c.upload_answer(filename, len(data), fields["title"], fields["tag"]))


def _cookie(header: str) -> Answer:
    value = ""
    for pair in header.split(";"):
        name, _, val = pair.strip().partition("=")
        if name == c.COOKIE_IN:
            value = val
            break
    headers = [
        ("Content-Type", _TEXT),
        ("Set-Cookie", f"{c.COOKIE_OUT}={value}; Path=/"),
    ]
    return 200, headers, value.encode()


_NOT_FOUND: Answer = (404, [("Content-Type", _TEXT)], b"Not Found")


def _make_handler() -> t.Callable[[str, str, str, str, str, bytes], Answer]:
    """Return ``handle(method, path, query, cookie, content_type, body)``."""
    template = c.template_environment().get_template(c.TEMPLATE_NAME)
    hello = _text(c.HELLO)
    json_message: Answer = (
        200,
        [("Content-Type", _JSON)],
        json.dumps(c.JSON_MESSAGE).encode(),
    )

    def get(path: str, query: str, cookie_header: str) -> Answer:
        if path == "/":
            return hello
        if path == "/json":
            return json_message
        if path == "/search":
            return _search(query)
        if path == "/template":
            html = template.render(title=c.TEMPLATE_TITLE, items=c.TEMPLATE_ITEMS)
            return 200, [("Content-Type", _HTML)], html.encode()
        if path == "/cookie":
            return _cookie(cookie_header)
        m = _USER.match(path)
        if m is not None:
            return _text(c.user_answer(int(m[1]), m[2]))
        m = _DEEP.match(path)
        if m is not None:
            return _text(c.deep_answer(int(m[1]), int(m[2])))
        return _NOT_FOUND

    def handle(
        method: str, path: str, query: str, cookie_header: str, ctype: str, body: bytes
    ) -> Answer:
        if method == "GET":
            return get(path, query, cookie_header)
        if method == "POST":
            if path == "/form":
                return _form(body)
            if path == "/upload":
                return _upload(ctype, body)
            if path == "/echo-json":
                return _json(json.loads(body))
        return _NOT_FOUND

    return handle


_REASONS = {200: "200 OK", 404: "404 Not Found"}


def build_wsgi() -> t.Callable[..., t.Iterable[bytes]]:
    """Return the bare WSGI callable."""
    handle = _make_handler()

    def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list:
        environ["bench.hook"] = c.HOOK_VALUE  # the "before-request hook"
        method = environ["REQUEST_METHOD"]
        body = b""
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
        status, headers, out = handle(
            method,
            environ["PATH_INFO"],
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_COOKIE", ""),
            environ.get("CONTENT_TYPE", ""),
            body,
        )
        headers = [
            *headers,
            ("Content-Length", str(len(out))),
            ("X-Hook", environ["bench.hook"]),  # the "after-request hook"
        ]
        start_response(_REASONS[status], headers)
        return [out]

    return app


def build_asgi() -> t.Callable[..., t.Awaitable[None]]:
    """Return the bare ASGI callable (with a minimal lifespan)."""
    handle = _make_handler()

    async def app(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        state = {"hook": c.HOOK_VALUE}  # the "before-request hook"
        method = scope["method"]
        cookie = ctype = ""
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value.decode("latin-1")
            elif name == b"content-type":
                ctype = value.decode("latin-1")
        body = b""
        if method == "POST":
            chunks = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
        status, headers, out = handle(
            method, scope["path"], scope["query_string"].decode(), cookie, ctype, body
        )
        raw = [(n.encode(), v.encode()) for n, v in headers]
        raw.append((b"content-length", str(len(out)).encode()))
        raw.append((b"x-hook", state["hook"].encode()))  # the "after-request hook"
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": out})

    return app
