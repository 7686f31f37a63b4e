from __future__ import annotations

import dataclasses
import hashlib
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import itsdangerous
import pytest
from itsdangerous import URLSafeTimedSerializer

from erlen.datastructures import Headers
from erlen.http import parse_cookie
from erlen.http import parse_date
from erlen.sansio.request import Request
from erlen.sansio.response import Response
from erlen.sessions import _lazy_sha1
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions import SecureCookieSessionInterface
from erlen.sessions import session_json_serializer
from erlen.sessions import SessionApp
from erlen.sessions import SessionInterface
from erlen.sessions import SessionMixin

# Flask 3.1's defaults for the keys the session interface reads.
DEFAULT_CONFIG: dict[str, t.Any] = {
    "SECRET_KEY_FALLBACKS": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
}


@dataclasses.dataclass
class App:
    """The documented SessionApp protocol as plain data."""

    secret_key: str | bytes | None = "test secret"
    config: dict[str, t.Any] = dataclasses.field(
        default_factory=lambda: dict(DEFAULT_CONFIG)
    )
    permanent_session_lifetime: timedelta = timedelta(days=31)


def make_request(cookie: str | None = None) -> Request:
    headers = Headers()
    if cookie is not None:
        headers.add("Cookie", cookie)
    return Request("GET", "http", ("localhost", 80), "", "/", b"", headers, "127.0.0.1")


def set_cookies(response: Response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def cookie_value(response: Response, name: str = "session") -> str:
    (header,) = set_cookies(response)
    pair = header.partition(";")[0]
    return parse_cookie(pair)[name]


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def iface() -> SecureCookieSessionInterface:
    return SecureCookieSessionInterface()


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Control itsdangerous's clock: set ``now[0]`` to move it."""
    now = [1_700_000_000]
    monkeypatch.setattr(
        itsdangerous.TimestampSigner, "get_timestamp", lambda self: now[0]
    )
    return now


def roundtrip_cookie(
    iface: SecureCookieSessionInterface, app: App, data: dict[str, t.Any]
) -> str:
    session = SecureCookieSession(data)
    session.modified = True
    response = Response()
    iface.save_session(app, session, response)
    return cookie_value(response)


# -- SessionApp ---------------------------------------------------------------


def test_plain_object_satisfies_protocol(app: App) -> None:
    typed: SessionApp = app
    assert typed.permanent_session_lifetime == timedelta(days=31)
    assert typed.config["SESSION_COOKIE_NAME"] == "session"


# -- SessionMixin -------------------------------------------------------------


class DictSession(dict[str, t.Any], SessionMixin):
    pass


def test_mixin_defaults() -> None:
    session = DictSession()
    assert session.new is False
    assert session.modified is True
    assert session.accessed is False
    assert session.permanent is False


def test_mixin_permanent_is_the_underscore_key() -> None:
    session = DictSession()
    session.permanent = 1  # type: ignore[assignment]
    assert session == {"_permanent": True}
    assert session.permanent is True
    session.permanent = False
    assert session == {"_permanent": False}
    assert session.permanent is False
    session["_permanent"] = "yes"
    assert session.permanent is True


# -- SecureCookieSession ------------------------------------------------------


def test_new_session_flags() -> None:
    session = SecureCookieSession({"a": 1})
    assert session == {"a": 1}
    assert isinstance(session, dict)
    assert session.modified is False
    assert session.accessed is False
    assert session.new is False
    assert SecureCookieSession() == {}
    assert repr(SecureCookieSession({"a": 1})) == "<SecureCookieSession {'a': 1}>"


def test_reads_change_no_flag() -> None:
    session = SecureCookieSession({"a": [1]})
    assert session["a"] == [1]
    assert session.get("b") is None
    assert "a" in session
    assert len(session) == 1
    assert list(session) == ["a"]
    assert session.permanent is False
    assert session.setdefault("a", [2]) == [1]
    assert session.pop("missing", None) is None
    # A nested change is invisible to the dict.
    session["a"].append(2)
    assert session.modified is False
    assert session.accessed is False


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.clear(),
        lambda s: s.pop("a"),
        lambda s: s.pop("a", None),
        lambda s: s.popitem(),
        lambda s: s.update(b=2),
        lambda s: s.setdefault("b", 2),
        lambda s: s.__ior__({"b": 2}),
        lambda s: setattr(s, "permanent", True),
    ],
    ids=[
        "setitem",
        "delitem",
        "clear",
        "pop",
        "pop-default",
        "popitem",
        "update",
        "setdefault-new",
        "ior",
        "permanent",
    ],
)
def test_changes_set_modified(mutate: t.Callable[[SecureCookieSession], t.Any]) -> None:
    session = SecureCookieSession({"a": 1})
    mutate(session)
    assert session.modified is True
    assert session.accessed is False


