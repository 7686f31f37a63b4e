"""Tests for erlen._cookies, with differential checks against Werkzeug."""

from __future__ import annotations

import re
import typing as t
import warnings
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import dump_cookie as w_dump_cookie
from werkzeug.sansio.http import parse_cookie as w_parse_cookie

from erlen._cookies import dump_cookie
from erlen._cookies import parse_cookie_pairs


def w_pairs(header: str) -> list[tuple[str, str]]:
    """Return Werkzeug's parsed cookie pairs in header order."""
    # parse_cookie returns a MultiDict grouped by key; a list "cls" keeps the
    # order the pairs were found in.
    return t.cast(list[tuple[str, str]], w_parse_cookie(header, cls=list))  # type: ignore[arg-type]


COOKIE_HEADERS = [
    "",
    "a=1",
    "a=1; b=2; a=3",
    "a = 1 ;  b\t=\t2",
    "a",
    "a=",
    "=b",
    "a=1;;b=2",
    'a="quoted"',
    'a="with \\"escaped\\" quotes"',
    'a="\\303\\251"',
    'a="\\377"',
    'a="\\400"',
    'a="x\\\\y"',
    'a="unterminated',
    'a=in"side; b=2',
    "a=b c; d=e",
    "a=b,c; d=e",
    "a=1; bad cookie; c=3",
    "a=é; b=\xc3\xa9",
    '"a"=b',
    "a=1;",
    ";;;",
    "  ",
    'a=""',
    'a="\\\n"',
    "a=1\x00; b=2",
    "path=/; expires=Wed, 21 Oct 2015 07:28:00 GMT",
]


@pytest.mark.parametrize("header", COOKIE_HEADERS)
def test_parse_cookie_matches_werkzeug(header: str) -> None:
    assert parse_cookie_pairs(header) == w_pairs(header)
    assert parse_cookie_pairs(header.encode("latin-1")) == w_pairs(header)


cookie_text = st.text(alphabet=' =;"\\\tab12\x00é,\n0377', max_size=30)


@given(cookie_text)
def test_parse_cookie_generated(header: str) -> None:
    assert parse_cookie_pairs(header) == w_pairs(header)


def test_parse_cookie_none_and_byte_at_a_time() -> None:
    assert parse_cookie_pairs(None) == []
    assert parse_cookie_pairs(b"") == []
    raw = 'sid="a\\054b"; theme=dark ; x; =y; z=1'
    for i in range(len(raw) + 1):
        assert parse_cookie_pairs(raw[:i]) == w_pairs(raw[:i])


# -- dump_cookie ----------------------------------------------------------------

FIXED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

DUMP_CASES: list[dict[str, t.Any]] = [
    {"key": "a"},
    {"key": "a", "value": "b"},
    {"key": "a", "value": "b c"},
    {"key": "a", "value": 'q"u\\o'},
    {"key": "a", "value": "é€"},
    {"key": "a", "value": "x;y,z\r\n\x00\x1b\x7f"},
    {"key": "a", "value": "!#$%&'()*+-./:<=>?@[]^`{|}~_"},
    {"key": "é", "value": "v"},
    {"key": "a", "value": "abc123XYZ"},
    {"key": "a", "value": "é2"},
    {"key": "a", "value": "x²"},
    {"key": "a", "value": "abc 123"},
    {"key": "a", "path": None},
    {"key": "a", "path": "/pä th/%41"},
    {"key": "a", "path": ""},
    {"key": "a", "domain": "example.com"},
    {"key": "a", "domain": ".example.com:8080"},
    {"key": "a", "domain": "bücher.example"},
    {"key": "a", "domain": ""},
    {"key": "a", "max_age": 0, "sync_expires": False},
    {"key": "a", "max_age": timedelta(hours=1, seconds=0.7), "sync_expires": False},
    {"key": "a", "expires": FIXED},
    {"key": "a", "expires": 0},
    {"key": "a", "expires": 1893456000.5},
    {"key": "a", "expires": "Thu, 01 Jan 1970 00:00:00 GMT"},
    {"key": "a", "expires": "", "max_age": 5},
    {"key": "a", "secure": True, "httponly": True},
    {"key": "a", "samesite": "lax"},
    {"key": "a", "samesite": "STRICT"},
    {"key": "a", "samesite": "none", "secure": True},
    {"key": "a", "partitioned": True},
    {
        "key": "session",
        "value": "eyJ.x",
        "max_age": 3600,
        "expires": FIXED,
        "path": "/app",
        "domain": "example.org",
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
        "partitioned": True,
    },
]


@pytest.mark.parametrize("kwargs", DUMP_CASES)
def test_dump_cookie_matches_werkzeug(kwargs: dict[str, t.Any]) -> None:
    assert dump_cookie(**kwargs) == w_dump_cookie(**kwargs)


def strip_expires(header: str) -> tuple[str, datetime | None]:
    match = re.search(r"; Expires=([^;]*)", header)
    if match is None:
        return header, None
    when = datetime.strptime(match.group(1), "%a, %d %b %Y %H:%M:%S GMT")
    return header.replace(match.group(), ""), when


