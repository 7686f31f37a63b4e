"""erlen's own multipart parser: properties, a differential against
python-multipart's low-level parser, malformed bodies and bounded memory."""

from __future__ import annotations

import io
import re
import typing as t

import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import strategies as st
from python_multipart.multipart import MultipartParser as ReferenceParser

from erlen._parsing import parse_options_header
from erlen.exceptions import BadRequest
from erlen.exceptions import RequestEntityTooLarge
from erlen.sansio.formparser import default_stream_factory
from erlen.sansio.multipart import _MAX_HEADER_BLOCK
from erlen.sansio.multipart import _MAX_HEADER_COUNT
from erlen.sansio.multipart import _MAX_HEADER_SIZE
from erlen.sansio.multipart import MultipartParser

B = b"xYz-b0undary"
DELIMITER = b"\r\n--" + B
# A delimiter is "CRLF--boundary" followed by CRLF, "--" or padding.
REAL_DELIMITER = re.compile(re.escape(DELIMITER) + rb"(\r\n|--|[ \t])")

# (name, data, filename, bare): bare writes an empty part without the CRLF
# before the next delimiter, as Werkzeug's test client does.
Part = tuple[str, bytes, str | None, bool]
Result = tuple[list[t.Any], list[t.Any]]


def encode(
    parts: list[Part],
    *,
    padding: str = "",
    bare_allowed: bool = True,
    preamble: bytes = b"",
    epilogue: bytes = b"",
) -> bytes:
    out = [preamble, b"--" + B + b"\r\n"]
    for i, (name, data, filename, bare) in enumerate(parts):
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
            out.append(disposition.encode() + b"\r\nContent-Type: x/y\r\n\r\n")
        else:
            out.append(disposition.encode() + b"\r\n\r\n")
        out.append(data if bare and bare_allowed and not data else data + b"\r\n")
        last = i == len(parts) - 1
        out.append(b"--" + B + (b"--" if last else padding.encode() + b"\r\n"))
    if not parts:
        out[-1] = b"--" + B + b"--"
    out.append(epilogue)
    return b"".join(out)


def ours(body: bytes, cuts: t.Sequence[int] = (), **kwargs: t.Any) -> Result:
    parser = MultipartParser(B, default_stream_factory, **kwargs)
    start = 0
    for end in [*cuts, len(body)]:
        parser.receive_data(body[start:end])
        start = end
    fields, files = parser.close()
    got = []
    for name, storage in files:
        got.append((name, storage.filename, storage.stream.read()))
        storage.close()
    return fields, got


def reference(body: bytes) -> Result:
    """Parse with python-multipart's low-level parser (no preamble support)."""
    fields: list[t.Any] = []
    files: list[t.Any] = []
    state: dict[str, t.Any] = {}

    def on_part_begin() -> None:
        state.update(headers=[], field=b"", value=b"", data=[])

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"].append((state["field"].lower(), state["value"].decode()))
        state["field"] = state["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"].append(data[start:end])

    def on_part_end() -> None:
        headers = dict(state["headers"])
        options = parse_options_header(headers[b"content-disposition"])[1]
        data = b"".join(state["data"])
        if "filename" in options:
            files.append((options["name"], options["filename"], data))
        else:
            fields.append((options["name"], data.decode("utf-8", "replace")))

    def on_end() -> None:
        state["end"] = True

    parser = ReferenceParser(
        B,
        {  # type: ignore[arg-type]
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    parser.write(body)
    assert state.get("end")
    return fields, files


# Content made of the pieces that trouble a parser: line breaks, dashes and
# delimiters that fall short of one, or are followed by the wrong byte.
PIECES = [
    b"\r",
    b"\n",
    b"\r\n",
    b"-",
    b"--",
    b"\r\n--",
    b"--" + B,
    B,
    DELIMITER[:5],
    DELIMITER[:-1],
    DELIMITER + b"x",
    DELIMITER + b"\r",
    DELIMITER + b"-",
    DELIMITER + b"\rx",
    DELIMITER + b"-x",
    b"\r\n\r\n",
    b"caf\xc3\xa9",
    b"\xff\x00",
]
content = st.lists(
    st.one_of(st.sampled_from(PIECES), st.binary(max_size=20)), max_size=8
).map(b"".join)
names = st.text(
    st.characters(codec="utf-8", exclude_characters='"\\\r\n\x00'), max_size=8
)
part = st.tuples(
    names,
    content,
    st.one_of(st.none(), names),
    st.booleans(),
)


def is_unambiguous(data: bytes) -> bool:
    # The data must hold no delimiter, and must not start with one as
    # "--boundary" directly after the headers' blank line (that is an empty
    # part without its CRLF).
    match = REAL_DELIMITER.search(b"\r\n" + data + DELIMITER + b"\r\n")
    return match is not None and match.start() == len(data) + 2


@given(
    st.lists(part, max_size=5),
    st.sampled_from(["", " ", "\t ", "  \t"]),
    st.data(),
)
def test_random_bodies_match_whole_split_and_reference(
    parts: list[Part], padding: str, data: st.DataObject
) -> None:
    for _, value, _, _ in parts:
        assume(is_unambiguous(value))
    body = encode(parts, padding=padding)
    whole = ours(body)
    assert whole == reference(encode(parts, padding=padding, bare_allowed=False))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=8)))
    assert ours(body, cuts) == whole
    # A preamble and an epilogue change nothing.
    framed = encode(
        parts, padding=padding, preamble=b"pre\r\n--\r\n", epilogue=b"\r\n--" + B
    )
    cuts = sorted(data.draw(st.lists(st.integers(0, len(framed)), max_size=8)))
    assert ours(framed, cuts) == whole
    # The names and the data went through unchanged, but for "%22" in a
    # name or filename, which is a quote (as browsers encode one, and as
    # Werkzeug reads it).
    fields, files = whole
    assert fields == [
        (unquoted(n), v.decode("utf-8", "replace")) for n, v, f, _ in parts if f is None
    ]
    assert [
        (unquoted(n), unquoted(f), v) for n, v, f, _ in parts if f is not None
    ] == files


