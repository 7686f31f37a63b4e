"""File responses on Flask and on erlen (WSGI and ASGI): same status, headers, body."""

from __future__ import annotations

import io
import pathlib
import typing as t
import urllib.parse
from datetime import timedelta

import flask
import pytest
from hypothesis import given
from hypothesis import strategies as st

import erlen
from erlen.http import parse_date

DATA = bytes(range(256)) * 40  # 10240 bytes
SECRET = b"TOP-SECRET-CONTENT"

#: Nested legitimate files (relative to the static folder) and their bytes.
TREE: dict[str, bytes] = {
    "data.bin": DATA,
    "style.css": b"body { color: red }",
    "page.html": b"<p>hi</p>",
    "app.js": b"console.log(1)",
    "archive.tar.gz": b"\x1f\x8b fake",
    "noext": b"no extension",
    "a/b/c/deep.txt": b"deep",
    "a/b/..c.txt": b"dots in name",
    "a/.hidden": b"hidden",
    "a/x.y.z.json": b"{}",
    "spaced dir/file name.txt": b"spaces",
    "unicode/\u00fcber.txt": "über".encode(),
    "unicode/\u65e5\u672c.txt": "日本".encode(),
}

COMPARED = (
    "Content-Type",
    "Content-Length",
    "Content-Disposition",
    "Content-Encoding",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Accept-Ranges",
    "Content-Range",
    "X-Sendfile",
)


def make_tree(root: pathlib.Path) -> None:
    for rel, content in TREE.items():
        path = root / "static" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (root / "files").mkdir()
    (root / "files" / "report.txt").write_bytes(b"report")
    (root / "bp_static").mkdir()
    (root / "bp_static" / "bp.js").write_bytes(b"bp()")
    # The secret sits next to the static folder and in the root's parent.
    (root / "secret.txt").write_bytes(SECRET)
    (root.parent / "secret.txt").write_bytes(SECRET)


def make_app(fw: t.Any, root: pathlib.Path, **config: t.Any) -> t.Any:
    """Build the same app on Flask or erlen."""
    app = fw.Flask("files_diff", root_path=str(root))
    app.config.update(config)

    @app.route("/file")
    def file() -> t.Any:
        args = fw.request.args
        kwargs: dict[str, t.Any] = {}
        if "name" in args:
            kwargs["download_name"] = args["name"]
        if "attach" in args:
            kwargs["as_attachment"] = True
        if "mimetype" in args:
            kwargs["mimetype"] = args["mimetype"]
        if "max_age" in args:
            kwargs["max_age"] = int(args["max_age"])
        if "etag" in args:
            kwargs["etag"] = args["etag"] if args["etag"] != "0" else False
        if "lm" in args:
            kwargs["last_modified"] = int(args["lm"])
        if "nocond" in args:
            kwargs["conditional"] = False
        return fw.send_file(f"static/{args.get('path', 'data.bin')}", **kwargs)

    @app.route("/memory")
    def memory() -> t.Any:
        args = fw.request.args
        return fw.send_file(
            io.BytesIO(DATA),
            mimetype=args.get("mimetype"),
            download_name=args.get("name"),
            as_attachment="attach" in args,
        )

    @app.route("/dir/<path:name>")
    def directory(name: str) -> t.Any:
        return fw.send_from_directory("static", name)

    app.register_blueprint(
        fw.Blueprint(
            "bp", __name__, static_folder=str(root / "bp_static"), url_prefix="/bp"
        )
    )
    return app


class Clients:
    """A Flask client and erlen's WSGI and ASGI clients on one tree."""

    def __init__(self, root: pathlib.Path, **config: t.Any) -> None:
        self.flask = make_app(flask, root, **config).test_client()
        app = make_app(erlen, root, **config)
        self.erlen = [app.test_client(asgi=False), app.test_client(asgi=True)]

    def compare(self, path: str, method: str = "GET", **headers: str) -> t.Any:
        theirs = fetch(self.flask, path, method, headers)
        for client in self.erlen:
            ours = fetch(client, path, method, headers)
            assert ours["status"] == theirs["status"], (path, headers)
            if ours["status"] >= 400:
                # NOTE: erlen's error pages (405, 416) word their description
                # differently from Werkzeug's, so their length differs too.
                ours["headers"].pop("Content-Length", None)
                theirs = {**theirs, "headers": dict(theirs["headers"])}
                theirs["headers"].pop("Content-Length", None)
            assert ours["headers"] == theirs["headers"], (path, headers)
            for name in ("Date", "Expires"):
                assert (ours[name] is None) == (theirs[name] is None), name
                if ours[name] is not None:
                    delta = ours[name] - theirs[name]
                    assert abs(delta.total_seconds()) <= 2, name
            if ours["status"] < 400:
                assert ours["body"] == theirs["body"], (path, headers)
        return theirs


