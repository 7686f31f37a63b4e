from __future__ import annotations

import contextvars
import sys
import typing as t

import pytest

import erlen
from erlen.sansio.response import Response as BaseResponse
from erlen.testing import EnvironBuilder
from erlen.wsgi import respond
from erlen.wsgi import response_from_wsgi_app


def _environ(**kwargs: t.Any) -> dict[str, t.Any]:
    builder = EnvironBuilder(**kwargs)
    try:
        return builder.get_environ()
    finally:
        builder.close()


class _StartResponse:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.calls.append((status, headers))


def test_respond_buffered_body_goes_out_as_is() -> None:
    start = _StartResponse()
    response = BaseResponse("hello")
    body = respond(response, _environ(), start)
    # Not wrapped, not even in an encoding generator: the list itself.
    assert body is response.response
    assert list(body) == [b"hello"]
    assert start.calls[0][0] == "200 OK"
    assert ("Content-Length", "5") in start.calls[0][1]


def _answer(response: BaseResponse, **kwargs: t.Any) -> tuple[t.Any, ...]:
    start = _StartResponse()
    body = respond(response, _environ(**kwargs), start)
    (status, headers), *more = start.calls
    assert not more
    return status, headers, list(body)


@pytest.mark.parametrize(
    ("body", "status", "method"),
    [
        ([b"a", b"b"], 200, "GET"),
        ([], 200, "GET"),
        ([b"a"], 200, "HEAD"),
        ([b"a"], 204, "GET"),
        ([b"a"], 304, "GET"),
        ([b"a"], 101, "GET"),
        ([b"a"], 404, "POST"),
        (["a", b"b"], 200, "GET"),  # str items: the encoding path
        ((b"a",), 200, "GET"),
        ([bytearray(b"a")], 200, "GET"),
    ],
)
def test_respond_fast_path_agrees_with_get_wsgi_response(
    body: t.Any, status: int, method: str
) -> None:
    response = BaseResponse(body, status=status)
    expected_body, expected_status, expected_headers = response.get_wsgi_response(
        _environ(method=method)
    )
    assert _answer(response, method=method) == (
        expected_status,
        expected_headers,
        list(expected_body),
    )


