from __future__ import annotations

import io
import typing as t

import pytest

from erlen.datastructures import ImmutableMultiDict
from erlen.datastructures import MultiDict
from erlen.datastructures import multidict_from_flat
from erlen.exceptions import BadRequest
from erlen.exceptions import RequestEntityTooLarge
from erlen.sansio.formparser import _decode_form_fields
from erlen.sansio.formparser import default_stream_factory
from erlen.sansio.formparser import FormDataParser
from erlen.sansio.formparser import parse_urlencoded
from erlen.sansio.formparser import SPOOL_MAX_SIZE
from erlen.urls import parse_qsl

from .test_multipart import BOUNDARY
from .test_multipart import encode

MP_OPTIONS = {"boundary": BOUNDARY.decode()}
URLENC = "application/x-www-form-urlencoded"


def parse(
    body: bytes, mimetype: str, options: dict[str, str] | None = None, **kw: t.Any
) -> t.Any:
    return FormDataParser(**kw).parse(io.BytesIO(body), mimetype, len(body), options)


def test_urlencoded() -> None:
    stream, form, files = parse(b"a=1&b=%C3%BC+x&a=&c&&d=%FF", URLENC)
    assert isinstance(form, MultiDict)
    assert form.getlist("a") == ["1", ""]
    assert form["b"] == "\u00fc x"
    assert form["c"] == ""
    assert form["d"] == "%FF"
    assert not files
    assert stream.read() == b""


def test_urlencoded_cls_and_empty() -> None:
    _, form, files = parse(b"", URLENC, cls=ImmutableMultiDict)
    assert isinstance(form, ImmutableMultiDict)
    assert isinstance(files, ImmutableMultiDict)
    assert not form


def test_urlencoded_memory_limit() -> None:
    body = b"a=" + b"x" * 100
    assert parse(body, URLENC, max_form_memory_size=102)[1]["a"] == "x" * 100
    with pytest.raises(RequestEntityTooLarge) as info:
        parse(body, URLENC, max_form_memory_size=101)
    assert "max_form_memory_size (MAX_FORM_MEMORY_SIZE) of 101" in str(
        info.value.description
    )


def test_urlencoded_big_body_read_in_chunks() -> None:
    body = b"a=" + b"x" * (200 * 1024)
    assert len(parse(body, URLENC, max_form_memory_size=None)[1]["a"]) == 200 * 1024
    with pytest.raises(RequestEntityTooLarge):
        parse(body, URLENC, max_form_memory_size=100 * 1024)


class TrickleStream(io.RawIOBase):
    """A body that arrives a few bytes per read, as from a slow socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size < 0 else min(size, self._step)
        chunk, self._data = self._data[:n], self._data[n:]
        return chunk


def test_urlencoded_short_reads_within_the_announced_length() -> None:
    body = b"a=1&b=" + b"y" * 40
    parser = FormDataParser(max_form_memory_size=100)
    _, form, _ = parser.parse(TrickleStream(body, 7), URLENC, len(body))
    assert form["a"] == "1"
    assert form["b"] == "y" * 40
    # The limit still counts the bytes of every short read.
    small = FormDataParser(max_form_memory_size=len(body) - 1)
    with pytest.raises(RequestEntityTooLarge):
        small.parse(TrickleStream(body, 7), URLENC, len(body) - 5)


def test_urlencoded_parts_limit() -> None:
    body = b"&".join(b"f%d=1" % i for i in range(5))
    assert len(parse(body, URLENC, max_form_parts=5)[1]) == 5
    with pytest.raises(RequestEntityTooLarge) as info:
        parse(body, URLENC, max_form_parts=4)
    assert "max_form_parts (MAX_FORM_PARTS) of 4" in str(info.value.description)


# Bodies for the bulk decoder, and whether it takes them (None: the general
# parser does). Every one must give what parse_qsl gives.
BULK_CASES = [
    (b"a=1&b=2", True),
    (b"f0=value+0+%26+%C3%A9%2B%C3%BC&f1=x", True),
    (b"a=%c3%a9&b=%C3%A9", True),  # lower- and upper-case hex
    (b"a=b%3Dc", True),  # a decoded "=": the lengths decide
    (b"a=%FF%FE&b=%C3", True),  # not UTF-8: kept as %XX
    (b"a=%C3&b=%A9", True),  # a sequence cut by a separator
    (b"=&=", True),  # empty names and values
    (b"a=\\x41&\\=\\\\", True),  # backslashes are plain data
    (b"a=1&a=2&b=3", True),  # a repeated name
    (b"a=1%", False),  # a trailing "%"
    (b"a=1%4", False),
    (b"a=%zz&b=1", False),
    (b"a=%%41", False),
    (b"a=%4=", False),
    (b"a=%3Dx%", False),  # a decoded "=" and a malformed escape
    (b"a=1&&b=2", False),  # an empty field
    (b"a&b=2", False),  # a field without "="
    (b"a=1=2&b", False),  # a field with two, one without
    (b"a=b=c", False),
    (b"a=%00&b=1", False),  # a NUL in the data
    (b"a=x\x00y", False),
    (b"a=x\ny&b=%\r\n", False),  # CR and LF (soft line breaks to a2b_qp)
    (b"", False),
    (b"&", False),
    (b"a=1" + b"&a=1" * 4096, False),  # more fields than the bulk decoder takes
]


@pytest.mark.parametrize(("body", "bulk"), BULK_CASES)
def test_urlencoded_bulk_decoding_matches_parse_qsl(body: bytes, bulk: bool) -> None:
    expected = parse_qsl(body, keep_blank_values=True)
    flat = _decode_form_fields(body)
    assert (flat is not None) is bulk
    if flat is not None:
        assert list(zip(flat[::2], flat[1::2], strict=True)) == expected
    form = parse_urlencoded(body, None, MultiDict)
    assert type(form) is MultiDict
    assert form == MultiDict(expected)
    assert list(form.items(multi=True)) == list(MultiDict(expected).items(multi=True))


def test_urlencoded_non_ascii_body_takes_the_general_parser() -> None:
    body = "a=é&b=%C3%A9".encode()
    form = parse_urlencoded(body, None, ImmutableMultiDict)
    assert form == ImmutableMultiDict([("a", "é"), ("b", "é")])
    assert parse_urlencoded(b"a=\xff", None, MultiDict)["a"] == "%FF"


@pytest.mark.parametrize("body", [b"a=1&b=2&c=3", b"a=1&b=2&c=3&&"])
def test_urlencoded_parts_limit_both_decoders(body: bytes) -> None:
    assert len(parse_urlencoded(body, 3, MultiDict)) == 3
    with pytest.raises(RequestEntityTooLarge, match="MAX_FORM_PARTS"):
        parse_urlencoded(body, 2, MultiDict)
    with pytest.raises(RequestEntityTooLarge, match="MAX_FORM_PARTS"):
        parse_urlencoded(body, 0, MultiDict)


class OrderedForm(ImmutableMultiDict[str, t.Any]):
    made: t.ClassVar[list[t.Any]] = []

    def __init__(self, mapping: t.Any = None) -> None:
        self.made.append(mapping)
        super().__init__(mapping)


def test_multidict_from_flat() -> None:
    flat = ["a", "1", "b", "2", "a", "3"]
    for cls in (MultiDict, ImmutableMultiDict, OrderedForm):
        md = multidict_from_flat(cls, flat)
        assert type(md) is cls
        assert md.getlist("a") == ["1", "3"]
        assert md["b"] == "2"
        md = multidict_from_flat(cls, ["x", "y"])
        assert type(md) is cls
        assert md.to_dict() == {"x": "y"}
    # A subclass is built through its own __init__, with the pairs.
    assert OrderedForm.made == [[("a", "1"), ("b", "2"), ("a", "3")], [("x", "y")]]
    assert multidict_from_flat(MultiDict, []) == MultiDict()


def test_multipart() -> None:
    body = encode([("a", b"1", None, None), ("f", b"data", "f.txt", "text/plain")])
    stream, form, files = parse(body, "multipart/form-data", MP_OPTIONS)
    assert form["a"] == "1"
    assert files["f"].read() == b"data"
    assert files["f"].filename == "f.txt"
    assert files["f"].mimetype == "text/plain"
    files["f"].close()


class _Reads(io.BytesIO):
    """A BytesIO that records the sizes asked of read()."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(size)
        return super().read(size)


