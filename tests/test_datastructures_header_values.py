"""Unit tests for the header-value datastructures (Accept, cache control, ETags...)."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime
from datetime import UTC

import pytest

from erlen.datastructures import Accept
from erlen.datastructures import Authorization
from erlen.datastructures import CharsetAccept
from erlen.datastructures import ContentRange
from erlen.datastructures import ContentSecurityPolicy
from erlen.datastructures import ETags
from erlen.datastructures import HeaderSet
from erlen.datastructures import IfRange
from erlen.datastructures import LanguageAccept
from erlen.datastructures import MIMEAccept
from erlen.datastructures import Range
from erlen.datastructures import RequestCacheControl
from erlen.datastructures import ResponseCacheControl
from erlen.datastructures import WWWAuthenticate
from erlen.datastructures._cache_control import cache_control_property

# --------------------------------------------------------------------------
# Accept


def test_accept_sorts_by_specificity_then_quality() -> None:
    accept = Accept([("*", 1), ("gzip", 0.5), ("br", 0.9), ("deflate", 0.9)])
    assert list(accept) == [("br", 0.9), ("deflate", 0.9), ("gzip", 0.5), ("*", 1)]
    assert accept.provided is True
    assert accept.best == "br"


def test_accept_lookups() -> None:
    accept = Accept([("gzip", 1), ("br", 0.5)])
    assert accept["GZIP"] == 1
    assert accept["zstd"] == 0
    assert accept[1] == ("br", 0.5)
    assert accept[:1] == [("gzip", 1)]
    assert "Br" in accept
    assert "zstd" not in accept
    assert ("br", 0.5) in accept
    assert 42 not in accept
    assert accept.index("br") == 1
    assert accept.index(("br", 0.5)) == 1
    assert accept.find("zstd") == -1
    assert accept.find(("nope", 1)) == -1
    with pytest.raises(ValueError, match="'zstd' is not accepted"):
        accept.index("zstd")
    assert list(accept.values()) == ["gzip", "br"]
    assert accept.to_header() == "gzip,br;q=0.5"
    assert str(accept) == accept.to_header()
    assert repr(accept) == "Accept([('gzip', 1), ('br', 0.5)])"


def test_accept_wildcard_and_zero_quality() -> None:
    accept = Accept([("gzip", 0), ("*", 0.3)])
    assert accept.best_match(["gzip"]) is None
    assert accept.best_match(["gzip", "br"]) == "br"
    assert accept.best_match([], default="identity") == "identity"


def test_accept_empty_and_copy() -> None:
    missing = Accept(None)
    assert missing.provided is False
    assert missing.best is None
    assert not missing
    clone = Accept(missing)
    assert clone.provided is False
    assert Accept(Accept([("a", 1)])).provided is True


def test_accept_is_immutable_and_picklable() -> None:
    accept = MIMEAccept([("text/html", 1)])
    with pytest.raises(TypeError, match="immutable"):
        accept.append(("x/y", 1))  # type: ignore[arg-type]
    restored = pickle.loads(pickle.dumps(accept))
    assert type(restored) is MIMEAccept
    assert list(restored) == list(accept)
    assert hash(accept) == hash(MIMEAccept([("text/html", 1)]))


def test_mime_accept_matching() -> None:
    accept = MIMEAccept(
        [("text/html", 1), ("text/*", 0.5), ("application/json;v=2", 0.8), ("*/*", 0.1)]
    )
    assert accept["text/html"] == 1
    assert accept["text/plain"] == 0.5
    assert accept["application/json; v=2"] == 0.8
    assert accept["application/json"] == 0.1
    assert accept["image/png"] == 0.1
    long_type = "application/" + "x" * 200
    assert MIMEAccept([(long_type, 0.3)])[long_type.upper()] == 0.3
    assert accept.best_match(["image/png", "text/plain"]) == "text/plain"
    assert accept.best_match(["text/*"]) == "text/*"
    assert accept.accept_html
    assert accept.accept_json
    assert accept.accept_xhtml
    # Parameters make an item more specific, so it sorts first.
    assert list(accept)[:2] == [("application/json;v=2", 0.8), ("text/html", 1)]


def test_mime_accept_invalid_values() -> None:
    accept = MIMEAccept([("text/html", 1)])
    with pytest.raises(ValueError, match="Invalid mimetype 'html'"):
        accept.quality("html")
    with pytest.raises(ValueError, match=r"Invalid mimetype '\*/html'"):
        accept.quality("*/html")
    # A garbage client item never matches, and does not raise.
    assert MIMEAccept([("garbage", 1), ("*/html", 1)]).quality("text/html") == 0
    assert MIMEAccept([("garbage", 1)]).quality("html") == 0
    assert not MIMEAccept([("text/plain", 1)]).accept_html
    star = MIMEAccept([("*/*", 1)])
    assert star.quality("*/*") == 1
    assert MIMEAccept([("text/html", 1)]).quality("*/*") == 1


def test_language_accept() -> None:
    accept = LanguageAccept([("en-US", 1), ("de", 0.7)])
    assert accept["en_us"] == 1
    assert accept.best_match(["en-US", "de"]) == "en-US"
    # Client en-US accepts the server's plain "en".
    assert accept.best_match(["fr", "en"]) == "en"
    # Client de accepts the server's "de-AT".
    assert accept.best_match(["fr", "de-AT"]) == "de-AT"
    assert accept.best_match(["fr"], default="xx") == "xx"
    assert accept.best_match(iter(["de-CH"])) == "de-CH"


def test_charset_accept() -> None:
    accept = CharsetAccept([("UTF8", 1), ("latin-1", 0.5), ("x-unknown", 0.2)])
    assert accept["utf-8"] == 1
    assert accept["ISO-8859-1"] == 0.5
    assert accept["X-UNKNOWN"] == 0.2
    assert accept["nul\x00"] == 0
    assert accept["x" * 100] == 0
    assert CharsetAccept([("X" * 100, 1)])["x" * 100] == 1
    assert accept.best_match(["ascii", "iso-8859-1"]) == "iso-8859-1"


# --------------------------------------------------------------------------
# Cache-Control


def test_request_cache_control_properties() -> None:
    cc = RequestCacheControl(
        [("no-cache", None), ("max-age", "60"), ("max-stale", None), ("min-fresh", "x")]
    )
    assert cc.no_cache is True
    assert cc.max_age == 60
    assert cc.max_stale is True
    assert cc.min_fresh is None
    assert cc.only_if_cached is False
    assert cc.no_store is False
    assert cc.provided is True
    assert RequestCacheControl(None).provided is False
    assert cc.to_header() == "no-cache, max-age=60, max-stale, min-fresh=x"
    assert str(cc) == cc.to_header()
    assert repr(cc) == (
        "<RequestCacheControl max-age='60' max-stale=None min-fresh='x' no-cache=None>"
    )
    assert hash(cc) == hash(RequestCacheControl(dict(cc)))


@pytest.mark.parametrize(
    "change",
    [
        lambda cc: cc.__setitem__("a", "b"),
        lambda cc: cc.__delitem__("max-age"),
        lambda cc: cc.setdefault("a"),
        lambda cc: cc.pop("max-age"),
        lambda cc: cc.popitem(),
        lambda cc: cc.update({"a": "b"}),
        lambda cc: cc.__ior__({"a": "b"}),
        lambda cc: cc.clear(),
        lambda cc: setattr(cc, "max_age", 5),
    ],
)
def test_request_cache_control_is_immutable(change: object) -> None:
    cc = RequestCacheControl([("max-age", "60")])
    with pytest.raises(TypeError, match="immutable"):
        change(cc)  # type: ignore[operator]
    assert dict(cc) == {"max-age": "60"}


def test_response_cache_control_setters_call_on_update() -> None:
    calls: list[str] = []
    cc = ResponseCacheControl(on_update=lambda obj: calls.append(obj.to_header()))
    cc.max_age = 300
    cc.public = True
    cc.no_cache = True
    cc.private = "set-cookie"
    cc.s_maxage = "10"
    cc.immutable = True
    assert cc.to_header() == (
        "max-age=300, public, no-cache, private=set-cookie, s-maxage=10, immutable"
    )
    assert cc.no_cache is True
    assert cc.private == "set-cookie"
    cc.public = False
    cc.max_age = None
    del cc.immutable
    del cc.immutable
    assert "public" not in cc
    assert "max-age" not in cc
    assert "immutable" not in cc
    assert calls[-1] == "no-cache, private=set-cookie, s-maxage=10"
    with pytest.raises(ValueError, match="invalid literal"):
        cc.max_age = "soon"


def test_cache_control_property_for_extensions() -> None:
    class Custom(ResponseCacheControl):
        flag = cache_control_property("x-flag", None, bool)
        level = cache_control_property("x-level", "1", int, doc="The level.")
        raw = ResponseCacheControl.cache_property("x-raw", "", None)

    assert "present" in Custom.flag.__doc__
    assert Custom.level.__doc__ == "The level."
    assert "``str``" in Custom.raw.__doc__
    custom = Custom([("x-level", None), ("x-raw", None)])
    # The "empty" value is returned as given, without conversion (as Werkzeug).
    assert custom.level == "1"
    assert custom.raw == ""
    assert custom.flag is False
    custom.flag = True
    assert custom.to_header() == "x-level, x-raw, x-flag"


# --------------------------------------------------------------------------
# ETags and IfRange


def test_etags() -> None:
    etags = ETags(["a", "b"], ["w"])
    assert "a" in etags
    assert "w" not in etags
    assert 1 not in etags
    assert etags.contains_weak("w")
    assert etags.is_weak("w")
    assert etags.is_strong("a")
    assert etags.contains_raw('"a"')
    assert etags.contains_raw('W/"w"')
    assert not etags.contains_raw('"w"')
    assert not etags.contains_raw("")
    assert etags.as_set() == {"a", "b"}
    assert etags.as_set(include_weak=True) == {"a", "b", "w"}
    assert len(etags) == 2
    assert sorted(etags) == ["a", "b"]
    assert bool(etags)
    assert not ETags()
    assert sorted(etags.to_header().split(", ")) == ['"a"', '"b"', 'W/"w"']
    assert str(ETags(["x"])) == '"x"'
    assert repr(ETags(["x"])) == "<ETags '\"x\"'>"
    assert ETags(["x"]) == ETags(["x"])
    assert ETags(["x"]) != ETags(weak_etags=["x"])
    assert ETags(["x"]).__eq__("x") is NotImplemented
    assert hash(ETags(["x"])) == hash(ETags(["x"]))


def test_etags_star_and_call() -> None:
    star = ETags(["ignored"], star_tag=True)
    assert star.contains("anything")
    assert star.contains_raw("")
    assert star.to_header() == "*"
    assert star.as_set() == set()
    etags = ETags(["aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"], ["weak"])
    assert etags(data=b"hello")
    assert etags("weak", include_weak=True)
    assert not etags("weak")
    with pytest.raises(TypeError, match="needs an 'etag' or the 'data'"):
        etags()


def test_if_range() -> None:
    assert IfRange().to_header() == ""
    assert IfRange("abc").to_header() == '"abc"'
    when = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert str(IfRange(date=when)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert repr(IfRange("abc")) == "<IfRange '\"abc\"'>"


# --------------------------------------------------------------------------
# Range and ContentRange


def test_range_helpers() -> None:
    rng = Range("bytes", [(0, 500)])
    assert rng.range_for_length(1000) == (0, 500)
    assert rng.range_for_length(100) == (0, 100)
    assert rng.range_for_length(None) is None
    assert rng.to_content_range_header(1000) == "bytes 0-499/1000"
    content_range = rng.make_content_range(1000)
    assert content_range is not None
    assert content_range.to_header() == "bytes 0-499/1000"
    suffix = Range("bytes", [(-200, None)])
    assert suffix.range_for_length(1000) == (800, 1000)
    assert suffix.range_for_length(100) is None
    assert suffix.make_content_range(100) is None
    assert suffix.to_content_range_header(100) is None
    assert Range("bytes", [(10, None)]).range_for_length(50) == (10, 50)
    assert Range("items", [(0, 1)]).range_for_length(10) is None
    assert Range("bytes", [(0, 1), (5, 6)]).range_for_length(10) is None
    assert str(Range("bytes", [(0, 1), (5, None), (-3, None)])) == "bytes=0-0,5-,-3"
    assert repr(Range("bytes", [(0, 1)])) == "<Range 'bytes=0-0'>"


@pytest.mark.parametrize("bad", [(5, 5), (5, 1), (-1, 5), (None, None)])
def test_range_rejects_invalid(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="Invalid range"):
        Range("bytes", [bad])


def test_content_range() -> None:
    seen: list[str] = []
    cr = ContentRange("bytes", 0, 10, 100, on_update=lambda obj: seen.append(str(obj)))
    assert cr.to_header() == "bytes 0-9/100"
    assert bool(cr)
    cr.start = 5
    cr.stop = 20
    cr.length = None
    cr.units = "items"
    assert (cr.units, cr.start, cr.stop, cr.length) == ("items", 5, 20, None)
    assert seen == [
        "bytes 0-9/100",
        "bytes 5-9/100",
        "bytes 5-19/100",
        "bytes 5-19/*",
        "items 5-19/*",
    ]
    cr.set(None, None, 50)
    assert cr.to_header() == "bytes */50"
    cr.unset()
    assert cr.to_header() == ""
    assert not cr
    assert cr.units is None
    assert repr(ContentRange("bytes", None, None)) == "<ContentRange 'bytes */*'>"
    with pytest.raises(ValueError, match="Invalid content range start=5, stop=2"):
        ContentRange("bytes", 5, 2, 10)
    no_callback = ContentRange("bytes", 0, 1)
    no_callback.start = 0
    assert no_callback.to_header() == "bytes 0-0/*"


# --------------------------------------------------------------------------
# Authorization and WWW-Authenticate


def test_authorization_basic_round_trip() -> None:
    auth = Authorization("basic", {"username": "aladdin", "password": "open sesame"})
    header = auth.to_header()
    assert header == "Basic YWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    parsed = Authorization.from_header(header)
    assert parsed == auth
    assert parsed is not None
    assert parsed.username == "aladdin"
    assert parsed["password"] == "open sesame"
    assert parsed.get("missing", "d") == "d"
    assert "username" in parsed
    assert str(parsed) == header
    assert repr(parsed) == f"<Authorization {header}>"
    assert auth.__eq__("x") is NotImplemented
    assert Authorization.from_header("Basic %%%") is None
    assert Authorization.from_header("Basic /w==") is None
    assert Authorization.from_header(None) is None


def test_authorization_token_and_parameters() -> None:
    bearer = Authorization.from_header("Bearer abc.def")
    assert bearer is not None
    assert (bearer.type, bearer.token, bearer.parameters) == ("bearer", "abc.def", {})
    assert bearer.to_header() == "Bearer abc.def"
    assert bearer.nothing is None
    digest = Authorization.from_header('Digest username="a b", nc=1')
    assert digest is not None
    assert digest.parameters == {"username": "a b", "nc": "1"}
    assert digest.to_header() == 'Digest username="a b", nc=1'
    copied = copy.copy(digest)
    assert copied == digest
    with pytest.raises(AttributeError):
        digest.__deepcopy_hook__  # noqa: B018


def test_www_authenticate() -> None:
    seen: list[str] = []
    auth = WWWAuthenticate("Basic", {"realm": "admin area"})
    auth._on_update = lambda obj: seen.append(obj.to_header())
    assert auth.type == "basic"
    assert auth.realm == "admin area"
    assert auth["realm"] == "admin area"
    assert auth.to_header() == 'Basic realm="admin area"'
    auth.realm = "x"
    auth["charset"] = "UTF-8"
    auth.charset = None
    auth["missing"] = None
    del auth.realm
    del auth["realm"]
    assert seen == [
        "Basic realm=x",
        "Basic realm=x, charset=UTF-8",
        "Basic realm=x",
        "Basic",
    ]
    auth.parameters = {"realm": "new"}
    auth.type = "bearer"
    auth.token = "tok"
    assert seen[-3:] == ["Basic realm=new", "Bearer realm=new", "Bearer tok"]
    assert auth.get("realm") == "new"
    assert "realm" in auth
    assert auth.parameters == {"realm": "new"}
    assert str(auth) == "Bearer tok"
    assert repr(auth) == "<WWWAuthenticate Bearer tok>"
    assert auth == WWWAuthenticate("bearer", {"realm": "new"}, "tok")
    assert auth.__eq__(1) is NotImplemented
    with pytest.raises(AttributeError):
        auth.__wrapped__  # noqa: B018
    assert WWWAuthenticate("Negotiate").to_header() == "Negotiate"
    quiet = WWWAuthenticate("basic")
    quiet.realm = "no callback"
    assert quiet.to_header() == 'Basic realm="no callback"'


def test_www_authenticate_digest_quotes_fixed_keys() -> None:
    auth = WWWAuthenticate("digest", {"realm": "r", "nonce": "n", "algorithm": "MD5"})
    assert auth.to_header() == 'Digest realm="r", nonce="n", algorithm=MD5'
    assert WWWAuthenticate.from_header(None) is None
    parsed = WWWAuthenticate.from_header("Bearer abc==")
    assert parsed is not None
    assert parsed.token == "abc=="


# --------------------------------------------------------------------------
# HeaderSet and ContentSecurityPolicy


def test_header_set() -> None:
    seen: list[str] = []
    hs = HeaderSet(
        ["Accept", "cookie", "ACCEPT"], on_update=lambda s: seen.append(str(s))
    )
    assert list(hs) == ["Accept", "cookie"]
    assert len(hs) == 2
    assert "accept" in hs
    assert 1 not in hs
    hs.add("Origin")
    hs.add("origin")
    hs.update(["X-A", "x-a"])
    assert hs.to_header() == "Accept, cookie, Origin, X-A"
    assert hs.find("ORIGIN") == 2
    assert hs.index("cookie") == 1
    assert hs.find("zz") == -1
    with pytest.raises(IndexError, match="'zz' is not in HeaderSet"):
        hs.index("zz")
    hs.remove("COOKIE")
    hs.discard("missing")
    hs.discard("x-a")
    with pytest.raises(KeyError):
        hs.remove("missing")
    assert list(hs) == ["Accept", "Origin"]
    assert hs.as_set() == {"accept", "origin"}
    assert hs.as_set(preserve_casing=True) == {"Accept", "Origin"}
    assert hs[0] == "Accept"
    hs[0] = "Vary Me"
    assert hs.to_header() == '"Vary Me", Origin'
    hs[0] = "VARY ME"
    with pytest.raises(ValueError, match="already in"):
        hs[0] = "origin"
    del hs[0]
    assert repr(hs) == "HeaderSet(['Origin'])"
    assert bool(hs)
    hs.clear()
    assert not hs
    assert len(hs) == 0
    assert seen[-1] == ""
    assert seen[0] == "Accept, cookie, Origin"


def test_header_set_without_callback_and_set_ops() -> None:
    hs = HeaderSet()
    hs.add("a")
    hs.remove("a")
    hs.update([])
    assert hs.to_header() == ""
    assert HeaderSet(["a", "b"]) <= HeaderSet(["A", "B", "c"])


def test_content_security_policy() -> None:
    seen: list[str] = []
    csp = ContentSecurityPolicy(on_update=lambda p: seen.append(p.to_header()))
    csp.default_src = "'self'"
    csp.script_src = "'self' cdn.example"
    csp.upgrade_insecure_requests = ""
    assert csp.to_header() == (
        "default-src 'self'; script-src 'self' cdn.example; upgrade-insecure-requests "
    )
    assert csp.default_src == "'self'"
    assert csp.img_src is None
    csp.script_src = None
    del csp.default_src
    del csp.default_src
    assert dict(csp) == {"upgrade-insecure-requests": ""}
    assert seen[0] == "default-src 'self'"
    assert str(csp) == csp.to_header()
    assert repr(ContentSecurityPolicy([("b", "1"), ("a", "2")])) == (
        "<ContentSecurityPolicy a='2' b='1'>"
    )
    assert ContentSecurityPolicy(None).provided is False
    assert ContentSecurityPolicy().provided is True
