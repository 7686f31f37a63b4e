"""Unit and property tests for erlen._parsing."""

from __future__ import annotations

import time
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen import _parsing as p

TOKEN_ALPHABET = (
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
tokens = st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", True),
        ("a-b.c~", True),
        ("", False),
        ("a b", False),
        ("a/b", False),
        ("é", False),
    ],
)
def test_is_token(value: str, expected: bool) -> None:
    assert p.is_token(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", False),
        ("tab\tok", False),
        ("cr\r", True),
        ("lf\n", True),
        ("nul\x00", True),
        ("del\x7f", True),
        ("bell\x07", True),
        ("é", False),
    ],
)
def test_has_ctl(value: str, expected: bool) -> None:
    assert p.has_ctl(value) is expected


@pytest.mark.parametrize(
    ("value", "allow_token", "expected"),
    [
        ("token", True, "token"),
        ("token", False, '"token"'),
        ("", True, '""'),
        ("two words", True, '"two words"'),
        ('say "hi"', True, '"say \\"hi\\""'),
        ("back\\slash", True, '"back\\\\slash"'),
        (42, True, "42"),
    ],
)
def test_quote_header_value(value: object, allow_token: bool, expected: str) -> None:
    assert p.quote_header_value(value, allow_token) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"quoted"', "quoted"),
        ("bare", "bare"),
        ('"', '"'),
        ('""', ""),
        ('"a\\"b"', 'a"b'),
        ('"a\\\\b"', "a\\b"),
        ('"a\\xb"', "axb"),
        ('"half', '"half'),
    ],
)
def test_unquote_header_value(value: str, expected: str) -> None:
    assert p.unquote_header_value(value) == expected


def test_unquote_header_value_keeps_unc_filename() -> None:
    assert p.unquote_header_value('"\\\\server\\share.txt"', is_filename=True) == (
        "\\\\server\\share.txt"
    )
    assert p.unquote_header_value('"C:\\\\dir"', is_filename=True) == "C:\\dir"
    assert p.unquote_header_value('"\\\\server"') == "\\server"


@given(st.text(max_size=30))
def test_quote_unquote_round_trip(value: str) -> None:
    assert p.unquote_header_value(p.quote_header_value(value)) == value


def test_dump_options_header() -> None:
    assert p.dump_options_header("text/html", {"charset": "utf-8"}) == (
        "text/html; charset=utf-8"
    )
    assert p.dump_options_header(None, {"a": "b c", "skip": None}) == 'a="b c"'
    assert p.dump_options_header("x", {"filename*": "UTF-8''%C3%A9"}) == (
        "x; filename*=UTF-8''%C3%A9"
    )


def test_dump_header() -> None:
    assert p.dump_header(["foo", "bar baz"]) == 'foo, "bar baz"'
    assert p.dump_header({"foo": "bar baz", "flag": None, "k*": "UTF-8''x"}) == (
        "foo=\"bar baz\", flag, k*=UTF-8''x"
    )
    assert p.dump_header(x for x in ["a", ""]) == 'a, ""'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("a, b ,c", ["a", "b", "c"]),
        (",,a,,", ["a"]),
        ('token, "quoted, value"', ["token", "quoted, value"]),
        ('"esc\\"aped", x', ['esc"aped', "x"]),
        ('a"b, c"d, e', ['a"b, c"d', "e"]),
        ('"unclosed, x', []),
        ('"trailing escape\\', []),
    ],
)
def test_parse_list_header(value: str, expected: list[str]) -> None:
    assert p.parse_list_header(value) == expected


def test_parse_list_header_many_unclosed_quotes_is_linear() -> None:
    start = time.perf_counter()
    assert p.parse_list_header('"a, ' * 20_001) == []
    assert p.parse_list_header('"\\' * 20_000) == []
    assert time.perf_counter() - start < 2