def fetch(client: t.Any, path: str, method: str, headers: dict[str, str]) -> t.Any:
    rv = client.open(path, method=method, headers=headers)
    try:
        body = rv.get_data()
    finally:
        rv.close()
    return {
        "status": rv.status_code,
        "headers": {name: rv.headers.get(name) for name in COMPARED},
        "Date": parse_date(rv.headers.get("Date")),
        "Expires": parse_date(rv.headers.get("Expires")),
        "body": body,
    }


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "app"
    root.mkdir()
    make_tree(root)
    return root


@pytest.fixture
def clients(root: pathlib.Path) -> Clients:
    return Clients(root)


def _validators(clients: Clients, path: str) -> tuple[str, str]:
    got = fetch(clients.flask, path, "GET", {})
    return got["headers"]["ETag"], got["headers"]["Last-Modified"]


def conditional_cases(etag: str, modified: str, size: int) -> list[dict[str, str]]:
    old = "Thu, 01 Jan 1970 00:00:00 GMT"
    return [
        {},
        {"If-None-Match": etag},
        {"If-None-Match": f'{etag}, "x"'},
        {"If-None-Match": '"other"'},
        {"If-None-Match": "*"},
        {"If-None-Match": f"W/{etag}"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": old},
        {"If-Modified-Since": "garbage"},
        {"If-None-Match": '"other"', "If-Modified-Since": modified},
        {"If-Match": etag},
        {"If-Match": '"other"'},
        {"Range": "bytes=0-99"},
        {"Range": "bytes=100-"},
        {"Range": "bytes=-10"},
        {"Range": f"bytes=-{size + 5}"},
        {"Range": f"bytes=10-{size + 100}"},
        {"Range": "bytes=0-0"},
        {"Range": "bytes=0-1,4-5"},
        {"Range": "bytes=5-2"},
        {"Range": "bytes=x-y"},
        {"Range": "bytes="},
        {"Range": "lines=0-1"},
        {"Range": f"bytes={size}-"},
        {"Range": f"bytes={size + 10}-{size + 20}"},
        {"Range": "bytes=0-9", "If-Range": etag},
        {"Range": "bytes=0-9", "If-Range": '"stale"'},
        {"Range": "bytes=0-9", "If-Range": f"W/{etag}"},
        {"Range": "bytes=0-9", "If-Range": modified},
        {"Range": "bytes=0-9", "If-Range": old},
        {"Range": "bytes=0-9", "If-None-Match": etag},
        {"Range": "bytes=0-9", "If-Match": '"other"'},
    ]


@pytest.mark.parametrize(
    "path",
    ["/file", "/static/data.bin", "/dir/data.bin", "/dir/a/b/c/deep.txt", "/memory"],
)
def test_conditional_and_range_cases(clients: Clients, path: str) -> None:
    etag, modified = _validators(clients, path)
    size = len(fetch(clients.flask, path, "GET", {})["body"])
    for headers in conditional_cases(etag or '"none"', modified or "x", size):
        clients.compare(path, **headers)
    for method in ("HEAD", "POST", "OPTIONS"):
        clients.compare(path, method, Range="bytes=0-3")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"attach": "1"},
        {"name": "report.pdf"},
        {"name": "report.pdf", "attach": "1"},
        {"name": "naïve résumé.txt", "attach": "1"},
        {"name": "日本語のファイル.csv"},
        {"name": 'with "quotes".txt'},
        {"name": "semi;colon,comma.txt"},
        {"name": "back\\slash.txt"},
        {"name": "€uro.tar.gz"},
        {"name": "x.tar.gz"},
        {"name": "x.tar.gz", "attach": "1"},
        {"mimetype": "application/x-custom"},
        {"mimetype": "text/csv", "name": "a.txt"},
        {"max_age": "300"},
        {"max_age": "0"},
        {"etag": "my-etag"},
        {"etag": "0"},
        {"lm": "1600000000"},
        {"nocond": "1"},
        {"path": "style.css"},
        {"path": "page.html"},
        {"path": "app.js"},
        {"path": "archive.tar.gz"},
        {"path": "noext"},
        {"path": "a/x.y.z.json"},
        {"path": "unicode/\u00fcber.txt"},
    ],
)
def test_send_file_options(clients: Clients, query: dict[str, str]) -> None:
    qs = urllib.parse.urlencode(query)
    clients.compare(f"/file?{qs}")
    clients.compare(f"/file?{qs}", Range="bytes=2-5")


@pytest.mark.parametrize(
    "query",
    [
        {"name": "m.txt"},
        {"mimetype": "application/json"},
        {"name": "ünï.bin", "attach": "1"},
    ],
)
def test_file_objects(clients: Clients, query: dict[str, str]) -> None:
    qs = urllib.parse.urlencode(query)
    clients.compare(f"/memory?{qs}")
    clients.compare(f"/memory?{qs}", Range="bytes=-7")


