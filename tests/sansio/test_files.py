"""send_file, send_from_directory and FileBody (sans-IO), against Werkzeug too."""

from __future__ import annotations

import io
import mimetypes
import os
import pathlib
import time
import typing as t
from datetime import datetime
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException as WzHTTPException
from werkzeug.test import EnvironBuilder
from werkzeug.utils import send_file as wz_send_file
from werkzeug.utils import send_from_directory as wz_send_from_directory

from erlen.exceptions import NotFound
from erlen.exceptions import RequestedRangeNotSatisfiable
from erlen.http import parse_date
from erlen.sansio.files import CHUNK_SIZE
from erlen.sansio.files import FileBody
from erlen.sansio.files import send_file
from erlen.sansio.files import send_from_directory
from erlen.sansio.response import Response

DATA = bytes(range(256)) * 40  # 10240 bytes, every byte value


@pytest.fixture
def data_file(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return str(path)


def env(method: str = "GET", **headers: str) -> dict[str, t.Any]:
    return EnvironBuilder(method=method, headers=headers).get_environ()


def body_of(rv: Response) -> bytes:
    try:
        return b"".join(rv.response)
    finally:
        rv.close()


# -- FileBody ---------------------------------------------------------------


def test_file_body_iterates_in_chunks_from_current_position() -> None:
    f = io.BytesIO(b"abcdefghij")
    f.seek(3)
    body = FileBody(f, chunk_size=3)
    assert list(body) == [b"def", b"ghi", b"j"]
    body.close()
    assert f.closed


def test_file_body_offset_and_length() -> None:
    f = io.BytesIO(b"abcdefghij")
    body = FileBody(f, offset=2, length=5, chunk_size=2)
    assert list(body) == [b"cd", b"ef", b"g"]


def test_file_body_length_past_end_stops_at_eof() -> None:
    body = FileBody(io.BytesIO(b"abc"), offset=1, length=10)
    assert list(body) == [b"bc"]


def test_file_body_narrow_keeps_file_path_and_chunk_size() -> None:
    f = io.BytesIO(b"abcdefghij")
    body = FileBody(f, "/x/y", chunk_size=4)
    narrow = body.narrow(6, 3)
    assert (narrow.fileobj, narrow.path, narrow.offset, narrow.length) == (
        f,
        "/x/y",
        6,
        3,
    )
    assert narrow.chunk_size == 4
    assert list(narrow) == [b"ghi"]


def test_file_body_rejects_bad_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk_size of at least 1, but got 0"):
        FileBody(io.BytesIO(), chunk_size=0)


def test_file_body_repr() -> None:
    assert repr(FileBody(io.BytesIO(), "/a/b.txt", 1, 2)) == (
        "<FileBody '/a/b.txt' offset=1 length=2>"
    )
    assert repr(FileBody(io.BytesIO())) == (
        "<FileBody 'BytesIO' offset=None length=None>"
    )


def test_file_body_file_face_is_relative_to_its_offset() -> None:
    body = FileBody(io.BytesIO(b"abcdefghij"), offset=4)
    assert body.seekable() is True
    assert body.seek(2) == 6
    assert body.read(2) == b"gh"
    assert body.read() == b"ij"


def test_file_body_whole_file_rest(data_file: str) -> None:
    with open(data_file, "rb") as f:
        assert FileBody(f).whole_file_rest()
        assert FileBody(f, offset=10, length=len(DATA) - 10).whole_file_rest()
        assert not FileBody(f, offset=10, length=5).whole_file_rest()
        f.seek(100)
        assert FileBody(f, length=len(DATA) - 100).whole_file_rest()
        assert not FileBody(f, length=5).whole_file_rest()
    # Closed file, no descriptor at all, and a descriptor that cannot tell().
    assert not FileBody(f).whole_file_rest()
    assert not FileBody(io.BytesIO(b"abc")).whole_file_rest()
    read_fd, write_fd = os.pipe()
    with open(read_fd, "rb") as pipe, open(write_fd, "wb"):
        assert not FileBody(pipe).whole_file_rest()


# -- send_file on a path ------------------------------------------------------


def test_send_file_path_headers_and_lazy_body(data_file: str) -> None:
    rv = send_file(data_file, env())
    stat = os.stat(data_file)
    assert rv.status_code == 200
    assert rv.direct_passthrough
    assert rv.headers["Content-Type"] == "application/octet-stream"
    assert rv.headers["Content-Length"] == str(len(DATA))
    assert rv.headers["Content-Disposition"] == "inline; filename=data.bin"
    assert rv.headers["Cache-Control"] == "no-cache"
    assert rv.headers["Accept-Ranges"] == "bytes"
    assert "Expires" not in rv.headers
    assert rv.last_modified == datetime.fromtimestamp(int(stat.st_mtime), UTC)
    assert rv.headers["ETag"].startswith(f'"{stat.st_mtime}-{len(DATA)}-')
    body = rv.response
    assert isinstance(body, FileBody)
    assert body.path == data_file
    assert body.offset is None
    assert body.length is None
    assert body_of(rv) == DATA
    assert body.fileobj.closed


def test_send_file_relative_path_and_root_path(
    data_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, name = os.path.split(data_file)
    monkeypatch.chdir(folder)
    rv = send_file(name, env())
    assert t.cast(FileBody, rv.response).path == data_file
    assert body_of(rv) == DATA
    rv = send_file(pathlib.Path(name), env(), _root_path=folder)
    assert t.cast(FileBody, rv.response).path == data_file
    assert body_of(rv) == DATA


def test_send_file_missing_path_raises(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        send_file(str(tmp_path / "nope.txt"), env())


def test_send_file_options(data_file: str) -> None:
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    rv = send_file(
        data_file,
        env(),
        mimetype="text/csv",
        as_attachment=True,
        download_name="report.csv",
        etag="v1",
        last_modified=when,
        max_age=120,
        conditional=False,
    )
    assert rv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert rv.headers["Content-Disposition"] == "attachment; filename=report.csv"
    assert rv.headers["ETag"] == '"v1"'
    assert rv.headers["Last-Modified"] == "Thu, 02 Jan 2020 03:04:05 GMT"
    assert rv.headers["Cache-Control"] == "public, max-age=120"
    expires = parse_date(rv.headers["Expires"])
    assert expires is not None
    assert abs(expires.timestamp() - (time.time() + 120)) < 5
    # conditional=False: no Date, no Accept-Ranges.
    assert "Date" not in rv.headers
    assert "Accept-Ranges" not in rv.headers
    rv.close()


@pytest.mark.parametrize(
    ("max_age", "header"),
    [
        (0, "no-cache, max-age=0"),
        (-5, "no-cache, max-age=-5"),
        (90.7, "public, max-age=90"),
        (lambda path: 30 if path.endswith(".bin") else None, "public, max-age=30"),
        (lambda path: None, "no-cache"),
    ],
)
def test_send_file_max_age(data_file: str, max_age: t.Any, header: str) -> None:
    rv = send_file(data_file, env(), max_age=max_age)
    assert rv.headers["Cache-Control"] == header
    rv.close()


@pytest.mark.parametrize("bad", [True, "60", [60]])
def test_send_file_max_age_type_error_leaves_no_file_open(
    data_file: str, bad: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[t.Any] = []
    # The mimetypes module reads its tables on first use: done before open()
    # is replaced, so that the test passes run alone too.
    mimetypes.init()
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a))
    with pytest.raises(TypeError, match="max_age must be a number of seconds"):
        send_file(data_file, env(), max_age=bad)
    assert opened == []


def test_send_file_etag_false(data_file: str) -> None:
    rv = send_file(data_file, env(), etag=False)
    assert "ETag" not in rv.headers
    rv.close()


@pytest.mark.parametrize(
    ("name", "mimetype", "encoding"),
    [
        ("a.txt", "text/plain; charset=utf-8", None),
        ("a.html", "text/html; charset=utf-8", None),
        ("a.json", "application/json", None),
        ("a.tar.gz", "application/x-tar", "gzip"),
        ("a.unknownext", "application/octet-stream", None),
        ("noext", "application/octet-stream", None),
    ],
)
def test_send_file_guesses_mimetype_and_encoding(
    tmp_path: pathlib.Path, name: str, mimetype: str, encoding: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")
    rv = send_file(str(path), env())
    assert rv.headers["Content-Type"] == mimetype
    assert rv.headers.get("Content-Encoding") == encoding
    rv.close()
    # An attachment never gets Content-Encoding (browsers would decompress it).
    rv = send_file(str(path), env(), as_attachment=True)
    assert "Content-Encoding" not in rv.headers
    rv.close()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plain.txt", "inline; filename=plain.txt"),
        ("with space.txt", 'inline; filename="with space.txt"'),
        ('quo"te.txt', 'inline; filename="quo\\"te.txt"'),
        (
            "Ünïcöde €.txt",
            "inline; filename=\"Unicode .txt\"; filename*=UTF-8''"
            "%C3%9Cn%C3%AFc%C3%B6de%20%E2%82%AC.txt",
        ),
        ("日本.txt", "inline; filename=.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"),
    ],
)
def test_send_file_download_names(data_file: str, name: str, expected: str) -> None:
    rv = send_file(data_file, env(), download_name=name)
    assert rv.headers["Content-Disposition"] == expected
    rv.close()


def test_send_file_rejects_header_injection_in_download_name(data_file: str) -> None:
    with pytest.raises(ValueError, match="Content-Disposition"):
        send_file(data_file, env(), download_name="a\r\nSet-Cookie: x=1")


# -- send_file on a file object -------------------------------------------------


def test_send_file_bytesio_is_sized_and_ranged() -> None:
    f = io.BytesIO(DATA)
    rv = send_file(f, env(Range="bytes=10-19"), mimetype="application/x-thing")
    assert rv.status_code == 206
    assert rv.headers["Content-Length"] == "10"
    assert rv.headers["Content-Range"] == f"bytes 10-19/{len(DATA)}"
    assert "ETag" not in rv.headers
    assert "Last-Modified" not in rv.headers
    assert "Content-Disposition" not in rv.headers
    body = rv.response
    assert isinstance(body, FileBody)
    assert body.path is None
    assert body_of(rv) == DATA[10:20]
    assert f.closed


def test_send_file_other_file_object_streams_without_length(data_file: str) -> None:
    f = open(data_file, "rb")
    rv = send_file(f, env(Range="bytes=0-1"), download_name="x.bin")
    # The size of a caller's file is not known: no length, no ranges.
    assert rv.status_code == 200
    assert "Content-Length" not in rv.headers
    assert rv.headers["Accept-Ranges"] == "bytes"
    assert body_of(rv) == DATA
    assert f.closed


def test_send_file_file_object_needs_a_name_or_mimetype() -> None:
    with pytest.raises(TypeError, match="cannot guess the MIME type"):
        send_file(io.BytesIO(b"x"), env())
    with pytest.raises(TypeError, match="no name for the attachment"):
        send_file(io.BytesIO(b"x"), env(), mimetype="text/plain", as_attachment=True)


@pytest.mark.parametrize("text", [io.StringIO("x"), io.TextIOWrapper(io.BytesIO())])
def test_send_file_text_mode_is_refused(text: t.Any) -> None:
    with pytest.raises(ValueError, match="binary mode"):
        send_file(text, env(), mimetype="text/plain")


@pytest.mark.parametrize("bad", [b"/etc/passwd", 3, None])
def test_send_file_wrong_type(bad: t.Any) -> None:
    with pytest.raises(TypeError, match="expected a path"):
        send_file(bad, env(), mimetype="text/plain")


# -- conditional and range handling ---------------------------------------------


def test_range_narrows_the_file_body(data_file: str) -> None:
    rv = send_file(data_file, env(Range="bytes=100-"))
    body = rv.response
    assert isinstance(body, FileBody)
    assert (body.offset, body.length, body.path) == (100, len(DATA) - 100, data_file)
    assert body_of(rv) == DATA[100:]


def test_unsatisfiable_range_closes_the_file(
    data_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[t.IO[bytes]] = []
    real_open = open

    def spy(*args: t.Any, **kwargs: t.Any) -> t.Any:
        f = real_open(*args, **kwargs)
        opened.append(f)
        return f

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(RequestedRangeNotSatisfiable) as info:
        send_file(data_file, env(Range=f"bytes={len(DATA)}-"))
    assert ("Content-Range", f"bytes */{len(DATA)}") in info.value.get_headers()
    assert opened
    assert opened[0].closed


def test_not_modified(data_file: str) -> None:
    first = send_file(data_file, env())
    etag = first.headers["ETag"]
    first.close()
    rv = send_file(data_file, env(**{"If-None-Match": etag}))
    assert rv.status_code == 304
    rv.close()


def test_x_sendfile(data_file: str) -> None:
    rv = send_file(data_file, env(), use_x_sendfile=True)
    assert rv.headers["X-Sendfile"] == data_file
    assert rv.headers["Content-Length"] == str(len(DATA))
    assert rv.get_data() == b""
    # A range keeps the (empty) body as it is; the front server sends the slice.
    rv = send_file(data_file, env(Range="bytes=0-9"), use_x_sendfile=True)
    assert rv.status_code == 206
    assert rv.headers["Content-Range"] == f"bytes 0-9/{len(DATA)}"
    assert not isinstance(rv.response, FileBody)
    # A 304 drops X-Sendfile: some front servers would send the file anyway.
    etag = rv.headers["ETag"]
    rv = send_file(data_file, env(**{"If-None-Match": etag}), use_x_sendfile=True)
    assert rv.status_code == 304
    assert "X-Sendfile" not in rv.headers
    # Unsatisfiable with no file opened.
    with pytest.raises(RequestedRangeNotSatisfiable):
        send_file(data_file, env(Range="bytes=99999-"), use_x_sendfile=True)
    # A file object cannot be X-Sendfile'd: it is sent as a body.
    rv = send_file(io.BytesIO(b"abc"), env(), mimetype="a/b", use_x_sendfile=True)
    assert "X-Sendfile" not in rv.headers
    assert body_of(rv) == b"abc"


def test_request_object_instead_of_environ(data_file: str) -> None:
    class Req:
        method = "GET"
        headers = {"Range": "bytes=0-3"}

    rv = send_file(data_file, Req())
    assert rv.status_code == 206
    assert body_of(rv) == DATA[:4]


def test_response_class(data_file: str) -> None:
    class MyResponse(Response):
        default_mimetype = "text/html"

    rv = send_file(data_file, env(), response_class=MyResponse)
    assert type(rv) is MyResponse
    rv.close()


def test_make_conditional_after_send_file_reads_only_the_range(data_file: str) -> None:
    # conditional=False, then the caller's own make_conditional(): the range
    # wrapper seeks through FileBody's file face instead of reading the start.
    rv = send_file(data_file, env(), conditional=False)
    rv.make_conditional(env(Range="bytes=-5"), True, len(DATA))
    assert rv.status_code == 206
    body = rv.response
    f = t.cast(FileBody, t.cast(t.Any, body).body).fileobj
    reads: list[int] = []
    real_read = f.read

    class Spy:
        def __getattr__(self, name: str) -> t.Any:
            return getattr(f, name)

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return real_read(n)

    t.cast(t.Any, body).body.fileobj = Spy()
    assert b"".join(body) == DATA[-5:]
    assert reads == [5]
    rv.close()


# -- send_from_directory ----------------------------------------------------------


@pytest.fixture
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "top.txt").write_bytes(b"top")
    (root / "sub" / "deeper" / "leaf.css").write_bytes(b"leaf")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    return root


@pytest.mark.parametrize(
    ("path", "content"), [("top.txt", b"top"), ("sub/deeper/leaf.css", b"leaf")]
)
def test_send_from_directory_serves(
    tree: pathlib.Path, path: str, content: bytes
) -> None:
    assert body_of(send_from_directory(tree, path, env())) == content


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "/etc/passwd",
        "sub\\..\\..\\secret.txt",
        "C:secret.txt",
        "top.txt\x00.png",
        "sub",
        "missing.txt",
        "",
    ],
)
def test_send_from_directory_404(tree: pathlib.Path, path: str) -> None:
    with pytest.raises(NotFound):
        send_from_directory(str(tree), path, env())