@given(st.lists(st.text(max_size=15), max_size=6))
def test_dump_then_parse_list_round_trip(items: list[str]) -> None:
    assert p.parse_list_header(p.dump_header(items)) == items


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", {}),
        ('a=b, c="d, e", f', {"a": "b", "c": "d, e", "f": None}),
        ("=x, y = 1 ", {"y": "1"}),
        ("t*=UTF-8''%C3%A9t%C3%A9", {"t": "été"}),
        ("t*=utf-8'en'%C3%A9", {"t": "é"}),
        ("t*=koi8-r''%F0", {"t": "%F0"}),
        ("t*=plain", {"t": "plain"}),
    ],
)
def test_parse_dict_header(value: str, expected: dict[str, str | None]) -> None:
    assert p.parse_dict_header(value) == expected


@given(
    st.dictionaries(
        tokens.filter(lambda k: not k.endswith("*") and k.strip()),
        st.one_of(st.none(), st.text(max_size=10)),
        max_size=5,
    )
)
def test_dump_then_parse_dict_round_trip(items: dict[str, str | None]) -> None:
    assert p.parse_dict_header(p.dump_header(items)) == items


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", {})),
        ("", ("", {})),
        ("text/html", ("text/html", {})),
        ("text/html; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ("text/html;", ("text/html", {})),
        (" ; a=b", ("", {})),
        (
            'form-data; name="a;b"; filename="x.txt"',
            ("form-data", {"name": "a;b", "filename": "x.txt"}),
        ),
        ('form-data; name="q%22uote"', ("form-data", {"name": 'q"uote'})),
        ('form-data; name="q\\"uote"', ("form-data", {"name": 'q"uote'})),
        ('form-data; name="open; x=y', ("form-data", {})),
        ('form-data; a=1; name="open\\"; x=y', ("form-data", {"a": "1"})),
        ("a; bad; k=v", ("a", {"k": "v"})),
        ("a; k=; z=1", ("a", {"z": "1"})),
        ("a; k=v v; z=1", ("a", {"k": "v", "z": "1"})),
        (
            "attachment; filename*=UTF-8''%E2%82%AC.txt",
            ("attachment", {"filename": "€.txt"}),
        ),
        (
            "attachment; filename*=ISO-8859-1''%E9.txt",
            ("attachment", {"filename": "é.txt"}),
        ),
        ("attachment; filename*=koi8-r''%F0", ("attachment", {"filename": "%F0"})),
        ('attachment; filename*="raw"', ("attachment", {"filename": '"raw"'})),
        (
            "attachment; filename*0=a; filename*1=b; filename*2=c",
            ("attachment", {"filename": "abc"}),
        ),
        (
            "attachment; filename*0*=UTF-8''%C3%A9; filename*1*=%C3%A9",
            ("attachment", {"filename": "éé"}),
        ),
        ("a; k*0=x; k=y", ("a", {"k": "y"})),
        ("a; k=y; k*0=x", ("a", {"k": "x"})),
        ("a; *=x", ("a", {"": "x"})),
    ],
)
def test_parse_options_header(
    value: str | None, expected: tuple[str, dict[str, str]]
) -> None:
    assert p.parse_options_header(value) == expected


@given(
    tokens,
    st.dictionaries(
        st.text(alphabet="abcdefgh-_", min_size=1, max_size=8),
        st.text(max_size=12).filter(lambda v: "%" not in v),
        max_size=4,
    ),
)
def test_dump_then_parse_options_round_trip(head: str, options: dict[str, str]) -> None:
    assert p.parse_options_header(p.dump_options_header(head, options)) == (
        head,
        options,
    )


@given(st.text(max_size=60))
def test_header_parsers_never_raise(value: str) -> None:
    p.parse_list_header(value)
    p.parse_dict_header(value)
    p.parse_options_header(value)
    p.parse_date(value)
    p.unquote_etag(value)
    p.unquote_header_value(value, is_filename=True)


def test_options_header_prefixes_byte_at_a_time() -> None:
    # Every prefix of a header (as if it arrived one byte at a time) parses.
    value = 'form-data; name="fi\\"le"; filename*0*=UTF-8\'\'%C3%A9; filename*1="x; y"'
    for end in range(len(value) + 1):
        head, options = p.parse_options_header(value[:end])
        assert value.startswith(head)
        assert all(isinstance(v, str) for v in options.values())
    assert p.parse_options_header(value)[1] == {"name": 'fi"le', "filename": "éx; y"}