@pytest.mark.parametrize("max_age", [0, 60, timedelta(days=1), -1])
def test_dump_cookie_sync_expires(max_age: t.Any) -> None:
    ours, our_when = strip_expires(dump_cookie("a", "b", max_age=max_age))
    theirs, their_when = strip_expires(w_dump_cookie("a", "b", max_age=max_age))
    assert ours == theirs
    assert our_when is not None
    assert their_when is not None
    assert abs((our_when - their_when).total_seconds()) <= 2


cookie_values = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x3FF), max_size=12
)


@given(
    st.text(alphabet="abcXYZ_-.!#", min_size=1, max_size=6),
    cookie_values,
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.sampled_from(["Strict", "lax", "NONE"])),
    st.booleans(),
    st.booleans(),
)
def test_dump_cookie_generated_and_round_trip(
    key: str,
    value: str,
    max_age: int | None,
    samesite: str | None,
    secure: bool,
    partitioned: bool,
) -> None:
    kwargs: dict[str, t.Any] = {
        "max_age": max_age,
        "sync_expires": False,
        "samesite": samesite,
        "secure": secure,
        "partitioned": partitioned,
        "max_size": 0,
    }
    header = dump_cookie(key, value, **kwargs)
    assert header == w_dump_cookie(key, value, **kwargs)
    # The pair comes back first, with the value unescaped.
    assert parse_cookie_pairs(header)[0] == (key, value)
    assert parse_cookie_pairs(header) == w_pairs(header)


def test_dump_cookie_round_trips_awkward_values() -> None:
    for value in ['a"b', "a\\b", "é", "a;b", "a,b", "a b", "", "\x00\x7f\xff"]:
        header = dump_cookie("k", value)
        assert parse_cookie_pairs(header)[0] == ("k", value)


def test_dump_cookie_samesite_validation() -> None:
    with pytest.raises(ValueError, match="SameSite must be 'Strict', 'Lax' or 'None'"):
        dump_cookie("a", samesite="sometimes")
    with pytest.raises(ValueError, match="got ''"):
        dump_cookie("a", samesite="")


def test_dump_cookie_partitioned_implies_secure() -> None:
    assert dump_cookie("a", partitioned=True) == "a=; Secure; Path=/; Partitioned"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "a\r\nSet-Cookie: evil=1"},
        {"key": "a;b"},
        {"key": "a\x00"},
        {"key": "a\n"},
        {"key": "a", "path": "/\r\nX: y"},
        {"key": "a", "path": "/a;Domain=evil.com"},
        {"key": "a", "path": "/\x00"},
        {"key": "a", "domain": "example.com\r\nX: y"},
        {"key": "a", "domain": "example.com; Secure"},
        {"key": "a", "domain": "a\x00"},
        {"key": "a", "expires": "Thu, 01 Jan 1970\r\nX: y"},
        {"key": "a", "expires": "never; Domain=evil"},
        {"key": "a", "max_age": "1\r\nX: y", "sync_expires": False},
    ],
)
def test_dump_cookie_rejects_injection(kwargs: dict[str, t.Any]) -> None:
    with pytest.raises(ValueError, match="inject"):
        dump_cookie(**kwargs)


def test_dump_cookie_escapes_injection_in_value() -> None:
    header = dump_cookie("a", "x\r\nSet-Cookie: evil=1; y")
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('a="x\\015\\012Set-Cookie: evil=1\\073 y"')


@pytest.mark.parametrize(("key", "value"), [(b"a", "b"), ("a", b"b"), ("a", None)])
def test_dump_cookie_requires_str(key: t.Any, value: t.Any) -> None:
    with pytest.raises(TypeError, match="must be str"):
        dump_cookie(key, value)


def test_dump_cookie_size_warning() -> None:
    with pytest.warns(UserWarning, match="'big' cookie is 4100 bytes long"):
        header = dump_cookie("big", "x" * 4096, path=None)
    assert len(header) == 4100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dump_cookie("big", "x" * 4096, max_size=0)
        dump_cookie("small", "x" * 10, max_size=24)
    with pytest.warns(UserWarning, match="over the limit of 5 bytes"):
        dump_cookie("a", "123456", max_size=5)


@pytest.mark.parametrize(
    "header",
    [
        "a=1",
        "a=1; b=2",
        "a=1;b",
        ";a=1;",
        "=x; a=1",
        "a=b=c",
        "a = 1; b=2",
        "a=1; b c=2",
    ],
)
def test_parse_cookie_fast_path_matches_werkzeug(header: str) -> None:
    assert parse_cookie_pairs(header) == w_pairs(header)


def test_dump_cookie_caches_checked_names_and_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from erlen import _cookies

    monkeypatch.setattr(_cookies, "_CHECKED_NAMES_MAX", 1)
    monkeypatch.setattr(_cookies, "_QUOTED_PATHS_MAX", 1)
    _cookies._checked_names.clear()
    _cookies._quoted_paths.clear()
    for i in range(3):
        assert dump_cookie(f"k{i}", "v", path=f"/p {i}") == w_dump_cookie(
            f"k{i}", "v", path=f"/p {i}"
        )
    assert len(_cookies._checked_names) == 1
    assert len(_cookies._quoted_paths) == 1
    with pytest.raises(ValueError, match="inject"):
        dump_cookie("k\r", "v")