def test_send_from_directory_root_path(tree: pathlib.Path) -> None:
    rv = send_from_directory("root", "top.txt", env(), _root_path=str(tree.parent))
    assert t.cast(FileBody, rv.response).path == str(tree / "top.txt")
    assert body_of(rv) == b"top"
    with pytest.raises(NotFound):
        send_from_directory("root", "nope", env(), _root_path=str(tree.parent))


# -- differential against werkzeug.utils.send_file ----------------------------------

# Date and Expires depend on the clock; they are compared within a second.
_CLOCK_HEADERS = ("Date", "Expires")


def _compare(ours: Response, theirs: t.Any) -> None:
    assert ours.status == theirs.status
    a = dict(ours.headers)
    b = dict(theirs.headers)
    for name in _CLOCK_HEADERS:
        x, y = a.pop(name, None), b.pop(name, None)
        assert (x is None) == (y is None), name
        if x is not None:
            dx, dy = parse_date(x), parse_date(y)
            assert dx is not None
            assert dy is not None
            assert abs((dx - dy).total_seconds()) <= 2
    assert a == b
    theirs.direct_passthrough = False
    expected = theirs.get_data() if theirs.status_code not in (304,) else b""
    got = body_of(ours) if ours.status_code != 304 else (ours.close() or b"")
    assert got == expected
    theirs.close()


