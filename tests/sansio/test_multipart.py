from __future__ import annotations

import io
import typing as t

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen.exceptions import BadRequest
from erlen.exceptions import RequestEntityTooLarge
from erlen.sansio.formparser import default_stream_factory
from erlen.sansio.multipart import MultipartParser
from erlen.sansio.multipart import validate_boundary

BOUNDARY = b"----erlenBoundary7MA4YWxk"

Part = tuple[str, bytes, str | None, str | None]


def encode(parts: list[Part], boundary: bytes = BOUNDARY) -> bytes:
    """Encode (name, data, filename, content_type) parts as multipart."""
    out = []
    for name, data, filename, content_type in parts:
        out.append(b"--" + boundary + b"\r\n")
        disp = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out.append(disp.encode() + b"\r\n")
        if content_type is not None:
            out.append(f"Content-Type: {content_type}\r\n".encode())
        out.append(b"\r\n" + data + b"\r\n")
    out.append(b"--" + boundary + b"--\r\n")
    return b"".join(out)


def make_parser(**kwargs: t.Any) -> MultipartParser:
    return MultipartParser(BOUNDARY, default_stream_factory, **kwargs)


def summary(result: tuple[list[t.Any], list[t.Any]]) -> tuple[t.Any, t.Any]:
    fields, files = result
    out = []
    for name, fs in files:
        out.append((name, fs.filename, fs.content_type, fs.stream.read()))
        fs.close()
    return fields, out


def feed(body: bytes, chunks: list[int] | None = None, **kwargs: t.Any) -> t.Any:
    parser = make_parser(**kwargs)
    if chunks is None:
        parser.receive_data(body)
    else:
        start = 0
        for end in [*chunks, len(body)]:
            parser.receive_data(body[start:end])
            start = end
    return summary(parser.close())


SAMPLE = encode(
    [
        ("a", b"1", None, None),
        ("a", b"two\r\nlines", None, None),
        ("empty", b"", None, None),
        ("f", b"file\r\n--data-\r", "x.txt", "text/plain"),
        ("g", b"", "", None),
        ("t", "caf\u00e9".encode("latin-1"), None, "text/plain; charset=ISO-8859-1"),
        ("u", "\u00fc".encode(), None, "text/plain; charset=rot13"),
    ]
)
EXPECTED = (
    [
        ("a", "1"),
        ("a", "two\r\nlines"),
        ("empty", ""),
        ("t", "caf\u00e9"),
        ("u", "\u00fc"),
    ],
    [
        ("f", "x.txt", "text/plain", b"file\r\n--data-\r"),
        ("g", "", None, b""),
    ],
)


def test_basic_parse() -> None:
    assert feed(SAMPLE) == EXPECTED


def test_byte_at_a_time() -> None:
    assert feed(SAMPLE, chunks=list(range(1, len(SAMPLE)))) == EXPECTED


def test_split_at_every_offset() -> None:
    for i in range(len(SAMPLE) + 1):
        assert feed(SAMPLE, chunks=[i]) == EXPECTED, i


def test_parse_from_read_callable_one_byte_reads() -> None:
    stream = io.BytesIO(SAMPLE)
    parser = make_parser()
    assert summary(parser.parse(lambda n: stream.read(1))) == EXPECTED


def test_preamble_and_epilogue_are_ignored() -> None:
    body = b"This is a preamble\r\n" + SAMPLE + b"epilogue junk"
    assert feed(body) == EXPECTED
    assert feed(body, chunks=list(range(1, len(body)))) == EXPECTED
    assert feed(SAMPLE, chunks=[len(SAMPLE) - 2]) == EXPECTED
    parser = make_parser()
    parser.receive_data(SAMPLE)
    parser.receive_data(b"more after the end")
    assert summary(parser.close()) == EXPECTED


def test_long_preamble_is_not_buffered() -> None:
    parser = make_parser()
    for _ in range(100):
        parser.receive_data(b"x" * 1000)
    assert len(parser._carry) < 100
    parser.receive_data(b"\r\n" + SAMPLE)
    assert summary(parser.close()) == EXPECTED


def test_empty_form() -> None:
    assert feed(b"--" + BOUNDARY + b"--\r\n") == ([], [])


def test_empty_body_is_empty_form() -> None:
    assert feed(b"") == ([], [])


def test_unnamed_part_and_utf8_filename() -> None:
    body = (
        b"--" + BOUNDARY + b"\r\n"
        b"Content-Disposition: form-data\r\n\r\nvalue\r\n"
        b"--" + BOUNDARY + b"\r\n"
        b"Content-Disposition: form-data; name=f; filename*=UTF-8''%C3%BC.txt\r\n"
        b"Content-Length: 3\r\n\r\nabc\r\n"
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="g"; filename="\xc3\xa9.bin"\r\n'
        b"Content-Length: nope\r\n\r\nxyz\r\n"
        b"--" + BOUNDARY + b"--\r\n"
    )
    assert feed(body) == (
        [(None, "value")],
        [("f", "\u00fc.txt", None, b"abc"), ("g", "\u00e9.bin", None, b"xyz")],
    )