# -- NullSession --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("__setitem__", lambda s: s.__setitem__("a", 1)),
        ("__delitem__", lambda s: s.__delitem__("a")),
        ("__ior__", lambda s: s.__ior__({"a": 1})),
        ("clear", lambda s: s.clear()),
        ("pop", lambda s: s.pop("a", None)),
        ("popitem", lambda s: s.popitem()),
        ("update", lambda s: s.update(a=1)),
        ("setdefault", lambda s: s.setdefault("a", 1)),
        ("__setitem__", lambda s: setattr(s, "permanent", True)),
    ],
)
def test_null_session_refuses_changes(
    name: str, call: t.Callable[[NullSession], t.Any]
) -> None:
    session = NullSession()
    with pytest.raises(RuntimeError) as info:
        call(session)
    message = str(info.value)
    assert message.startswith(
        "The session is unavailable because no secret key was set."
    )
    assert f" {name} was called on the session" in message
    assert "'app.secret_key' (the SECRET_KEY config)" in message
    assert session == {}
    assert session.modified is False


def test_null_session_operator_ior_refused() -> None:
    session = NullSession()
    with pytest.raises(RuntimeError, match="no secret key was set"):
        session |= {"a": 1}
    assert session == {}


def test_null_session_reads() -> None:
    session = NullSession()
    assert session.get("a", 5) == 5
    assert "a" not in session
    assert len(session) == 0
    assert session.permanent is False
    with pytest.raises(KeyError):
        session["a"]
    assert NullSession.__setitem__.__qualname__ == "NullSession.__setitem__"


# -- SessionInterface ---------------------------------------------------------


def test_base_interface_abstract_methods(app: App) -> None:
    iface = SessionInterface()
    with pytest.raises(NotImplementedError):
        iface.open_session(app, make_request())
    with pytest.raises(NotImplementedError):
        iface.save_session(app, SecureCookieSession(), Response())


def test_null_session_helpers(app: App) -> None:
    iface = SessionInterface()
    assert iface.pickle_based is False
    null = iface.make_null_session(app)
    assert type(null) is NullSession
    assert iface.is_null_session(null)
    assert not iface.is_null_session(SecureCookieSession())
    assert not iface.is_null_session({})

    class OtherNull(NullSession):
        pass

    class Other(SessionInterface):
        null_session_class = OtherNull

    assert type(Other().make_null_session(app)) is OtherNull
    assert not Other().is_null_session(null)


def test_cookie_getters_defaults(app: App) -> None:
    iface = SessionInterface()
    assert iface.get_cookie_name(app) == "session"
    assert iface.get_cookie_domain(app) is None
    assert iface.get_cookie_path(app) == "/"
    assert iface.get_cookie_httponly(app) is True
    assert iface.get_cookie_secure(app) is False
    assert iface.get_cookie_samesite(app) is None
    assert iface.get_cookie_partitioned(app) is False


def test_cookie_getters_read_config(app: App) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    iface = SessionInterface()
    assert iface.get_cookie_name(app) == "sid"
    assert iface.get_cookie_domain(app) == "example.test"
    assert iface.get_cookie_path(app) == "/app"
    assert iface.get_cookie_httponly(app) is False
    assert iface.get_cookie_secure(app) is True
    assert iface.get_cookie_samesite(app) == "Lax"
    assert iface.get_cookie_partitioned(app) is True


def test_cookie_path_falls_back_to_application_root(app: App) -> None:
    app.config["APPLICATION_ROOT"] = "/mount"
    assert SessionInterface().get_cookie_path(app) == "/mount"
    app.config["SESSION_COOKIE_PATH"] = ""
    assert SessionInterface().get_cookie_path(app) == "/mount"
    app.config["SESSION_COOKIE_PATH"] = "/own"
    assert SessionInterface().get_cookie_path(app) == "/own"


def test_expiration_time(app: App) -> None:
    iface = SessionInterface()
    session = SecureCookieSession()
    assert iface.get_expiration_time(app, session) is None
    session.permanent = True
    app.permanent_session_lifetime = timedelta(hours=2)
    before = datetime.now(UTC)
    expires = iface.get_expiration_time(app, session)
    after = datetime.now(UTC)
    assert expires is not None
    assert expires.tzinfo is UTC
    assert before + timedelta(hours=2) <= expires <= after + timedelta(hours=2)