def _both(
    path_or_factory: t.Any,
    headers: dict[str, str],
    method: str = "GET",
    **kwargs: t.Any,
) -> None:
    environ = env(method, **headers)
    make = path_or_factory if callable(path_or_factory) else lambda: path_or_factory
    ours: t.Any
    try:
        ours = send_file(make(), environ, **kwargs)
    except RequestedRangeNotSatisfiable as e:
        ours = e
    if isinstance(ours, RequestedRangeNotSatisfiable):
        with pytest.raises(WzHTTPException) as theirs_error:
            wz_send_file(make(), environ, **kwargs)
        assert theirs_error.value.code == ours.code
        # Same Content-Type and Content-Range (the description differs).
        assert ours.get_headers() == theirs_error.value.get_headers()
        return
    theirs = wz_send_file(make(), environ, **kwargs)
    _compare(ours, theirs)


def _validators(path: str) -> tuple[str, str]:
    rv = wz_send_file(path, env())
    rv.close()
    return rv.headers["ETag"], rv.headers["Last-Modified"]


def _cases(path: str) -> list[dict[str, str]]:
    etag, modified = _validators(path)
    n = len(DATA)
    return [
        {},
        {"If-None-Match": etag},
        {"If-None-Match": '"other"'},
        {"If-None-Match": "*"},
        {"If-None-Match": f"W/{etag}"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"If-Modified-Since": "garbage"},
        {"If-Match": etag},
        {"If-Match": '"other"'},
        {"Range": "bytes=0-99"},
        {"Range": "bytes=5000-"},
        {"Range": "bytes=-100"},
        {"Range": f"bytes=-{n + 10}"},
        {"Range": f"bytes=0-{n + 50}"},
        {"Range": "bytes=0-1,5-6"},
        {"Range": "bytes=9-3"},
        {"Range": "bytes=abc"},
        {"Range": "pages=1-2"},
        {"Range": f"bytes={n}-"},
        {"Range": "bytes=0-9", "If-Range": etag},
        {"Range": "bytes=0-9", "If-Range": '"stale"'},
        {"Range": "bytes=0-9", "If-Range": modified},
        {"Range": "bytes=0-9", "If-Range": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"Range": "bytes=0-9", "If-None-Match": etag},
    ]