@pytest.mark.parametrize(
    "headers",
    [
        [("Location", "/caf\u00e9")],
        [("content-location", "/x y")],
        [("Content-Length", "1")],
        [("content-length", "1"), ("X-Long-Header-14", "v")],
        [("Locatio_", "v"), ("Content-Locatio_", "v"), ("Content-Lengt_", "v")],
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("auto_length", [True, False])
def test_respond_fast_path_headers_agree(
    headers: list[tuple[str, str]], method: str, auto_length: bool
) -> None:
    class Auto(BaseResponse):
        automatically_set_content_length = auto_length

    response = Auto(b"a", headers=headers)
    expected_body, expected_status, expected_headers = response.get_wsgi_response(
        _environ(method=method)
    )
    answer = _answer(response, method=method)
    assert answer == (expected_status, expected_headers, list(expected_body))
    # The pairs handed to the server are a copy.
    assert answer[1] is not response.headers._list


def test_respond_honours_overridden_wsgi_headers() -> None:
    class Extra(BaseResponse):
        def get_wsgi_headers(self, environ: t.Any) -> t.Any:
            headers = super().get_wsgi_headers(environ)
            headers["X-Extra"] = "1"
            return headers

    assert ("X-Extra", "1") in _answer(Extra("x"))[1]
    assert Extra._plain_send is False


def test_respond_calls_overridden_response_methods() -> None:
    class AppIter(BaseResponse):
        def get_app_iter(self, environ: t.Any) -> t.Iterable[bytes]:
            return [b"app-iter"]

    class WSGIResponse(BaseResponse):
        def get_wsgi_response(
            self, environ: t.Any
        ) -> tuple[t.Iterable[bytes], str, list[tuple[str, str]]]:
            return [b"wsgi"], "201 CREATED", [("X", "1")]

    assert _answer(AppIter("x"))[2] == [b"app-iter"]
    assert _answer(WSGIResponse("x")) == ("201 CREATED", [("X", "1")], [b"wsgi"])


def test_respond_closes_streamed_body_and_hooks() -> None:
    events: list[str] = []

    def generate() -> t.Iterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            events.append("generator closed")

    response = BaseResponse(generate())
    response.call_on_close(lambda: events.append("hook"))
    body = respond(response, _environ(), _StartResponse())
    iterator = iter(body)
    assert next(iterator) == b"a"
    body.close()  # type: ignore[attr-defined]
    assert events == ["generator closed", "hook"]


def test_respond_sequence_with_close_hook() -> None:
    events: list[str] = []
    response = BaseResponse("x")
    response.call_on_close(lambda: events.append("hook"))
    body = respond(response, _environ(), _StartResponse())
    assert b"".join(body) == b"x"
    body.close()  # type: ignore[attr-defined]
    assert events == ["hook"]


def test_respond_in_context() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outer")
    context = contextvars.copy_context()
    context.run(var.set, "request")
    seen: list[str] = []

    def generate() -> t.Iterator[bytes]:
        try:
            seen.append(var.get())
            yield b"a"
        finally:
            seen.append(var.get())

    body = respond(BaseResponse(generate()), _environ(), _StartResponse(), context)
    assert iter(body) is body
    assert list(body) == [b"a"]
    body.close()  # type: ignore[attr-defined]
    assert seen == ["request", "request"]
    assert var.get() == "outer"


def test_response_from_wsgi_app() -> None:
    def app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        write = start_response("202 ACCEPTED", [("X-A", "1")])
        write(b"written ")
        return [b"returned", bytearray(b"!")]

    response = response_from_wsgi_app(app, _environ(), erlen.Response)
    assert response.status_code == 202
    assert response.headers["X-A"] == "1"
    assert response.get_data() == b"written returned!"


def test_response_from_wsgi_app_closes_iterable() -> None:
    events: list[str] = []

    class Body:
        def __iter__(self) -> t.Iterator[bytes]:
            yield b"x"

        def close(self) -> None:
            events.append("closed")

    def app(environ: dict[str, t.Any], start_response: t.Any) -> Body:
        start_response("200 OK", [])
        return Body()

    assert response_from_wsgi_app(app, _environ(), erlen.Response).get_data() == b"x"
    assert events == ["closed"]


def test_response_from_wsgi_app_errors() -> None:
    with pytest.raises(TypeError, match="got int"):
        response_from_wsgi_app(3, _environ(), erlen.Response)  # type: ignore[arg-type]

    def silent(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        return [b"x"]

    with pytest.raises(TypeError, match="without calling start_response"):
        response_from_wsgi_app(silent, _environ(), erlen.Response)


def test_response_from_wsgi_app_exc_info() -> None:
    def restarts(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("200 OK", [])
        try:
            raise ValueError("late")
        except ValueError:
            return start_response("500 ERROR", [], sys.exc_info())  # type: ignore[no-any-return]

    with pytest.raises(ValueError, match="late"):
        response_from_wsgi_app(restarts, _environ(), erlen.Response)

    def first_with_exc_info(
        environ: dict[str, t.Any], start_response: t.Any
    ) -> list[bytes]:
        try:
            raise ValueError("early")
        except ValueError:
            start_response("500 ERROR", [], sys.exc_info())
        return [b"error page"]

    response = response_from_wsgi_app(first_with_exc_info, _environ(), erlen.Response)
    assert response.status_code == 500
    assert response.get_data() == b"error page"


def test_app_wsgi_entry_point(app: erlen.Flask) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    start = _StartResponse()
    body = app(_environ(), start)
    assert b"".join(body) == b"x"
    assert start.calls[0][0] == "200 OK"
    body = app.wsgi_app(_environ(method="HEAD"), start)
    assert b"".join(body) == b""
