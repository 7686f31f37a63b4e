"""send_file, send_from_directory, static routes, and the drivers' file paths."""

from __future__ import annotations

import asyncio
import gc
import io
import pathlib
import typing as t
import weakref
from datetime import timedelta

import pytest

import erlen
from erlen.exceptions import NotFound
from erlen.sansio.files import FileBody
from erlen.testing import EnvironBuilder

DATA = bytes(range(256)) * 300  # 76800 bytes: more than one 64 KiB chunk


def fetch(client: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Make a request, read the body and close the response (its file)."""
    rv = client.open(*args, **kwargs)
    rv.get_data()
    rv.close()
    return rv


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "data.bin").write_bytes(DATA)
    (tmp_path / "static" / "css" / "site.css").write_bytes(b"body{}")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "report.txt").write_bytes(b"report")
    (tmp_path / "bp_static").mkdir()
    (tmp_path / "bp_static" / "bp.js").write_bytes(b"js()")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    return tmp_path


@pytest.fixture
def files_app(root: pathlib.Path) -> erlen.Flask:
    app = erlen.Flask("files_app", root_path=str(root))

    @app.route("/file")
    def file() -> t.Any:
        return erlen.send_file("static/data.bin")

    @app.route("/dir/<path:name>")
    def directory(name: str) -> t.Any:
        return erlen.send_from_directory("files", name, as_attachment=True)

    @app.route("/memory")
    def memory() -> t.Any:
        return erlen.send_file(io.BytesIO(b"in memory"), download_name="m.txt")

    bp = erlen.Blueprint(
        "bp", __name__, static_folder=str(root / "bp_static"), url_prefix="/bp"
    )
    app.register_blueprint(bp)
    return app


def test_static_route_and_url_for(files_app: erlen.Flask, interface: str) -> None:
    client = files_app.test_client(asgi=interface == "asgi")
    rv = fetch(client, "/static/css/site.css")
    assert rv.status_code == 200
    assert rv.data == b"body{}"
    assert rv.headers["Content-Type"] == "text/css; charset=utf-8"
    assert rv.headers["Cache-Control"] == "no-cache"
    with files_app.test_request_context():
        assert erlen.url_for("static", filename="css/site.css") == (
            "/static/css/site.css"
        )
        assert erlen.url_for("bp.static", filename="bp.js") == "/bp/bp_static/bp.js"
    rv = fetch(client, "/bp/bp_static/bp.js")
    assert rv.status_code == 200
    assert rv.data == b"js()"
    assert fetch(client, "/static/missing.css").status_code == 404
    assert fetch(client, "/static/../secret.txt").status_code == 404


def test_send_file_relative_to_root_path(
    files_app: erlen.Flask, interface: str
) -> None:
    client = files_app.test_client(asgi=interface == "asgi")
    rv = fetch(client, "/file")
    assert rv.data == DATA
    assert rv.headers["Content-Length"] == str(len(DATA))
    rv = fetch(client, "/file", headers={"Range": "bytes=70000-"})
    assert rv.status_code == 206
    assert rv.data == DATA[70000:]
    rv = fetch(client, "/file", headers={"Range": "bytes=999999-"})
    assert rv.status_code == 416
    assert rv.headers["Content-Range"] == f"bytes */{len(DATA)}"
    rv = fetch(client, method="HEAD", path="/file")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["Content-Length"] == str(len(DATA))


def test_send_from_directory_in_app(files_app: erlen.Flask, interface: str) -> None:
    client = files_app.test_client(asgi=interface == "asgi")
    rv = fetch(client, "/dir/report.txt")
    assert rv.data == b"report"
    assert rv.headers["Content-Disposition"] == "attachment; filename=report.txt"
    assert fetch(client, "/dir/../secret.txt").status_code == 404
    assert fetch(client, "/dir/%2e%2e/secret.txt").status_code == 404
    assert fetch(client, "/memory").data == b"in memory"


@pytest.mark.parametrize(
    ("value", "header"),
    [
        (None, "no-cache"),
        (3600, "public, max-age=3600"),
        (timedelta(hours=2), "public, max-age=7200"),
        (0, "no-cache, max-age=0"),
    ],
)
def test_send_file_max_age_default(
    files_app: erlen.Flask, value: t.Any, header: str
) -> None:
    files_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = value
    client = files_app.test_client()
    assert fetch(client, "/file").headers["Cache-Control"] == header
    assert fetch(client, "/static/css/site.css").headers["Cache-Control"] == header
    assert fetch(client, "/bp/bp_static/bp.js").headers["Cache-Control"] == header


def test_get_send_file_max_age_override_per_scaffold(root: pathlib.Path) -> None:
    class App(erlen.Flask):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 11 if filename and filename.endswith(".css") else None

    class BP(erlen.Blueprint):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 22

    app = App("x", root_path=str(root))
    app.register_blueprint(
        BP("b", __name__, static_folder=str(root / "bp_static"), url_prefix="/b")
    )

    @app.route("/f")
    def f() -> t.Any:
        # send_file asks the app, with the full path, when max_age is None.
        return erlen.send_file("static/css/site.css")

    client = app.test_client()
    assert fetch(client, "/static/css/site.css").headers["Cache-Control"] == (
        "public, max-age=11"
    )
    assert fetch(client, "/static/data.bin").headers["Cache-Control"] == "no-cache"
    assert fetch(client, "/b/bp_static/bp.js").headers["Cache-Control"] == (
        "public, max-age=22"
    )
    assert fetch(client, "/f").headers["Cache-Control"] == "public, max-age=11"


def test_use_x_sendfile(files_app: erlen.Flask, interface: str) -> None:
    files_app.config["USE_X_SENDFILE"] = True
    client = files_app.test_client(asgi=interface == "asgi")
    rv = fetch(client, "/static/css/site.css")
    assert rv.headers["X-Sendfile"] == str(files_app.root_path) + "/static/css/site.css"
    assert rv.data == b""


def test_response_class_is_the_apps(files_app: erlen.Flask) -> None:
    class MyResponse(erlen.Response):
        pass

    files_app.response_class = MyResponse
    with files_app.test_request_context("/"):
        rv = erlen.send_file("static/data.bin")
        assert type(rv) is MyResponse
        rv.close()
        rv = files_app.send_static_file("css/site.css")
        assert type(rv) is MyResponse
        rv.close()
        with pytest.raises(NotFound):
            files_app.send_static_file("../secret.txt")


def test_helpers_need_a_request_context(files_app: erlen.Flask) -> None:
    with pytest.raises(RuntimeError, match=r"send_file\(\) needs a request context"):
        erlen.send_file("static/data.bin")
    with pytest.raises(RuntimeError, match="send_from_directory"):
        erlen.send_from_directory("files", "report.txt")
    with pytest.raises(RuntimeError, match="application context"):
        files_app.get_send_file_max_age("x")
    with files_app.app_context():
        assert files_app.get_send_file_max_age("x") is None
        with pytest.raises(RuntimeError, match="send_static_file"):
            files_app.send_static_file("css/site.css")


def test_no_static_folder(root: pathlib.Path) -> None:
    app = erlen.Flask("x", root_path=str(root), static_folder=None)
    assert "static" not in app.view_functions
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError, match="has no static folder"):
            app.send_static_file("data.bin")


def test_static_url_path_and_host(root: pathlib.Path) -> None:
    app = erlen.Flask(
        "x",
        root_path=str(root),
        static_url_path="/assets",
        host_matching=True,
        static_host="cdn.example",
    )
    client = app.test_client()
    rv = fetch(client, "/assets/css/site.css", base_url="http://cdn.example")
    assert rv.data == b"body{}"
    assert fetch(
        client, "/assets/css/site.css", base_url="http://other"
    ).status_code == (404)


def test_static_route_does_not_keep_the_app_alive(root: pathlib.Path) -> None:
    app = erlen.Flask("x", root_path=str(root))
    ref = weakref.ref(app)
    del app
    gc.collect()
    assert ref() is None


# -- WSGI driver: wsgi.file_wrapper ---------------------------------------------


class RecordingWrapper:
    """A PEP 3333 file wrapper that records what it was given."""

    instances: t.ClassVar[list[RecordingWrapper]] = []

    def __init__(self, filelike: t.Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size
        self.position = filelike.tell()
        self.fileno = filelike.fileno()
        self.instances.append(self)

    def __iter__(self) -> t.Iterator[bytes]:
        while True:
            block = self.filelike.read(self.block_size)
            if not block:
                return
            yield block

    def close(self) -> None:
        self.filelike.close()


def _wsgi(app: erlen.Flask, path: str, **headers: str) -> tuple[str, bytes, t.Any]:
    RecordingWrapper.instances.clear()
    environ = EnvironBuilder(path=path, headers=headers).get_environ()
    environ["wsgi.file_wrapper"] = RecordingWrapper
    started: list[str] = []
    app_iter = app.wsgi_app(environ, lambda s, h, e=None: started.append(s))
    try:
        body = b"".join(app_iter)
    finally:
        t.cast(t.Any, app_iter).close()
    return started[0], body, app_iter


def test_wsgi_file_wrapper_gets_the_whole_file(files_app: erlen.Flask) -> None:
    closed: list[bool] = []

    @files_app.after_request
    def hook(response: erlen.Response) -> erlen.Response:
        response.call_on_close(lambda: closed.append(True))
        return response

    status, body, app_iter = _wsgi(files_app, "/file")
    assert status == "200 OK"
    assert body == DATA
    assert isinstance(app_iter, RecordingWrapper)
    assert app_iter.block_size == 64 * 1024
    assert app_iter.position == 0
    assert app_iter.fileno > 2
    # Closing the wrapper closed the response: its call_on_close hooks ran.
    assert closed == [True]


def test_wsgi_file_wrapper_for_a_range_to_the_end(files_app: erlen.Flask) -> None:
    status, body, app_iter = _wsgi(files_app, "/file", Range="bytes=-100")
    assert status.startswith("206")
    assert body == DATA[-100:]
    assert isinstance(app_iter, RecordingWrapper)
    assert app_iter.position == len(DATA) - 100


def test_wsgi_inner_range_is_iterated(files_app: erlen.Flask) -> None:
    status, body, app_iter = _wsgi(files_app, "/file", Range="bytes=10-19")
    assert status.startswith("206")
    assert body == DATA[10:20]
    assert not isinstance(app_iter, RecordingWrapper)


def test_wsgi_memory_file_and_head_are_not_wrapped(files_app: erlen.Flask) -> None:
    _, body, app_iter = _wsgi(files_app, "/memory")
    assert body == b"in memory"
    assert not isinstance(app_iter, RecordingWrapper)
    environ = EnvironBuilder(path="/file", method="HEAD").get_environ()
    environ["wsgi.file_wrapper"] = RecordingWrapper
    app_iter = files_app.wsgi_app(environ, lambda *a: None)
    assert list(app_iter) == []
    t.cast(t.Any, app_iter).close()


def test_wsgi_wrapped_file_proxies_the_file(files_app: erlen.Flask) -> None:
    from erlen.wsgi import _WrappedFile

    closed: list[bool] = []
    f = io.BytesIO(b"abc")
    wrapped = _WrappedFile(f, lambda: closed.append(True))
    assert wrapped.read(2) == b"ab"
    assert wrapped.tell() == 2
    assert wrapped.seekable()
    wrapped.close()
    assert closed == [True]


def test_wsgi_without_file_wrapper_streams_chunks(files_app: erlen.Flask) -> None:
    environ = EnvironBuilder(path="/file").get_environ()
    app_iter = files_app.wsgi_app(environ, lambda *a: None)
    chunks = list(app_iter)
    t.cast(t.Any, app_iter).close()
    assert [len(c) for c in chunks] == [65536, len(DATA) - 65536]


# -- ASGI driver: pathsend and chunked reads ---------------------------------------


def _asgi(
    app: erlen.Flask, path: str, extensions: dict[str, t.Any], **headers: str
) -> list[dict[str, t.Any]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5000),
        "server": ("localhost", 80),
        "extensions": extensions,
    }
    sent: list[dict[str, t.Any]] = []
    received: list[bool] = []

    async def main() -> None:
        done = asyncio.Event()

        async def receive() -> dict[str, t.Any]:
            # Like a server: the body once, then nothing until the client is
            # gone (after the response here).
            if not received:
                received.append(True)
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.pathsend" or (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
            ):
                done.set()

        await app.asgi_app(scope, receive, send)

    asyncio.run(main())
    return sent


def test_asgi_pathsend_for_a_whole_file(
    files_app: erlen.Flask, root: pathlib.Path
) -> None:
    sent = _asgi(files_app, "/file", {"http.response.pathsend": {}})
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.pathsend",
    ]
    assert sent[1]["path"] == str(root / "static" / "data.bin")
    headers = dict(sent[0]["headers"])
    assert headers[b"content-length"] == str(len(DATA)).encode()


def test_asgi_pathsend_not_for_ranges_or_memory(files_app: erlen.Flask) -> None:
    ext = {"http.response.pathsend": {}}
    sent = _asgi(files_app, "/file", ext, Range="bytes=5-9")
    assert sent[0]["status"] == 206
    assert b"".join(m.get("body", b"") for m in sent[1:]) == DATA[5:10]
    assert "http.response.pathsend" not in [m["type"] for m in sent]
    sent = _asgi(files_app, "/memory", ext)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"in memory"


def test_asgi_without_pathsend_sends_64k_chunks(files_app: erlen.Flask) -> None:
    sent = _asgi(files_app, "/file", {})
    sizes = [len(m["body"]) for m in sent[1:]]
    assert sizes == [65536, len(DATA) - 65536, 0]
    assert sent[-1].get("more_body", False) is False


def test_file_body_is_exported_for_drivers() -> None:
    assert FileBody.__module__ == "erlen.sansio.files"


def test_wsgi_respond_without_context(root: pathlib.Path) -> None:
    from erlen.sansio.files import send_file
    from erlen.wsgi import respond

    environ = EnvironBuilder(path="/").get_environ()
    environ["wsgi.file_wrapper"] = RecordingWrapper
    closed: list[bool] = []
    response = send_file(str(root / "static" / "data.bin"), environ)
    response.call_on_close(lambda: closed.append(True))
    app_iter = respond(response, environ, lambda *a: None)
    assert isinstance(app_iter, RecordingWrapper)
    assert b"".join(app_iter) == DATA
    app_iter.close()
    assert closed == [True]