def test_differential_conditional_and_range_cases(data_file: str) -> None:
    for headers in _cases(data_file):
        for method in ("GET", "HEAD", "POST"):
            _both(data_file, headers, method)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"as_attachment": True},
        {"download_name": "Ünïcöde €.tar.gz"},
        {"download_name": 'a "quoted" name.txt', "as_attachment": True},
        {"mimetype": "text/plain"},
        {"max_age": 60},
        {"max_age": 0},
        {"etag": "custom"},
        {"etag": False},
        {"last_modified": 1_600_000_000},
        {"last_modified": datetime(2021, 5, 6, tzinfo=UTC)},
        {"conditional": False},
        {"use_x_sendfile": True},
    ],
)
def test_differential_options(data_file: str, kwargs: dict[str, t.Any]) -> None:
    _both(data_file, {"Range": "bytes=3-8"}, **kwargs)
    _both(data_file, {}, **kwargs)


def test_differential_file_objects(data_file: str) -> None:
    _both(lambda: io.BytesIO(DATA), {"Range": "bytes=1-4"}, mimetype="a/b")
    _both(lambda: io.BytesIO(DATA), {}, download_name="x.json")
    _both(lambda: io.BytesIO(b""), {"Range": "bytes=0-4"}, mimetype="a/b")
    _both(lambda: open(data_file, "rb"), {"Range": "bytes=1-4"}, download_name="x")


