"""Tests for erlen.urls, with differential checks against Werkzeug."""

from __future__ import annotations

import typing as t
import urllib.parse

import pytest
import werkzeug.urls as wurls
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict as WMultiDict
from werkzeug.test import create_environ
from werkzeug.wrappers import Request

from erlen import urls
from erlen.datastructures import MultiDict


def werkzeug_args(raw: bytes) -> list[tuple[str, str]]:
    """Return the ordered fields Werkzeug's Request.args is built from."""
    environ = create_environ()
    environ["QUERY_STRING"] = raw.decode("latin-1")
    args = Request(environ).args
    # Request.args feeds exactly this call into its MultiDict (which then
    # groups by key), so it gives the field order too.
    pairs = urllib.parse.parse_qsl(
        raw.decode(), keep_blank_values=True, errors="werkzeug.url_quote"
    )
    assert list(MultiDict(pairs).items(multi=True)) == list(args.items(multi=True))
    return pairs


QUERIES = [
    b"",
    b"a=1",
    b"a=1&b=2&a=3",
    b"a",
    b"a=",
    b"=b",
    b"=",
    b"&&a=1&&",
    b"a=1;b=2",
    b"a+b=c+d",
    b"a%20b=c%2Bd",
    b"x=%C3%A9",
    b"x=%c3%a9",
    b"x=%ff",
    b"x=%C3",
    b"x=%C3%28",
    b"x=%zz&y=%",
    b"x=%2",
    b"x=a=b=c",
    b"x=\xc3\xa9",
    b"q=%E2%82%AC%20&r=%F0%9F%98%80",
    b"%26=%3D",
    b"a=1&a=1&a=",
    b"?a=1",
    b"a=1#frag",
]


@pytest.mark.parametrize("raw", QUERIES)
def test_parse_qsl_matches_request_args(raw: bytes) -> None:
    assert urls.parse_qsl(raw) == werkzeug_args(raw)
    assert urls.parse_qsl(raw.decode("latin-1").encode("latin-1")) == werkzeug_args(raw)


@given(st.binary(max_size=40))
def test_parse_qsl_generated_bytes(raw: bytes) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        # Werkzeug fails on raw non-UTF-8; erlen keeps such bytes escaped.
        assert all(isinstance(v, str) for _, v in urls.parse_qsl(raw))
        return
    assert urls.parse_qsl(raw) == werkzeug_args(raw)


query_text = st.text(alphabet="ab=&+%2Fé;C3A9 ", max_size=30)


@given(query_text)
def test_parse_qsl_generated_text(text: str) -> None:
    raw = text.encode()
    assert urls.parse_qsl(raw) == werkzeug_args(raw)
    assert urls.parse_qsl(text) == werkzeug_args(raw)


def test_parse_qsl_raw_invalid_utf8_stays_escaped() -> None:
    assert urls.parse_qsl(b"a=\xff&b=%FF") == [("a", "%FF"), ("b", "%FF")]
    assert urls.parse_qsl(b"a=\xff", errors="replace") == [("a", "\ufffd")]
    assert urls.parse_qsl(bytearray(b"a=1")) == [("a", "1")]
    assert urls.parse_qsl(memoryview(b"a=%41")) == [("a", "A")]


def test_parse_qsl_blank_values() -> None:
    assert urls.parse_qsl("a&b=&c=1", keep_blank_values=False) == [("c", "1")]
    assert urls.parse_qsl("a&b=&c=1") == [("a", ""), ("b", ""), ("c", "1")]


def test_parse_qsl_max_fields() -> None:
    assert urls.parse_qsl("a=1&b=2", max_fields=2) == [("a", "1"), ("b", "2")]
    # Empty fields do not count.
    assert urls.parse_qsl("a=1&&&b=2&", max_fields=2) == [("a", "1"), ("b", "2")]
    with pytest.raises(ValueError, match="more than 2 fields"):
        urls.parse_qsl("a=1&b=2&c=3", max_fields=2)
    with pytest.raises(ValueError, match="more than 0 fields"):
        urls.parse_qsl("a", max_fields=0)
    assert urls.parse_qsl("", max_fields=0) == []


def test_parse_qsl_byte_at_a_time_prefixes_match() -> None:
    raw = b"na%C3%AFve=caf%C3%A9+au+lait&x=%ff&&y"
    buf = b""
    for i in range(len(raw)):
        buf += raw[i : i + 1]
        try:
            buf.decode()
        except UnicodeDecodeError:  # pragma: no cover - raw is ASCII
            continue
        assert urls.parse_qsl(buf) == werkzeug_args(buf)


# -- encode_query ---------------------------------------------------------------