@pytest.mark.parametrize(
    "config",
    [
        {"SEND_FILE_MAX_AGE_DEFAULT": 60},
        {"SEND_FILE_MAX_AGE_DEFAULT": timedelta(days=1)},
        {"SEND_FILE_MAX_AGE_DEFAULT": 0},
        {"USE_X_SENDFILE": True},
    ],
)
def test_config(root: pathlib.Path, config: dict[str, t.Any]) -> None:
    clients = Clients(root, **config)
    for path in ("/file", "/static/style.css", "/bp/bp_static/bp.js", "/dir/noext"):
        clients.compare(path)
        clients.compare(path, Range="bytes=1-2")
        etag, _ = _validators(clients, path)
        clients.compare(path, **{"If-None-Match": etag})
    clients.compare("/file?max_age=10")


def test_every_legitimate_file_is_served(clients: Clients) -> None:
    for rel, content in TREE.items():
        url = urllib.parse.quote(rel)
        for prefix in ("/static/", "/dir/"):
            got = clients.compare(prefix + url)
            assert got["status"] == 200
            assert got["body"] == content


# -- traversal: no encoding of ".." or separators escapes the folder ----------------

_PIECES = [
    "..",
    ".",
    "...",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%252e%252e",
    "%c0%ae%c0%ae",
    "\uff0e\uff0e",
    "\u2024\u2024",
    "\u2025",
    "/",
    "//",
    "%2f",
    "%2F",
    "%252f",
    "\\",
    "%5c",
    "%5C",
    "%255c",
    "\u2215",
    "\u2044",
    "\uff0f",
    "\uff3c",
    "%00",
    "\x00",
    "%0a",
    "C:",
    "c:\\",
    "C%3A",
    "secret.txt",
    "app",
    "static",
    "data.bin",
    "a",
    ";",
    "?",
    "#",
    "~",
]


def _raw_get(app: t.Any, path_info: str) -> tuple[int, bytes]:
    """Call a WSGI app with a raw PATH_INFO, as a server would pass it."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/").get_environ()
    environ["PATH_INFO"] = path_info
    started: list[str] = []
    body = app.wsgi_app(environ, lambda s, h, e=None: started.append(s))
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return int(started[0].split()[0]), data


@pytest.fixture(scope="module")
def traversal_apps(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[t.Any, t.Any, t.Any]:
    base = tmp_path_factory.mktemp("traversal")
    root = base / "app"
    root.mkdir()
    make_tree(root)
    app = make_app(erlen, root)
    return app, app.test_client(asgi=False), app.test_client(asgi=True)


def _check_no_escape(status: int, body: bytes) -> None:
    assert SECRET not in body
    if status == 200:
        assert body in TREE.values()


@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8))
def test_generated_traversal_finds_no_escape(
    traversal_apps: tuple[t.Any, t.Any, t.Any], pieces: list[str]
) -> None:
    app, wsgi_client, asgi_client = traversal_apps
    tail = "".join(pieces)
    for prefix in ("/static/", "/dir/", "/bp/bp_static/"):
        # Through the test clients (URL-encoded by them, then decoded by the
        # driver) and with the raw, already decoded PATH_INFO a server makes.
        for client in (wsgi_client, asgi_client):
            rv = client.get(prefix + tail)
            try:
                _check_no_escape(rv.status_code, rv.get_data())
            finally:
                rv.close()
        decoded = urllib.parse.unquote(prefix + tail).encode("utf-8", "surrogatepass")
        _check_no_escape(*_raw_get(app, decoded.decode("latin-1")))


@pytest.mark.parametrize(
    "tail",
    [
        "../secret.txt",
        "../../secret.txt",
        "..%2fsecret.txt",
        "%2e%2e/secret.txt",
        "%2e%2e%2fsecret.txt",
        "..\\secret.txt",
        "..%5csecret.txt",
        "/../secret.txt",
        "a/../../secret.txt",
        "a/b/../../../secret.txt",
        "..%00/secret.txt",
        "C:/secret.txt",
        "c:\\secret.txt",
    ],
)
def test_known_traversals_are_404(
    traversal_apps: tuple[t.Any, t.Any, t.Any], tail: str
) -> None:
    app, wsgi_client, asgi_client = traversal_apps
    for prefix in ("/static/", "/dir/"):
        for client in (wsgi_client, asgi_client):
            rv = client.get(prefix + tail)
            rv.close()
            assert rv.status_code in (404, 308), (prefix, tail, rv.status_code)
            assert SECRET not in rv.get_data()
        status, body = _raw_get(app, urllib.parse.unquote(prefix + tail))
        assert status in (404, 308)
        assert SECRET not in body