def test_differential_send_from_directory(tree: pathlib.Path) -> None:
    for path in ["top.txt", "sub/deeper/leaf.css", "../secret.txt", "sub", "nope"]:
        try:
            ours = send_from_directory(str(tree), path, env())
        except NotFound:
            with pytest.raises(WzHTTPException) as info:
                wz_send_from_directory(str(tree), path, env())
            assert info.value.code == 404
            continue
        _compare(ours, wz_send_from_directory(str(tree), path, env()))


_range_spec = st.one_of(
    st.tuples(st.integers(0, 11000), st.integers(0, 11000)).map(
        lambda p: f"{p[0]}-{p[1]}"
    ),
    st.integers(0, 11000).map(lambda a: f"{a}-"),
    st.integers(0, 11000).map(lambda a: f"-{a}"),
    st.text("0123456789-, ", max_size=12),
)


@given(
    specs=st.lists(_range_spec, min_size=1, max_size=3),
    unit=st.sampled_from(["bytes", "bytes", "Bytes", "items"]),
    if_range=st.sampled_from([None, "etag", "date", '"x"', "garbage"]),
)
def test_differential_generated_ranges(
    specs: list[str], unit: str, if_range: str | None, tmp_path_factory: t.Any
) -> None:
    folder = tmp_path_factory.getbasetemp() / "ranges"
    folder.mkdir(exist_ok=True)
    path = folder / "data.bin"
    if not path.exists():
        path.write_bytes(DATA)
    headers = {"Range": f"{unit}={','.join(specs)}"}
    if if_range is not None:
        etag, modified = _validators(str(path))
        headers["If-Range"] = {"etag": etag, "date": modified}.get(if_range, if_range)
    _both(str(path), headers)


def test_chunk_size_default() -> None:
    assert CHUNK_SIZE == 65536
    assert FileBody(io.BytesIO()).chunk_size == CHUNK_SIZE