def test_stream_factory_receives_part_info() -> None:
    seen = []

    def factory(**kwargs: t.Any) -> t.IO[bytes]:
        seen.append(kwargs)
        return io.BytesIO()

    body = encode([("f", b"abc", "a.txt", "text/plain")])
    parser = MultipartParser(BOUNDARY, factory, total_content_length=len(body))
    parser.receive_data(body)
    parser.close()[1][0][1].close()
    assert seen == [
        {
            "total_content_length": len(body),
            "content_type": "text/plain",
            "filename": "a.txt",
            "content_length": 0,
        }
    ]


def test_too_many_parts() -> None:
    body = encode([("a", b"1", None, None)] * 3)
    assert len(feed(body, max_form_parts=3)[0]) == 3
    with pytest.raises(RequestEntityTooLarge) as info:
        feed(body, max_form_parts=2)
    assert "max_form_parts (MAX_FORM_PARTS) of 2" in str(info.value.description)


def test_field_too_large() -> None:
    body = encode([("a", b"x" * 10, None, None), ("f", b"y" * 100, "f", None)])
    fields, files = feed(body, max_form_memory_size=10)
    assert fields == [("a", "x" * 10)]
    assert files[0][3] == b"y" * 100
    with pytest.raises(RequestEntityTooLarge) as info:
        feed(body, max_form_memory_size=9)
    assert "max_form_memory_size (MAX_FORM_MEMORY_SIZE) of 9 bytes" in str(
        info.value.description
    )
    with pytest.raises(RequestEntityTooLarge):
        feed(body, chunks=list(range(1, len(body))), max_form_memory_size=9)


def test_error_closes_created_files() -> None:
    made: list[io.BytesIO] = []

    def factory(**kwargs: t.Any) -> t.IO[bytes]:
        made.append(io.BytesIO())
        return made[-1]

    body = encode([("f", b"abc", "a", None), ("g", b"abc", "b", None)])
    parser = MultipartParser(BOUNDARY, factory, max_form_parts=1)
    with pytest.raises(RequestEntityTooLarge):
        parser.receive_data(body)
    assert made[0].closed
    # A file part still being written is closed too.
    made.clear()
    parser = MultipartParser(BOUNDARY, factory)
    parser.receive_data(body[:-20])
    parser.receive_data(b"garbage without boundary")
    with pytest.raises(BadRequest):
        parser.close()
    assert all(f.closed for f in made)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"--" + BOUNDARY + b"\r\n\r\nno disposition\r\n", "no Content-Disposition"),
        (b"--" + BOUNDARY + b"X\r\n", "malformed"),
        (b"--" + BOUNDARY + b"\r\nBad Header: x\r\n\r\n", "invalid character"),
        (b"--" + BOUNDARY + b"\r\nBad Header: x\r\n\r\n" + b"x" * 100, "invalid char"),
        (
            b"--"
            + BOUNDARY
            + b"\r\nContent-Disposition: form-data; name=a\x00b\r\n\r\n",
            "control character",
        ),
        (encode([("a", b"1", None, None)])[:-4], "ended before the closing boundary"),
        (b"not multipart at all", "ended before the closing boundary"),
    ],
)
def test_malformed_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        feed(body)
    assert message in str(info.value.description)


@pytest.mark.parametrize("boundary", [None, "", "a" * 257, "b\x00d", "caf\u00e9"])
def test_invalid_boundary(boundary: str | None) -> None:
    with pytest.raises(BadRequest, match="400"):
        validate_boundary(boundary)


def test_valid_boundary() -> None:
    assert validate_boundary("abc'()+_,-./:=? x") == b"abc'()+_,-./:=? x"


part_strategy = st.tuples(
    st.sampled_from(["a", "b", "name with space", "\u00fc"]),
    st.binary(max_size=40),
    st.one_of(st.none(), st.sampled_from(["f.txt", "", "\u00e9t\u00e9.png"])),
    st.one_of(st.none(), st.sampled_from(["text/plain", "application/octet-stream"])),
)


@given(st.lists(part_strategy, max_size=5), st.data())
def test_any_split_gives_same_result(parts: list[Part], data: st.DataObject) -> None:
    body = encode(parts)
    whole = feed(body)
    cuts = sorted(
        data.draw(st.lists(st.integers(0, len(body)), max_size=6), label="cuts")
    )
    assert feed(body, chunks=cuts) == whole
    assert len(whole[0]) + len(whole[1]) == len(parts)
    for (name, value, _filename, _ct), got in zip(
        [p for p in parts if p[2] is None], whole[0], strict=True
    ):
        assert got == (name, value.decode("utf-8", "replace"))