ENCODE_CASES: list[t.Any] = [
    {},
    {"a": "1"},
    {"a": ["1", "2"], "b": None, "c": ("x",), "d": {"y"}},
    [("a", "1"), ("a", None), ("b", "é"), ("c d", "e&f=g")],
    {"path": "/a/b?c", "s": "!$'()*,/:;?@", "u": "~-._", "n": 3, "f": 1.5},
    {"bytes": b"\xff\x00 ", b"k": "v"},
    {"plus": "a+b", "hash": "#", "pct": "%"},
    [("a", ["list", "in", "pair"])],
]


@pytest.mark.parametrize("items", ENCODE_CASES)
def test_encode_query_matches_werkzeug(items: t.Any) -> None:
    assert urls.encode_query(items) == wurls._urlencode(items)


def test_encode_query_multidict_and_sort() -> None:
    pairs = [("b", "2"), ("a", "1"), ("b", "0")]
    assert urls.encode_query(MultiDict(pairs)) == wurls._urlencode(WMultiDict(pairs))
    assert urls.encode_query(MultiDict(pairs)) == "b=2&b=0&a=1"
    assert urls.encode_query(pairs, sort=True) == "a=1&b=0&b=2"
    assert urls.encode_query(pairs, sort=True, key=lambda p: p[0]) == "a=1&b=2&b=0"
    # None values are dropped before sorting, so they cannot break it.
    assert urls.encode_query([("a", None), ("a", "1")], sort=True) == "a=1"


pair_text = st.text(
    alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=8
)


@given(st.lists(st.tuples(pair_text, pair_text), max_size=6))
def test_encode_query_round_trip(pairs: list[tuple[str, str]]) -> None:
    encoded = urls.encode_query(pairs)
    assert encoded == wurls._urlencode(pairs)
    assert urls.parse_qsl(encoded) == pairs
    assert urls.parse_qsl(encoded.encode()) == pairs


# -- quote / unquote ------------------------------------------------------------


def test_quote_and_unquote() -> None:
    assert urls.quote("a b/é") == "a%20b/%C3%A9"
    assert urls.quote("a b/é", safe="") == "a%20b%2F%C3%A9"
    assert urls.quote(b"\xff /") == "%FF%20/"
    assert urls.quote("é", encoding="latin-1") == "%E9"
    assert urls.unquote("a%20b%C3%A9%FF%zz") == "a bé%FF%zz"
    assert urls.unquote("%FF", errors="replace") == "\ufffd"
    assert urls.unquote(b"%C3%A9\xff") == "é%FF"
    assert urls.unquote("no escapes") == "no escapes"
    assert urls.url_quote_path("/a b/ü;=@+") == "/a%20b/%C3%BC;=@+"


def test_error_handler_only_handles_decoding() -> None:
    with pytest.raises(UnicodeEncodeError):
        "é".encode("ascii", urls.URL_QUOTE_ERRORS)


# -- IRI / URI ------------------------------------------------------------------

IRIS = [
    "http://☃.net/påth?q=èry%DF",
    "http://xn--n3h.net/p%C3%A5th?q=%C3%A8ry%DF",
    "http://user:pässword@☃.net:8080/",
    "http://üser@☃.net/",
    "http://:@example.com:0/",
    "http://[::1]:80/a b",
    "https://example.com/a%2Fb?x=a%26b&y=%2B#fr%20ag",
    "/relative/pa th?q=1 2",
    "itms-services://?action=download-manifest&url=https://x/é",
    "http://example.com/%E2%82%AC%25%2F%3F%23",
    "http://example.com/?a=%26%3D%2B%23%20%C3%A9",
    "http://example.com/#%C3%A9%20%FF",
    "http://a%40b:c%3Ad@example.com/",
    "http://example.com/%C3",
    "http://example.com/%C3%25%A9",
    "http://example.com/%c3%a9%ff",
    "mailto:user@example.com",
    "http://ÉXAMPLE.com/",
    "",
    "http:/only/path",
    "file:///tmp/a b",
]


def outcome(fn: t.Callable[[str], str], value: str) -> t.Any:
    try:
        return fn(value)
    except ValueError as e:
        return type(e)


@pytest.mark.parametrize("iri", IRIS)
def test_iri_to_uri_and_back_match_werkzeug(iri: str) -> None:
    assert outcome(urls.iri_to_uri, iri) == outcome(wurls.iri_to_uri, iri)
    assert urls.uri_to_iri(iri) == wurls.uri_to_iri(iri)
    uri = outcome(urls.iri_to_uri, iri)
    if isinstance(uri, str):
        assert urls.uri_to_iri(uri) == wurls.uri_to_iri(uri)