@pytest.mark.parametrize("size", [100 * 1024, 300 * 1024])
def test_multipart_read_sizes(size: int) -> None:
    data = bytes(range(256)) * (size // 256)
    body = encode([("a", b"1", None, None), ("f", data, "f.bin", None)])
    stream = _Reads(body)
    _, form, files = FormDataParser().parse(
        stream, "multipart/form-data", len(body), MP_OPTIONS
    )
    assert form["a"] == "1"
    assert files["f"].read() == data
    files["f"].close()
    if len(body) <= 256 * 1024:
        # A body up to 256 KiB is read in one call.
        assert stream.sizes[0] == len(body)
    else:
        assert stream.sizes[0] == 64 * 1024


def test_multipart_missing_boundary() -> None:
    with pytest.raises(BadRequest, match="no boundary"):
        parse(b"x", "multipart/form-data", None)


def test_other_mimetype_leaves_stream() -> None:
    stream, form, files = parse(b"raw", "application/json")
    assert stream.read() == b"raw"
    assert not form
    assert not files


def test_content_length_over_max() -> None:
    with pytest.raises(RequestEntityTooLarge, match="Content-Length is 3 bytes"):
        parse(b"a=1", URLENC, max_content_length=2)
    assert parse(b"a=1", URLENC, max_content_length=3)[1]["a"] == "1"


class ValueErrorParser(FormDataParser):
    def _parse_urlencoded(self, *args: t.Any) -> t.Any:
        raise ValueError("custom")


def test_silent_value_error() -> None:
    _, form, files = ValueErrorParser().parse(io.BytesIO(b"a"), URLENC, 1)
    assert not form
    assert not files
    with pytest.raises(ValueError, match="custom"):
        ValueErrorParser(silent=False).parse(io.BytesIO(b"a"), URLENC, 1)


def test_default_stream_factory_spools() -> None:
    f = default_stream_factory(None, None, None)
    f.write(b"x" * 10)
    assert not f._rolled  # type: ignore[attr-defined]
    f.write(b"x" * SPOOL_MAX_SIZE)
    assert f._rolled  # type: ignore[attr-defined]
    f.close()


def test_custom_stream_factory() -> None:
    made = []

    def factory(**kwargs: t.Any) -> t.IO[bytes]:
        made.append(io.BytesIO())
        return made[-1]

    body = encode([("f", b"data", "f.txt", None)])
    _, _, files = parse(body, "multipart/form-data", MP_OPTIONS, stream_factory=factory)
    assert files["f"].stream is made[0]