@pytest.mark.parametrize(
    ("modified", "permanent", "refresh", "expected"),
    [
        (True, False, False, True),
        (True, True, False, True),
        (False, False, True, False),
        (False, True, True, True),
        (False, True, False, False),
        (False, False, False, False),
    ],
)
def test_should_set_cookie(
    app: App, modified: bool, permanent: bool, refresh: bool, expected: bool
) -> None:
    app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
    session = SecureCookieSession({"_permanent": permanent})
    session.modified = modified
    assert SessionInterface().should_set_cookie(app, session) is expected


# -- SecureCookieSessionInterface: signing ------------------------------------


def test_interface_settings(iface: SecureCookieSessionInterface) -> None:
    assert iface.salt == "cookie-session"
    assert iface.key_derivation == "hmac"
    assert iface.serializer is session_json_serializer
    assert iface.session_class is SecureCookieSession
    assert iface.null_session_class is NullSession
    assert iface.pickle_based is False
    assert SecureCookieSessionInterface.digest_method is _lazy_sha1
    assert _lazy_sha1(b"abc").digest() == hashlib.sha1(b"abc").digest()
    assert _lazy_sha1().digest() == hashlib.sha1().digest()


@pytest.mark.parametrize("key", [None, "", b""])
def test_no_secret_key(
    key: str | bytes | None, iface: SecureCookieSessionInterface
) -> None:
    app = App(secret_key=key)
    assert iface.get_signing_serializer(app) is None
    assert iface.open_session(app, make_request("session=abc")) is None