path_text = st.lists(
    st.sampled_from(list("ab/?#%&=+ é€:@;") + ["%C3", "%A9", "%2F", "%25"]),
    max_size=20,
).map("".join)


@given(path_text)
def test_iri_uri_generated(text: str) -> None:
    for value in (text, "http://example.com/" + text, "http://üser@x.org/" + text):
        assert outcome(urls.iri_to_uri, value) == outcome(wurls.iri_to_uri, value)
        assert outcome(urls.uri_to_iri, value) == outcome(wurls.uri_to_iri, value)


def test_iri_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="Port"):
        urls.iri_to_uri("http://example.com:99999/")
    with pytest.raises(ValueError):  # noqa: PT011 - UnicodeError from IDNA
        urls.iri_to_uri("http://" + "a" * 64 + ".com/")


def test_uri_to_iri_keeps_labels_that_do_not_round_trip() -> None:
    # Werkzeug raises UnicodeError here; erlen keeps the bad label as text.
    uri = "http://xn--n3h.xn--invalid-.com/"
    assert urls.uri_to_iri(uri) == "http://\u2603.xn--invalid-.com/"
    assert urls.uri_to_iri("http://\u2603.net/") == "http://\u2603.net/"


def test_itms_services_keeps_its_netloc_separator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    monkeypatch.setattr(
        urllib.parse,
        "uses_netloc",
        [s for s in urllib.parse.uses_netloc if s != "itms-services"],
    )
    importlib.reload(urls)
    assert "itms-services" in urllib.parse.uses_netloc
    iri = "itms-services://?action=download-manifest&url=é"
    assert urls.iri_to_uri(iri) == (
        "itms-services://?action=download-manifest&url=%C3%A9"
    )


@pytest.mark.parametrize(
    "qs",
    ["q=hello&page=3", "a&b=&&c=1=2&", "x=%41+b", "k=v", b"q=caf\xc3\xa9&p=1", ""],
)
def test_parse_qsl_plain_fast_path_matches_general_path(qs: str | bytes) -> None:
    from erlen.urls import parse_qsl

    # A max_fields far above the count takes the general path.
    assert parse_qsl(qs) == parse_qsl(qs, max_fields=1000)


def _per_field(qs: str, errors: str) -> list[tuple[str, str]]:
    from erlen.urls import _decode_field

    out = []
    for field in qs.split("&"):
        if field:
            name, _, value = field.partition("=")
            out.append((_decode_field(name, errors), _decode_field(value, errors)))
    return out


@given(
    st.text(alphabet="ab=&+%2FfC3A9\\x\x00", max_size=40),
    st.sampled_from([urls.URL_QUOTE_ERRORS, "replace"]),
)
def test_decode_all_fields_matches_per_field(qs: str, errors: str) -> None:
    from erlen.urls import _decode_all_fields

    decoded = _decode_all_fields(qs.encode(), errors)
    if decoded is not None:
        assert decoded == _per_field(qs, errors)
    assert urls.parse_qsl(qs.encode(), errors=errors) == _per_field(qs, errors)


@pytest.mark.parametrize(
    "qs",
    [
        b"a=%C3&b=%A9&c=%41",  # an escape sequence cut by a field boundary
        b"a=%C3%A9%FF&b=1&c=%E2%82",
        b"x=\\x41%41&y=\\\\%41&z=%41",
        b"a=%41&b=%41&c=%41&d",  # a field without "=": the per-field loop
        b"a=%41&b=%41&c=%41=%41",  # a second "=" in a field: the same
        b"a=%zz&b=%41&c=%41",  # a malformed escape: the per-field loop
        b"a=%00&b=%41&c=%41",  # NUL encoded: the per-field loop
        b"a=\x00&b=%41&c=%41",  # NUL: the per-field loop
        b"&&a=%41&&b=%41%41",  # empty fields: the per-field loop
        b"a=%41&b=%41&c=%41&d=\xc3\xa9",  # not ASCII: the per-field loop
    ],
)
def test_decode_all_fields_edge_cases(qs: bytes) -> None:
    for errors in (urls.URL_QUOTE_ERRORS, "replace"):
        expected = _per_field(qs.decode("utf-8", errors), errors)
        assert urls.parse_qsl(qs, errors=errors) == expected
        assert urls.parse_qsl(qs, errors=errors, max_fields=100) == expected
    with pytest.raises(UnicodeDecodeError):
        urls.parse_qsl(b"a=%41&b=%FF&c=%41", errors="strict")
    with pytest.raises(ValueError, match="more than 2 fields"):
        urls.parse_qsl(b"a=%41&b=%41&c=%41", max_fields=2)
