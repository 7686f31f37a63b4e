from __future__ import annotations

import io
import os
import typing as t
from datetime import datetime
from datetime import UTC
from pathlib import Path

import pytest
from werkzeug.middleware.shared_data import SharedDataMiddleware as WzSharedData

import erlen
from erlen.middleware import SharedDataMiddleware

MTIME = datetime(2024, 5, 17, 10, 30, tzinfo=UTC).timestamp()


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A folder to share, a file beside it that must stay private, and a single file."""
    folder = tmp_path / "shared"
    (folder / "sub").mkdir(parents=True)
    files = {
        folder / "a.txt": b"alpha\n",
        folder / "sub" / "b.css": b"body { color: blue; }\n",
        folder / "data.unknownext": b"\x00\x01\x02",
        folder / "notes.secret": b"hidden",
        folder / "caf\u00e9.txt": b"accent\n",
        tmp_path / "private.txt": b"do not serve\n",
        tmp_path / "robots.txt": b"User-agent: *\n",
    }
    for path, data in files.items():
        path.write_bytes(data)
        os.utime(path, (MTIME, MTIME))
    return tmp_path


class Fallback:
    """The wrapped application: answers 200 "app" and records the paths it saw."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> list[bytes]:
        self.paths.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]


Answer = tuple[str, dict[str, str], bytes]


def call(
    middleware: t.Callable[..., t.Iterable[bytes]],
    path: str,
    extra: dict[str, t.Any] | None = None,
) -> Answer:
    """Call a WSGI app with a GET for ``path`` (PATH_INFO as a server decodes it)."""
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode().decode("latin-1"),
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    environ.update(extra or {})
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    body = middleware(environ, lambda status, headers: seen.append((status, headers)))
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    status, headers = seen[0]
    return status, dict(headers), data


def make(
    cls: type[t.Any], root: Path, app: t.Any = None, **options: t.Any
) -> t.Callable[..., t.Iterable[bytes]]:
    return t.cast(
        "t.Callable[..., t.Iterable[bytes]]",
        cls(
            app or Fallback(),
            {"/shared": str(root / "shared"), "/robots.txt": str(root / "robots.txt")},
            **options,
        ),
    )


def test_serves_a_file_with_its_headers(shared: Path) -> None:
    status, headers, body = call(make(SharedDataMiddleware, shared), "/shared/a.txt")
    assert status == "200 OK"
    assert body == b"alpha\n"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Length"] == "6"
    assert headers["Last-Modified"] == "Fri, 17 May 2024 10:30:00 GMT"
    assert headers["Cache-Control"] == f"max-age={12 * 60 * 60}, public"
    assert headers["ETag"].startswith('"erlen-sdm-')
    assert headers["ETag"].endswith('"')
    assert "Expires" in headers
    assert "Date" in headers


def test_nested_files_and_types(shared: Path) -> None:
    mw = make(SharedDataMiddleware, shared)
    status, headers, body = call(mw, "/shared/sub/b.css")
    assert (status, body) == ("200 OK", b"body { color: blue; }\n")
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    _, headers, body = call(mw, "/shared/data.unknownext")
    assert headers["Content-Type"] == "application/octet-stream"
    assert body == b"\x00\x01\x02"


def test_fallback_mimetype_option(shared: Path) -> None:
    mw = make(SharedDataMiddleware, shared, fallback_mimetype="text/x-custom")
    _, headers, _ = call(mw, "/shared/data.unknownext")
    assert headers["Content-Type"] == "text/x-custom; charset=utf-8"


def test_non_ascii_file_name(shared: Path) -> None:
    status, _, body = call(make(SharedDataMiddleware, shared), "/shared/caf\u00e9.txt")
    assert (status, body) == ("200 OK", b"accent\n")


@pytest.mark.parametrize(
    "path",
    [
        "/shared/missing.txt",
        "/shared",
        "/shared/",
        "/shared/sub",
        "/sharedx/a.txt",
        "/shared/../private.txt",
        "/shared/sub/../../private.txt",
        "/shared//etc/passwd",
        "/shared/..\\private.txt",
        "/robots.txt/extra",
        "/other",
    ],
)
def test_paths_naming_no_shared_file_go_to_the_app(shared: Path, path: str) -> None:
    app = Fallback()
    status, _, body = call(make(SharedDataMiddleware, shared, app), path)
    assert (status, body) == ("200 OK", b"app")
    assert len(app.paths) == 1