def test_serializer_signs_with_current_key_and_checks_fallbacks(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    app.secret_key = "new"
    app.config["SECRET_KEY_FALLBACKS"] = ["oldest", b"old"]
    signer = iface.get_signing_serializer(app)
    assert signer is not None
    assert signer.secret_keys == [b"oldest", b"old", b"new"]
    token = signer.dumps({"a": 1})

    def only(key: str | bytes) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            key,
            salt="cookie-session",
            serializer=session_json_serializer,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    # Signed with the current key only.
    assert only("new").loads(token) == {"a": 1}
    with pytest.raises(itsdangerous.BadSignature):
        only("old").loads(token)
    # Verified with every fallback.
    assert signer.loads(only("old").dumps({"b": 2})) == {"b": 2}
    assert signer.loads(only(b"oldest").dumps({"c": 3})) == {"c": 3}
    with pytest.raises(itsdangerous.BadSignature):
        signer.loads(only("other").dumps({"d": 4}))


def test_serializer_is_reused_while_settings_hold(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    first = iface.get_signing_serializer(app)
    assert first is not None
    assert iface.get_signing_serializer(app) is first
    # The cache is per interface instance.
    assert SecureCookieSessionInterface().get_signing_serializer(app) is not first

    app.config["SECRET_KEY_FALLBACKS"] = ["old"]
    second = iface.get_signing_serializer(app)
    assert second is not first
    assert second is not None
    assert second.secret_keys == [b"old", b"test secret"]
    app.config["SECRET_KEY_FALLBACKS"].append("older")
    assert iface.get_signing_serializer(app) is not second

    iface.salt = "other-salt"
    third = iface.get_signing_serializer(app)
    assert third is not None
    assert third.salt == b"other-salt"

    app.secret_key = "rotated"
    fourth = iface.get_signing_serializer(app)
    assert fourth is not None
    assert fourth.secret_keys[-1] == b"rotated"


@pytest.mark.parametrize("fallbacks", ["old-key", b"old-key", 42])
def test_fallbacks_must_be_a_list(
    app: App, iface: SecureCookieSessionInterface, fallbacks: object
) -> None:
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks
    with pytest.raises(TypeError) as info:
        iface.get_signing_serializer(app)
    message = str(info.value)
    assert "SECRET_KEY_FALLBACKS must be a list of old secret keys" in message
    assert type(fallbacks).__name__ in message
    assert repr(fallbacks) in message
    assert "SECRET_KEY_FALLBACKS = [old_key]" in message


def test_keys_must_be_str_or_bytes(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    app.config["SECRET_KEY_FALLBACKS"] = [1234]
    with pytest.raises(TypeError, match="the SECRET_KEY_FALLBACKS item is a int"):
        iface.get_signing_serializer(app)
    app.config["SECRET_KEY_FALLBACKS"] = None
    app.secret_key = bytearray(b"key")  # type: ignore[assignment]
    with pytest.raises(TypeError, match="the SECRET_KEY is a bytearray"):
        iface.get_signing_serializer(app)


# -- SecureCookieSessionInterface: open_session -------------------------------


def test_open_without_cookie(app: App, iface: SecureCookieSessionInterface) -> None:
    for request in (make_request(), make_request("other=1"), make_request("session=")):
        session = iface.open_session(app, request)
        assert type(session) is SecureCookieSession
        assert session == {}
        assert session.modified is False


def test_open_roundtrip(app: App, iface: SecureCookieSessionInterface) -> None:
    data = {"user": 42, "tags": ("a", "b"), "blob": b"\x00\xff", "name": "Zoë"}
    cookie = roundtrip_cookie(iface, app, data)
    session = iface.open_session(app, make_request(f"a=b; session={cookie}"))
    assert session == data
    assert session is not None
    assert session.modified is False
    assert session.accessed is False


def test_open_uses_configured_cookie_name(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    app.config["SESSION_COOKIE_NAME"] = "sid"
    response = Response()
    session = SecureCookieSession({"a": 1})
    session.modified = True
    iface.save_session(app, session, response)
    cookie = cookie_value(response, "sid")
    assert iface.open_session(app, make_request(f"session={cookie}")) == {}
    assert iface.open_session(app, make_request(f"sid={cookie}")) == {"a": 1}


def test_open_custom_session_class(app: App) -> None:
    class MySession(SecureCookieSession):
        pass

    class MyInterface(SecureCookieSessionInterface):
        session_class = MySession

    iface = MyInterface()
    cookie = roundtrip_cookie(iface, app, {"a": 1})
    assert type(iface.open_session(app, make_request(f"session={cookie}"))) is MySession
    assert type(iface.open_session(app, make_request())) is MySession


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "a.b.c",
        "eyJhIjoxfQ.ZZZZZZ.badsignature",
        "....",
        "\u00e9\u00e9",
        "." * 50,
    ],
)
def test_open_bad_cookie_gives_empty_session(
    app: App, iface: SecureCookieSessionInterface, cookie: str
) -> None:
    session = iface.open_session(app, make_request(f"session={cookie}"))
    assert session == {}
    assert session is not None
    assert session.modified is False


def test_open_tampered_cookie(app: App, iface: SecureCookieSessionInterface) -> None:
    cookie = roundtrip_cookie(iface, app, {"admin": False})
    payload, _, rest = cookie.partition(".")
    forged = roundtrip_cookie(iface, App(secret_key="attacker"), {"admin": True})
    assert iface.open_session(app, make_request(f"session={forged}")) == {}
    swapped = forged.partition(".")[0] + "." + rest
    assert iface.open_session(app, make_request(f"session={swapped}")) == {}
    assert iface.open_session(app, make_request(f"session={cookie}")) == {
        "admin": False
    }


def test_open_signed_but_malformed_payload(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    signer = iface.get_signing_serializer(app)
    assert signer is not None
    # A valid signature over bytes that are not JSON.
    bad_json = signer.make_signer("cookie-session").sign(
        itsdangerous.base64_encode(b"{not json")
    )
    assert iface.open_session(app, make_request(f"session={bad_json.decode()}")) == {}
    # A malformed tagged value (a bytes tag that is not base64).
    bad_tag = signer.make_signer("cookie-session").sign(
        itsdangerous.base64_encode(b'{" b":"%%%"}')
    )
    assert iface.open_session(app, make_request(f"session={bad_tag.decode()}")) == {}


def test_open_expired_cookie(
    app: App, iface: SecureCookieSessionInterface, frozen_time: list[int]
) -> None:
    app.permanent_session_lifetime = timedelta(seconds=100)
    cookie = roundtrip_cookie(iface, app, {"a": 1})
    frozen_time[0] += 100
    assert iface.open_session(app, make_request(f"session={cookie}")) == {"a": 1}
    frozen_time[0] += 1
    assert iface.open_session(app, make_request(f"session={cookie}")) == {}


def test_open_with_fallback_key(app: App, iface: SecureCookieSessionInterface) -> None:
    old_cookie = roundtrip_cookie(iface, App(secret_key="old"), {"a": 1})
    request = make_request(f"session={old_cookie}")
    assert iface.open_session(app, request) == {}
    app.config["SECRET_KEY_FALLBACKS"] = ["old"]
    assert iface.open_session(app, make_request(f"session={old_cookie}")) == {"a": 1}


# -- SecureCookieSessionInterface: save_session -------------------------------


def test_save_untouched_session_writes_nothing(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    for data in ({}, {"a": 1}):
        response = Response()
        iface.save_session(app, SecureCookieSession(data), response)
        assert set_cookies(response) == []
        assert "Vary" not in response.headers


def test_save_accessed_session_adds_vary(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    for data in ({}, {"a": 1}):
        session = SecureCookieSession(data)
        session.accessed = True
        response = Response()
        response.vary.add("Accept-Encoding")
        iface.save_session(app, session, response)
        assert set_cookies(response) == []
        assert response.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]


def test_save_modified_session_sets_cookie(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    session = SecureCookieSession()
    session["a"] = 1
    session.accessed = True
    response = Response()
    iface.save_session(app, session, response)
    (header,) = set_cookies(response)
    assert header.startswith("session=")
    assert header.endswith("; HttpOnly; Path=/")
    assert "Expires" not in header
    # Vary is not repeated.
    assert response.headers.getlist("Vary") == ["Cookie"]
    assert iface.open_session(app, make_request(header.partition(";")[0])) == {"a": 1}


def test_save_cookie_attributes(app: App, iface: SecureCookieSessionInterface) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    session = SecureCookieSession({"a": 1})
    session.modified = True
    response = Response()
    iface.save_session(app, session, response)
    (header,) = set_cookies(response)
    name_value, *attributes = header.split("; ")
    assert name_value.startswith("sid=")
    assert attributes == [
        "Domain=example.test",
        "Secure",
        "Path=/app",
        "SameSite=Strict",
        "Partitioned",
    ]
    assert response.headers["Vary"] == "Cookie"


def test_save_permanent_session_sets_expires(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    app.permanent_session_lifetime = timedelta(days=2)
    session = SecureCookieSession({"a": 1})
    session.permanent = True
    response = Response()
    before = datetime.now(UTC).replace(microsecond=0)
    iface.save_session(app, session, response)
    (header,) = set_cookies(response)
    expires = dict(
        part.split("=", 1) for part in header.split("; ")[1:] if "=" in part
    )["Expires"]
    parsed = parse_date(expires)
    assert parsed is not None
    assert before + timedelta(days=2) <= parsed <= before + timedelta(days=2, seconds=2)
    assert "Max-Age" not in header


def test_save_refreshes_permanent_session(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    session = SecureCookieSession({"a": 1, "_permanent": True})
    response = Response()
    iface.save_session(app, session, response)
    assert len(set_cookies(response)) == 1
    assert response.headers["Vary"] == "Cookie"

    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    response = Response()
    iface.save_session(app, session, response)
    assert set_cookies(response) == []
    assert "Vary" not in response.headers


def test_save_emptied_session_deletes_cookie(
    app: App, iface: SecureCookieSessionInterface
) -> None:
    app.config.update(
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    session = SecureCookieSession({"a": 1})
    session.clear()
    response = Response()
    iface.save_session(app, session, response)
    assert set_cookies(response) == [
        "session=; Domain=example.test; Expires=Thu, 01 Jan 1970 00:00:00 GMT;"
        " Max-Age=0; Secure; HttpOnly; Path=/app; SameSite=Lax; Partitioned"
    ]
    assert response.headers["Vary"] == "Cookie"


def test_save_without_secret_key_is_a_clear_error(
    iface: SecureCookieSessionInterface,
) -> None:
    session = SecureCookieSession()
    session["a"] = 1
    with pytest.raises(RuntimeError, match="application has no secret key"):
        iface.save_session(App(secret_key=None), session, Response())


def test_save_honours_overridden_getters(app: App) -> None:
    class Custom(SecureCookieSessionInterface):
        def get_cookie_name(self, app: SessionApp) -> str:
            return "custom"

        def get_expiration_time(
            self, app: SessionApp, session: SessionMixin
        ) -> datetime | None:
            return datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

        def should_set_cookie(self, app: SessionApp, session: SessionMixin) -> bool:
            return True

    iface = Custom()
    response = Response()
    iface.save_session(app, SecureCookieSession({"a": 1}), response)
    (header,) = set_cookies(response)
    assert header.startswith("custom=")
    assert "; Expires=Wed, 02 Jan 2030 03:04:05 GMT;" in header
    assert iface.open_session(app, make_request(header.partition(";")[0])) == {"a": 1}


@pytest.mark.parametrize("payload", [[["a", 1]], 5, "text", None])
def test_open_signed_non_dict_payload(
    app: App, iface: SecureCookieSessionInterface, payload: object
) -> None:
    signer = iface.get_signing_serializer(app)
    assert signer is not None
    cookie = signer.dumps(payload)
    assert iface.open_session(app, make_request(f"session={cookie}")) == {}