def test_quote_etag() -> None:
    assert p.quote_etag("abc") == '"abc"'
    assert p.quote_etag("abc", weak=True) == 'W/"abc"'
    with pytest.raises(ValueError, match="cannot contain a double quote, got 'a\"b'"):
        p.quote_etag('a"b')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ('"abc"', ("abc", False)),
        ('W/"abc"', ("abc", True)),
        ('w/"abc"', ("abc", True)),
        ("abc", ("abc", False)),
        ('W/"', ("", True)),
        ('"', ("", False)),
        ("W/", ("", True)),
    ],
)
def test_unquote_etag(value: str | None, expected: tuple[object, object]) -> None:
    assert p.unquote_etag(value) == expected


@given(st.text(max_size=10).filter(lambda s: '"' not in s), st.booleans())
def test_quote_unquote_etag_round_trip(tag: str, weak: bool) -> None:
    assert p.unquote_etag(p.quote_etag(tag, weak)) == (tag, weak) or tag == ""


def test_generate_etag() -> None:
    assert p.generate_etag(b"hello") == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, None, None), True),
        ((None, None, 10), True),
        ((None, None, -1), False),
        ((0, None, 10), False),
        ((None, 5, 10), False),
        ((0, 5, None), True),
        ((5, 5, None), False),
        ((-1, 5, None), False),
        ((0, 5, 10), True),
        ((9, 20, 10), True),
        ((10, 20, 10), False),
        ((5, 3, 10), False),
    ],
)
def test_is_byte_range_valid(
    args: tuple[int | None, int | None, int | None], expected: bool
) -> None:
    assert p.is_byte_range_valid(*args) is expected


def test_parse_plain_int() -> None:
    assert p.parse_plain_int(" 12 ") == 12
    assert p.parse_plain_int("-3") == -3
    for bad in ["+1", "1_0", "١", "", "1.0", "0x1"]:
        with pytest.raises(ValueError, match="Expected a decimal integer"):
            p.parse_plain_int(bad)


def test_as_utc() -> None:
    naive = datetime(2020, 1, 1, 12)
    assert p.as_utc(naive) == datetime(2020, 1, 1, 12, tzinfo=UTC)
    aware = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    converted = p.as_utc(aware)
    assert converted.tzinfo is UTC
    assert converted.hour == 10
    already = datetime(2020, 1, 1, tzinfo=UTC)
    assert p.as_utc(already) is already


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        (
            "Sunday, 06-Nov-94 08:49:37 GMT",
            datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC),
        ),
        ("Sun Nov  6 08:49:37 1994", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        (
            "Sun, 06 Nov 1994 10:49:37 +0200",
            datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC),
        ),
        ("Sun, 06 Nov 0050 08:49:37 GMT", datetime(2050, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sun, 31 Feb 1994 08:49:37 GMT", None),
        ("Sun, 06 Nov 19x4 08:49:37 GMT", None),
        ("nonsense", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: datetime | None) -> None:
    parsed = p.parse_date(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0) or "+0200" in str(value)


def test_http_date_forms() -> None:
    expected = "Sun, 06 Nov 1994 08:49:37 GMT"
    moment = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert p.http_date(moment) == expected
    assert p.http_date(moment.replace(tzinfo=None)) == expected
    assert p.http_date(moment.astimezone(timezone(timedelta(hours=-5)))) == expected
    assert p.http_date(moment.timestamp()) == expected
    assert p.http_date(int(moment.timestamp())) == expected
    assert p.http_date(date(1994, 11, 6)) == "Sun, 06 Nov 1994 00:00:00 GMT"
    local = time.localtime(moment.timestamp())
    assert p.http_date(local) == expected


def test_http_date_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    parsed = p.parse_date(p.http_date())
    after = datetime.now(UTC)
    assert parsed is not None
    assert before <= parsed <= after


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_http_date_parse_date_round_trip(moment: datetime) -> None:
    assert p.parse_date(p.http_date(moment)) == moment.replace(
        microsecond=0, tzinfo=UTC
    )