def test_single_file_export(shared: Path) -> None:
    status, headers, body = call(make(SharedDataMiddleware, shared), "/robots.txt")
    assert (status, body) == ("200 OK", b"User-agent: *\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_package_export() -> None:
    mw = SharedDataMiddleware(
        Fallback(), {"/pkg": ("tests.middleware", "shared_files")}
    )
    status, headers, body = call(mw, "/pkg/hello.txt")
    assert (status, body) == ("200 OK", b"hello from the package\n")
    assert headers["Content-Length"] == str(len(body))
    assert call(mw, "/pkg/sub/style.css")[2] == b"body { color: red; }\n"
    too_long = "/pkg/" + "x" * 5000  # the file system refuses the name itself
    for path in (
        "/pkg/missing.txt",
        "/pkg/../test_shared_data.py",
        "/pkg",
        "/pkg/sub",
        too_long,
    ):
        assert call(mw, path)[2] == b"app", path


def test_zipped_package_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import zipfile

    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped_static_pkg/__init__.py", "")
        zf.writestr("zipped_static_pkg/static/app.js", "console.log(1);\n")
    monkeypatch.syspath_prepend(str(archive))
    monkeypatch.delitem(sys.modules, "zipped_static_pkg", raising=False)
    mw = SharedDataMiddleware(Fallback(), {"/js": ("zipped_static_pkg", "static")})
    status, headers, body = call(mw, "/js/app.js")
    assert (status, body) == ("200 OK", b"console.log(1);\n")
    assert headers["Content-Length"] == "16"
    assert "javascript" in headers["Content-Type"]
    assert call(mw, "/js/none.js")[2] == b"app"


def test_disallow_patterns(shared: Path) -> None:
    one = make(SharedDataMiddleware, shared, disallow="*.secret")
    assert call(one, "/shared/notes.secret")[2] == b"app"
    assert call(one, "/shared/a.txt")[2] == b"alpha\n"
    several = make(SharedDataMiddleware, shared, disallow=["*.secret", "*.css"])
    assert call(several, "/shared/sub/b.css")[2] == b"app"
    assert call(several, "/shared/notes.secret")[2] == b"app"
    assert call(several, "/shared/a.txt")[2] == b"alpha\n"


def test_is_allowed_override(shared: Path) -> None:
    class OnlyText(SharedDataMiddleware):
        def is_allowed(self, filename: str) -> bool:
            return filename.endswith(".txt")

    mw = make(OnlyText, shared)
    assert call(mw, "/shared/a.txt")[2] == b"alpha\n"
    assert call(mw, "/shared/sub/b.css")[2] == b"app"


def test_without_cache_headers(shared: Path) -> None:
    mw = make(SharedDataMiddleware, shared, cache=False)
    status, headers, body = call(mw, "/shared/a.txt", {"HTTP_IF_NONE_MATCH": "*"})
    assert (status, body) == ("200 OK", b"alpha\n")
    assert headers["Cache-Control"] == "public"
    assert "ETag" not in headers
    assert "Expires" not in headers


def test_conditional_requests(shared: Path) -> None:
    mw = make(SharedDataMiddleware, shared, cache_timeout=60)
    _, headers, _ = call(mw, "/shared/a.txt")
    assert headers["Cache-Control"] == "max-age=60, public"
    etag = headers["ETag"]
    status, headers304, body = call(mw, "/shared/a.txt", {"HTTP_IF_NONE_MATCH": etag})
    assert (status, body) == ("304 Not Modified", b"")
    assert headers304["ETag"] == etag
    assert "Content-Length" not in headers304
    later = "Sat, 18 May 2024 00:00:00 GMT"
    status, _, body = call(mw, "/shared/a.txt", {"HTTP_IF_MODIFIED_SINCE": later})
    assert (status, body) == ("304 Not Modified", b"")
    earlier = "Thu, 16 May 2024 00:00:00 GMT"
    assert call(mw, "/shared/a.txt", {"HTTP_IF_MODIFIED_SINCE": earlier})[0] == "200 OK"
    assert call(mw, "/shared/a.txt", {"HTTP_IF_NONE_MATCH": '"other"'})[0] == "200 OK"


def test_etag_changes_with_the_file(shared: Path) -> None:
    mw = make(SharedDataMiddleware, shared)
    before = call(mw, "/shared/a.txt")[1]["ETag"]
    (shared / "shared" / "a.txt").write_bytes(b"alpha, changed\n")
    after = call(mw, "/shared/a.txt")
    assert after[2] == b"alpha, changed\n"
    assert after[1]["ETag"] != before


def test_server_file_wrapper_is_used(shared: Path) -> None:
    wrapped: list[t.Any] = []

    def file_wrapper(f: t.IO[bytes], size: int) -> t.Iterable[bytes]:
        wrapped.append((f, size))
        return iter(lambda: f.read(size), b"")

    status, _, body = call(
        make(SharedDataMiddleware, shared),
        "/shared/a.txt",
        {"wsgi.file_wrapper": file_wrapper},
    )
    assert (status, body) == ("200 OK", b"alpha\n")
    assert len(wrapped) == 1
    wrapped[0][0].close()


def test_file_vanishing_between_lookup_and_open(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mw = make(SharedDataMiddleware, shared)

    def refuse(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise FileNotFoundError("gone")

    monkeypatch.setattr("builtins.open", refuse)
    assert call(mw, "/shared/a.txt")[2] == b"app"


def test_bad_export_value() -> None:
    with pytest.raises(TypeError, match="cannot export 42"):
        SharedDataMiddleware(Fallback(), {"/x": 42})  # type: ignore[dict-item]


def test_exports_as_pairs_are_tried_in_order(shared: Path) -> None:
    first = shared / "first"
    first.mkdir()
    (first / "a.txt").write_bytes(b"from first\n")
    mw = SharedDataMiddleware(
        Fallback(),
        [("/shared", str(first)), ("/shared", str(shared / "shared"))],
    )
    assert call(mw, "/shared/a.txt")[2] == b"from first\n"
    assert call(mw, "/shared/sub/b.css")[2] == b"body { color: blue; }\n"


@pytest.mark.parametrize("asgi", [False, True])
def test_wrapping_an_apps_wsgi_app(shared: Path, asgi: bool) -> None:
    app = erlen.Flask(__name__)

    @app.route("/shared/generated.txt")
    def generated() -> str:
        return "made by the app"

    app.wsgi_app = SharedDataMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/shared": str(shared / "shared")}
    )
    client = erlen.testing.FlaskClient(app, asgi=asgi) if asgi else app.test_client()
    response = client.get("/shared/a.txt")
    assert response.status_code == 200
    assert response.data == b"alpha\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/shared/generated.txt").data == b"made by the app"
    assert client.get("/shared/missing.txt").status_code == 404
    assert client.get("/shared/../private.txt").status_code == 404


DIFFERENTIAL_PATHS = [
    "/shared/a.txt",
    "/shared/sub/b.css",
    "/shared/data.unknownext",
    "/shared/caf\u00e9.txt",
    "/shared/missing.txt",
    "/shared",
    "/shared/",
    "/sharedx/a.txt",
    "/shared/../private.txt",
    "/shared/sub/../../private.txt",
    "/shared//etc/passwd",
    "/robots.txt",
    "/other",
]


@pytest.mark.parametrize("path", DIFFERENTIAL_PATHS)
@pytest.mark.parametrize("cache", [True, False])
def test_differential_against_werkzeug(shared: Path, path: str, cache: bool) -> None:
    ours = call(make(SharedDataMiddleware, shared, cache=cache), path)
    theirs = call(make(WzSharedData, shared, cache=cache), path)
    assert ours[0] == theirs[0]
    assert ours[2] == theirs[2]
    for name in ("Content-Type", "Content-Length", "Last-Modified", "Cache-Control"):
        assert ours[1].get(name) == theirs[1].get(name), name
    assert ("ETag" in ours[1]) == ("Etag" in theirs[1])