@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_http_errors(body: bytes) -> None:
    try:
        feed(body)
    except (BadRequest, RequestEntityTooLarge):
        pass
    try:
        feed(b"--" + BOUNDARY + b"\r\n" + body, max_form_memory_size=50)
    except (BadRequest, RequestEntityTooLarge):
        pass


# Werkzeug's test client writes an empty part with no CRLF before the delimiter.
BARE = (
    b"\r\n--" + BOUNDARY + b"\r\n"
    b'Content-Disposition: form-data; name="f"; filename=""\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
    b"--" + BOUNDARY + b"\r\n"
    b'Content-Disposition: form-data; name="e"\r\n\r\n'
    b"--" + BOUNDARY + b"\r\n"
    b'Content-Disposition: form-data; name="a"\r\n\r\n'
    b"x\r\n\r\n--" + BOUNDARY + b"\r\n"
    b'Content-Disposition: form-data; name="b"\r\n\r\n'
    b"\r\n\r\n--" + BOUNDARY + b"--\r\n"
)
BARE_EXPECTED = (
    [("e", ""), ("a", "x\r\n"), ("b", "\r\n")],
    [("f", "", "application/octet-stream", b"")],
)


def test_empty_part_without_crlf() -> None:
    assert feed(BARE) == BARE_EXPECTED


def test_empty_part_without_crlf_every_split() -> None:
    assert feed(BARE, chunks=list(range(1, len(BARE)))) == BARE_EXPECTED
    for i in range(len(BARE) + 1):
        assert feed(BARE, chunks=[i]) == BARE_EXPECTED, i


def test_truncated_carry_is_400() -> None:
    with pytest.raises(BadRequest):
        feed(BARE[:-3])


class RecordingIO(io.BytesIO):
    """A BytesIO that records the size of every write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, data: t.Any) -> int:
        self.sizes.append(len(data))
        return super().write(data)


@pytest.mark.parametrize("defer", [False, True])
def test_large_file_streams_to_the_container(defer: bool) -> None:
    made: list[RecordingIO] = []

    def factory(**kwargs: t.Any) -> t.IO[bytes]:
        made.append(RecordingIO())
        return made[-1]

    data = bytes(range(256)) * 2400  # 600 KiB
    body = encode([("f", data, "big.bin", None), ("small", b"x", "s.txt", None)])
    parser = MultipartParser(BOUNDARY, factory, defer_container=defer)
    for start in range(0, len(body), 64 * 1024):
        parser.receive_data(body[start : start + 64 * 1024])
    fields, files = parser.close()
    assert fields == []
    assert files[0][1].stream.read() == data
    # The data reached the container while the body was still arriving.
    assert len(made[0].sizes) >= 2
    assert all(size >= 256 * 1024 for size in made[0].sizes[:-1])
    if defer:
        # A small file with a deferred container never calls the factory.
        assert len(made) == 1
        assert isinstance(files[1][1].stream, io.BytesIO)
    else:
        assert len(made) == 2
    assert files[1][1].stream.read() == b"x"
    for _, fs in files:
        fs.close()


def test_deferred_small_files_keep_their_data() -> None:
    calls = []

    def factory(**kwargs: t.Any) -> t.IO[bytes]:  # pragma: no cover - not called
        calls.append(kwargs)
        return io.BytesIO()

    for i in range(len(SAMPLE) + 1):
        parser = MultipartParser(BOUNDARY, factory, defer_container=True)
        parser.receive_data(SAMPLE[:i])
        parser.receive_data(SAMPLE[i:])
        assert summary(parser.close()) == EXPECTED, i
    assert calls == []


def test_header_block_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen.sansio import multipart

    monkeypatch.setattr(multipart, "_HEADER_BLOCKS_MAX", 1)
    multipart._header_blocks.clear()
    assert feed(SAMPLE) == EXPECTED
    assert feed(SAMPLE) == EXPECTED
    assert len(multipart._header_blocks) == 1
    # Cached or not, each part gets its own Headers.
    first = first_file_headers(SAMPLE)
    first.add("X-Mine", "1")
    assert "X-Mine" not in first_file_headers(SAMPLE)
    # Big header blocks are not cached.
    multipart._header_blocks.clear()
    big = b"X-Pad: " + b"p" * 1100 + b"\r\n"
    body = SAMPLE.replace(b"\r\n\r\n1\r\n", b"\r\n" + big + b"\r\n1\r\n", 1)
    assert big in body
    assert feed(body) == EXPECTED
    assert all(big not in block for block in multipart._header_blocks)


def first_file_headers(body: bytes) -> t.Any:
    parser = make_parser()
    parser.receive_data(body)
    files = parser.close()[1]
    for _, storage in files:
        storage.close()
    return files[0][1].headers


def test_bad_first_boundary_line_is_400() -> None:
    # "--boundary" must be followed by CRLF or "--"; split anywhere.
    body = b"--" + BOUNDARY + b"\r\r"
    for i in range(len(body) + 1):
        with pytest.raises(BadRequest, match="CRLF"):
            feed(body, chunks=[i])