def unquoted(name: str) -> str:
    return name.replace("%22", '"')


def test_byte_at_a_time_with_every_feature() -> None:
    parts: list[Part] = [
        ("a", DELIMITER + b"x" + DELIMITER[:-1], None, False),
        ("e", b"", None, True),
        ("f", b"\r\n--" + B + b"-x\r", "f.bin", False),
        ("g", b"", "", True),
        ("h", b"--" + B + b"x", None, False),
    ]
    body = encode(parts, padding=" \t", preamble=b"x\r\n", epilogue=b"junk")
    expected = (
        [
            ("a", (DELIMITER + b"x" + DELIMITER[:-1]).decode()),
            ("e", ""),
            ("h", "--" + B.decode() + "x"),
        ],
        [("f", "f.bin", b"\r\n--" + B + b"-x\r"), ("g", "", b"")],
    )
    assert ours(body) == expected
    assert ours(body, range(1, len(body))) == expected
    for i in range(len(body) + 1):
        assert ours(body, [i]) == expected, i


def test_every_truncation_is_400() -> None:
    body = encode([("a", b"1\r\n2", None, False), ("f", b"", "f", True)], padding=" ")
    end = body.index(b"--" + B + b"--") + len(B) + 4
    for i in range(1, len(body) + 1):
        for cuts in ([], [i // 2]):
            if i >= end:
                assert ours(body[:i], cuts)[0] == [("a", "1\r\n2")]
            else:
                with pytest.raises(BadRequest, match="ended before the closing"):
                    ours(body[:i], cuts)


HEAD = b"--" + B + b"\r\n"
DISPOSITION = b"Content-Disposition: form-data; name=a\r\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HEAD + b"NoColon\r\n\r\nx" + DELIMITER + b"--", "no name and colon"),
        (HEAD + b": empty name\r\n\r\nx" + DELIMITER + b"--", "no name and colon"),
        (HEAD + b"Bad Name: x\r\n\r\nx" + DELIMITER + b"--", "invalid character"),
        (HEAD + DISPOSITION + b"X: a\rb\r\n\r\n" + DELIMITER + b"--", "control"),
        (HEAD + DISPOSITION + b"X: a\nb\r\n\r\n" + DELIMITER + b"--", "control"),
        (HEAD + b"X: a\r\n\r\nx" + DELIMITER + b"--", "no Content-Disposition"),
        (HEAD + b"\r\nx" + DELIMITER + b"--", "no Content-Disposition"),
        (HEAD + DISPOSITION + b"\r\nx" + DELIMITER + b" x", "spaces, tabs and CRLF"),
        (HEAD + DISPOSITION + b"\r\nx" + DELIMITER + b" \r\r", "spaces, tabs"),
        (HEAD + DISPOSITION + b"\r\nx" + DELIMITER + b" \r", "ended before"),
        (HEAD + DISPOSITION + b"\r\nx" + DELIMITER + b" \t", "ended before"),
        (HEAD + DISPOSITION + b"\r\nx" + DELIMITER, "ended before"),
        (HEAD + DISPOSITION + b"\r\nx" + DELIMITER + b"-", "ended before"),
        (HEAD + DISPOSITION + b"\r\n--" + B, "ended before"),
        (HEAD + DISPOSITION + b"\r\n--" + B[:3], "ended before"),
        (HEAD + DISPOSITION + b"\r\n--" + B + b"-", "ended before"),
        (HEAD + DISPOSITION, "ended before"),
        (b"--" + B + b" \r\n", "first boundary is not followed by CRLF"),
        (b"--" + B + b"-x", "first boundary is not followed by CRLF"),
        (b"--" + B, "ended before"),
        (b"--" + B[:-1], "ended before"),
        (b"--other\r\n" + DISPOSITION + b"\r\nx\r\n--other--", "ended before"),
        (b"x" * 1000, "ended before"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    for cuts in ([], [len(body) // 2], range(1, len(body))):
        with pytest.raises(BadRequest, match=message):
            ours(body, cuts)


def header_lines(count: int, size: int) -> bytes:
    line = b"X-Pad: " + b"v" * (size - 7) + b"\r\n"
    assert len(line) == size + 2
    return HEAD + DISPOSITION + line * (count - 1) + b"\r\nx" + DELIMITER + b"--"


def test_header_limits() -> None:
    ok = header_lines(_MAX_HEADER_COUNT, _MAX_HEADER_SIZE)
    assert ours(ok) == ([("a", "x")], [])
    assert ours(ok, range(0, len(ok), 100)) == ([("a", "x")], [])
    # The largest header block allowed: every line at the size limit.
    disposition = DISPOSITION[:-2] + b"; x=" + b"v" * 4000
    disposition += b"w" * (_MAX_HEADER_SIZE - len(disposition)) + b"\r\n"
    largest = ok.replace(DISPOSITION, disposition)
    assert largest.index(b"\r\n\r\n") + 4 - len(HEAD) == _MAX_HEADER_BLOCK
    assert ours(largest) == ([("a", "x")], [])
    assert ours(largest, range(0, len(largest), 1000)) == ([("a", "x")], [])
    for body, message in [
        (header_lines(_MAX_HEADER_COUNT + 1, 10), "more than 8 header lines"),
        (header_lines(2, _MAX_HEADER_SIZE + 1), "longer than 4224 bytes"),
    ]:
        for cuts in ([], range(0, len(body), 1000)):
            with pytest.raises(BadRequest, match=message):
                ours(body, cuts)


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ((b"X-Pad: 1\r\n") * 5000, "more than 8 header lines"),
        (b"X-Pad: " + b"v" * 100_000, "longer than 4224 bytes"),
    ],
)
def test_endless_header_block_is_refused_early(tail: bytes, message: str) -> None:
    # No blank line in sight: the parser refuses once the block cannot fit
    # the limits any more, before the body ends and without buffering it.
    parser = MultipartParser(B, default_stream_factory)
    parser.receive_data(HEAD + DISPOSITION)

    def feed_in_pieces() -> None:
        for start in range(0, len(tail), 1000):
            parser.receive_data(tail[start : start + 1000])
            assert len(parser._carry) < _MAX_HEADER_BLOCK

    with pytest.raises(BadRequest, match=message):
        feed_in_pieces()
    parser = MultipartParser(B, default_stream_factory)
    with pytest.raises(BadRequest, match=message):
        parser.receive_data(HEAD + DISPOSITION + tail)


def test_header_block_split_at_every_offset() -> None:
    body = HEAD + b"Content-Disposition: form-data; name=a\r\nX-A: 1\r\n\r\nv"
    body += DELIMITER + b"--"
    for i in range(len(body) + 1):
        for j in range(i, len(body) + 1, 7):
            assert ours(body, [i, j]) == ([("a", "v")], []), (i, j)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_small_chunks_of_a_header_block_are_joined_once(size: int) -> None:
    pad = (b"X-Pad: " + b"p" * 500 + b"\r\n") * 6
    body = HEAD + DISPOSITION + pad + b"\r\nvalue" + DELIMITER + b"--"
    start = len(HEAD) + 10
    parser = MultipartParser(B, default_stream_factory)
    parser.receive_data(body[:start])
    held = parser._carry
    end = body.index(b"\r\n\r\n") - size
    for i in range(start, end, size):
        parser.receive_data(body[i : min(i + size, end)])
        # The held-back block is not copied for each chunk.
        assert parser._carry is held
    parser.receive_data(body[end:])
    assert parser.close() == ([("a", "value")], [])
    assert not parser._more


def test_small_chunks_of_an_endless_header_block() -> None:
    parser = MultipartParser(B, default_stream_factory)
    parser.receive_data(HEAD + DISPOSITION + b"X-Pad: ")

    def feed_bytes() -> None:
        for _ in range(_MAX_HEADER_BLOCK):
            parser.receive_data(b"v")
            assert parser._more_size < _MAX_HEADER_BLOCK

    with pytest.raises(BadRequest, match="longer than 4224 bytes"):
        feed_bytes()


def test_too_many_parts_is_413() -> None:
    body = encode([("a", b"1", None, False)] * 4)
    assert len(ours(body, max_form_parts=4)[0]) == 4
    for cuts in ([], range(1, len(body))):
        with pytest.raises(RequestEntityTooLarge, match="max_form_parts"):
            ours(body, cuts, max_form_parts=3)


def test_memory_is_bounded_for_any_file_size() -> None:
    made: list[io.BytesIO] = []

    def factory(**kwargs: t.Any) -> t.IO[bytes]:
        made.append(io.BytesIO())
        return made[-1]

    # Chunks that end in every prefix of a delimiter.
    chunk = bytes(range(256)) * 4 + DELIMITER[:-1]
    parser = MultipartParser(B, factory)
    parser.receive_data(HEAD + b'Content-Disposition: form-data; name=f; filename="x"')
    parser.receive_data(b"\r\n\r\n")
    for i in range(4000):
        parser.receive_data(chunk[: len(chunk) - i % len(DELIMITER)])
        assert len(parser._carry) <= len(DELIMITER) + 1
        assert parser._file_buffered < 256 * 1024 + len(chunk)
    parser.receive_data(DELIMITER + b"--\r\n")
    files = parser.close()[1]
    assert made[0].tell() == 0
    size = len(made[0].getvalue())
    assert size == sum(len(chunk) - i % len(DELIMITER) for i in range(4000))
    files[0][1].close()


def test_tiny_chunks_of_a_file_are_not_held_one_by_one() -> None:
    data = bytes(range(256)) * 20
    body = encode([("f", data, "f.bin", False)])
    parser = MultipartParser(B, default_stream_factory, defer_container=True)
    for i in range(len(body)):
        parser.receive_data(body[i : i + 1])
        assert len(parser._file_chunks) < 256
    fields, files = parser.close()
    assert files[0][1].stream.read() == data
    files[0][1].close()


def test_long_padding_is_not_buffered() -> None:
    parser = MultipartParser(B, default_stream_factory)
    parser.receive_data(HEAD + DISPOSITION + b"\r\n1" + DELIMITER)
    for _ in range(100):
        parser.receive_data(b" \t" * 500)
        assert not parser._carry
    parser.receive_data(b"\r\n" + DISPOSITION + b"\r\n2" + DELIMITER + b"--")
    assert parser.close()[0] == [("a", "1"), ("a", "2")]


def test_text_and_data_after_the_end_are_ignored() -> None:
    parser = MultipartParser(B, default_stream_factory)
    parser.receive_data(b"--" + B + b"--")
    parser.receive_data(b"--" + B + b"\r\nnot parsed")
    assert parser.close() == ([], [])


@given(st.binary(max_size=400), st.data())
def test_random_bytes_raise_only_http_errors(junk: bytes, data: st.DataObject) -> None:
    prefix = data.draw(
        st.sampled_from([b"", HEAD, HEAD + DISPOSITION, HEAD + DISPOSITION + b"\r\n"])
    )
    body = prefix + junk
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=5)))
    outcomes = []
    for split in ([], cuts):
        try:
            outcomes.append(ours(body, split, max_form_memory_size=50))
        except (BadRequest, RequestEntityTooLarge) as e:
            outcomes.append(type(e))
    assert outcomes[0] == outcomes[1]


@given(st.lists(part, min_size=1, max_size=3), st.data())
def test_mutated_bodies_raise_only_http_errors(
    parts: list[Part], data: st.DataObject
) -> None:
    body = bytearray(encode(parts))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.sampled_from([*PIECES, b"\r\n\r\n", b":", b" "]))
        if action == "insert":
            body[at:at] = piece
        elif action == "delete":
            del body[at : at + len(piece)]
        else:
            body[at : at + len(piece)] = piece
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=5)))
    outcomes = []
    for split in ([], cuts):
        try:
            outcomes.append(ours(bytes(body), split, max_form_parts=3))
        except (BadRequest, RequestEntityTooLarge) as e:
            outcomes.append(type(e))
    assert outcomes[0] == outcomes[1]
