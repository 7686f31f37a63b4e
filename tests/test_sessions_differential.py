"""Cross-compatibility of erlen's session cookies with Flask 3.1.3's."""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t
import uuid
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import flask
import flask.sessions as flask_sessions
import itsdangerous
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from erlen.datastructures import Headers
from erlen.http import parse_date
from erlen.sansio.request import Request
from erlen.sansio.response import Response
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions import SecureCookieSessionInterface

SESSION_KEYS = (
    "SECRET_KEY_FALLBACKS",
    "APPLICATION_ROOT",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_PARTITIONED",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_REFRESH_EACH_REQUEST",
)
FROZEN_TIMESTAMP = 1_700_000_000


@contextlib.contextmanager
def frozen_itsdangerous_clock() -> t.Iterator[None]:
    # Both frameworks sign through the same itsdangerous, so one clock makes
    # their cookies comparable byte for byte.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            itsdangerous.TimestampSigner,
            "get_timestamp",
            lambda self: FROZEN_TIMESTAMP,
        )
        yield


@pytest.fixture(autouse=True)
def _frozen_clock() -> t.Iterator[None]:
    with frozen_itsdangerous_clock():
        yield


@dataclasses.dataclass
class ErlenApp:
    """The SessionApp protocol, filled from a real Flask app's configuration."""

    secret_key: str | bytes | None
    config: dict[str, t.Any]
    permanent_session_lifetime: timedelta


class Pair:
    """A Flask app and the equivalent erlen SessionApp, configured alike."""

    def __init__(self, secret_key: str | bytes | None = "dev key", **config: t.Any):
        self.flask = flask.Flask(__name__)
        self.flask.config.update(SECRET_KEY=secret_key, **config)
        self.erlen = ErlenApp(
            secret_key=self.flask.secret_key,
            config={key: self.flask.config[key] for key in SESSION_KEYS},
            permanent_session_lifetime=self.flask.permanent_session_lifetime,
        )
        self.erlen_iface = SecureCookieSessionInterface()

    # -- Flask side --

    def flask_open(self, cookie: str | None) -> t.Any:
        headers = {"Cookie": cookie} if cookie is not None else {}
        with self.flask.test_request_context(headers=headers):
            return self.flask.session_interface.open_session(self.flask, flask.request)

    def flask_save(self, session: t.Any) -> flask.Response:
        response = self.flask.response_class()
        with self.flask.app_context():
            self.flask.session_interface.save_session(self.flask, session, response)
        return response

    # -- erlen side --

    def erlen_open(self, cookie: str | None) -> t.Any:
        headers = Headers()
        if cookie is not None:
            headers.add("Cookie", cookie)
        request = Request("GET", "http", ("localhost", 80), "", "/", b"", headers, None)
        return self.erlen_iface.open_session(self.erlen, request)

    def erlen_save(self, session: t.Any) -> Response:
        response = Response()
        self.erlen_iface.save_session(self.erlen, session, response)
        return response


def cookie_pair(set_cookie: str) -> str:
    """Return the ``name=value`` part of a Set-Cookie header."""
    return set_cookie.partition(";")[0]


def split_expires(set_cookie: str) -> tuple[str, datetime | None]:
    """Return the header without its Expires attribute, and that date."""
    parts = set_cookie.split("; ")
    expires = None
    kept = []
    for part in parts:
        if part.startswith("Expires="):
            expires = parse_date(part[len("Expires=") :])
        else:
            kept.append(part)
    return "; ".join(kept), expires


def headers_of(response: t.Any) -> tuple[list[str], list[str]]:
    return response.headers.getlist("Set-Cookie"), response.headers.getlist("Vary")


def modified(cls: type[t.Any], data: dict[str, t.Any]) -> t.Any:
    session = cls(data)
    session.modified = True
    return session


# -- strategies -----------------------------------------------------------------

TAG_KEYS = [" t", " b", " m", " u", " d", " di", " l", " t__"]
keys = st.text(max_size=8) | st.sampled_from(TAG_KEYS)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.uuids()
    | st.builds(Markup, st.text(max_size=20))
    | st.datetimes(
        min_value=datetime(1000, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=st.just(UTC),
    ).map(lambda d: d.replace(microsecond=0))
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)
session_data = st.dictionaries(keys, values, max_size=6)


# -- the cookie itself --------------------------------------------------------


@pytest.fixture(scope="module")
def pair() -> Pair:
    return Pair()


def check_same_cookie(pair: Pair, data: dict[str, t.Any]) -> None:
    flask_cookies, flask_vary = headers_of(
        pair.flask_save(modified(flask_sessions.SecureCookieSession, data))
    )
    erlen_cookies, erlen_vary = headers_of(
        pair.erlen_save(modified(SecureCookieSession, data))
    )
    assert erlen_cookies == flask_cookies
    assert erlen_vary == flask_vary == ["Cookie"]

    cookie = cookie_pair(erlen_cookies[0])
    from_erlen = pair.erlen_open(cookie)
    from_flask = pair.flask_open(cookie)
    assert type(from_erlen) is SecureCookieSession
    assert dict(from_erlen) == dict(from_flask)
    assert from_erlen.modified is from_flask.modified is False


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"a": 1},
        {"user_id": 42, "name": "Zoë", "cart": [1, 2, 3]},
        {"t": (1, (2, "x")), "b": b"\x00\xff", "m": Markup("<b>hi</b>")},
        {"u": uuid.UUID("12345678-1234-5678-1234-567812345678")},
        {"d": datetime(2024, 2, 29, 12, 30, 45, tzinfo=UTC)},
        {"d": datetime(2024, 2, 29, 12, 30, 45, 123456, tzinfo=UTC)},
        {"esc": {" t": [1, 2]}, "esc2": {" di": "x"}},
        {"_permanent": False, "_flashes": [("message", "saved")]},
        {"float": 1.5, "big": 2**70, "neg": -1, "none": None, "t": True},
        {"ünïcode": "\u2603", "ctl": "\x00\n\t"},
        {"x" * 200: "y" * 1000},
    ],
)
def test_same_cookie_both_ways(pair: Pair, data: dict[str, t.Any]) -> None:
    check_same_cookie(pair, data)


@given(data=session_data)
def test_same_cookie_both_ways_generated(data: dict[str, t.Any]) -> None:
    with frozen_itsdangerous_clock():
        check_same_cookie(Pair(), data)


COOKIE_TEXT = st.characters(
    min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=";\x7f"
)


@given(
    cookie=st.text(COOKIE_TEXT, max_size=60)
    | st.from_regex(r"[A-Za-z0-9_.\-]{0,80}", fullmatch=True)
)
def test_garbage_cookie_opens_empty_in_both(cookie: str) -> None:
    pair = Pair()
    header = "session=" + cookie
    from_erlen = pair.erlen_open(header)
    from_flask = pair.flask_open(header)
    assert from_erlen == from_flask == {}


def test_flask_cookie_opens_in_erlen(pair: Pair) -> None:
    data = {"a": (1, 2), "when": datetime(2020, 1, 1, tzinfo=UTC), "b": b"x"}
    response = pair.flask_save(modified(flask_sessions.SecureCookieSession, data))
    cookie = cookie_pair(response.headers["Set-Cookie"])
    assert dict(pair.erlen_open(cookie)) == data


def test_erlen_cookie_opens_in_flask(pair: Pair) -> None:
    data = {"a": (1, 2), "when": datetime(2020, 1, 1, tzinfo=UTC), "b": b"x"}
    response = pair.erlen_save(modified(SecureCookieSession, data))
    cookie = cookie_pair(response.headers["Set-Cookie"])
    assert dict(pair.flask_open(cookie)) == data


def test_expiry_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    pair = Pair(PERMANENT_SESSION_LIFETIME=60)
    cookie = cookie_pair(
        pair.erlen_save(modified(SecureCookieSession, {"a": 1})).headers["Set-Cookie"]
    )
    for offset, expected in ((60, {"a": 1}), (61, {})):
        monkeypatch.setattr(
            itsdangerous.TimestampSigner,
            "get_timestamp",
            lambda self, offset=offset: FROZEN_TIMESTAMP + offset,
        )
        assert pair.erlen_open(cookie) == pair.flask_open(cookie) == expected


# -- key rotation ---------------------------------------------------------------


def test_fallback_keys_both_ways() -> None:
    old = Pair(secret_key="old key")
    new = Pair(secret_key="new key", SECRET_KEY_FALLBACKS=["older key", "old key"])
    only_new = Pair(secret_key="new key")
    data = {"user": 7}

    old_flask = cookie_pair(
        old.flask_save(modified(flask_sessions.SecureCookieSession, data)).headers[
            "Set-Cookie"
        ]
    )
    old_erlen = cookie_pair(
        old.erlen_save(modified(SecureCookieSession, data)).headers["Set-Cookie"]
    )
    assert old_flask == old_erlen
    # A cookie signed with a fallback key still opens, in both.
    assert new.erlen_open(old_flask) == new.flask_open(old_erlen) == data
    # Without the fallback, neither accepts it.
    assert only_new.erlen_open(old_flask) == only_new.flask_open(old_erlen) == {}

    # New cookies are signed with the current key (GHSA-4grg-w6v8-c28g).
    new_flask = new.flask_save(modified(flask_sessions.SecureCookieSession, data))
    new_erlen = new.erlen_save(modified(SecureCookieSession, data))
    assert headers_of(new_erlen) == headers_of(new_flask)
    cookie = cookie_pair(new_erlen.headers["Set-Cookie"])
    assert only_new.flask_open(cookie) == only_new.erlen_open(cookie) == data
    assert old.flask_open(cookie) == old.erlen_open(cookie) == {}


@given(
    keys=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=4),
    signer_index=st.integers(min_value=0, max_value=3),
)
def test_fallback_keys_generated(keys: list[str], signer_index: int) -> None:
    with frozen_itsdangerous_clock():
        *fallbacks, current = keys
        signing_key = keys[signer_index % len(keys)]
        signer = Pair(secret_key=signing_key)
        verifier = Pair(secret_key=current, SECRET_KEY_FALLBACKS=fallbacks)
        cookie = cookie_pair(
            signer.erlen_save(modified(SecureCookieSession, {"k": 1})).headers[
                "Set-Cookie"
            ]
        )
        assert verifier.erlen_open(cookie) == verifier.flask_open(cookie)


# -- Set-Cookie attributes ------------------------------------------------------

CONFIGS = [
    {},
    {"SESSION_COOKIE_NAME": "sid"},
    {"SESSION_COOKIE_DOMAIN": "example.test"},
    {"SESSION_COOKIE_DOMAIN": ".example.test"},
    {"SESSION_COOKIE_PATH": "/app"},
    {"APPLICATION_ROOT": "/mounted"},
    {"APPLICATION_ROOT": "/mounted", "SESSION_COOKIE_PATH": "/own"},
    {"SESSION_COOKIE_HTTPONLY": False},
    {"SESSION_COOKIE_SECURE": True},
    {"SESSION_COOKIE_SAMESITE": "Strict"},
    {"SESSION_COOKIE_SAMESITE": "Lax"},
    {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": True},
    {"SESSION_COOKIE_PARTITIONED": True},
    {
        "SESSION_COOKIE_NAME": "s",
        "SESSION_COOKIE_DOMAIN": "example.test",
        "SESSION_COOKIE_PATH": "/x",
        "SESSION_COOKIE_HTTPONLY": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PARTITIONED": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=3),
    },
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("permanent", [False, True])
def test_set_cookie_attributes_match(config: dict[str, t.Any], permanent: bool) -> None:
    pair = Pair(**config)
    data = {"a": 1, "_permanent": permanent}
    flask_cookies, flask_vary = headers_of(
        pair.flask_save(modified(flask_sessions.SecureCookieSession, data))
    )
    erlen_cookies, erlen_vary = headers_of(
        pair.erlen_save(modified(SecureCookieSession, data))
    )
    assert erlen_vary == flask_vary
    assert len(erlen_cookies) == len(flask_cookies) == 1
    erlen_rest, erlen_expires = split_expires(erlen_cookies[0])
    flask_rest, flask_expires = split_expires(flask_cookies[0])
    assert erlen_rest == flask_rest
    if permanent:
        assert erlen_expires is not None
        assert flask_expires is not None
        # Computed from the wall clock a moment apart.
        assert abs(erlen_expires - flask_expires) <= timedelta(seconds=2)
    else:
        assert erlen_expires is flask_expires is None


@pytest.mark.parametrize("config", CONFIGS)
def test_deletion_cookie_matches(config: dict[str, t.Any]) -> None:
    pair = Pair(**config)
    flask_session = flask_sessions.SecureCookieSession({"a": 1})
    flask_session.clear()
    erlen_session = SecureCookieSession({"a": 1})
    erlen_session.clear()
    flask_response = pair.flask_save(flask_session)
    erlen_response = pair.erlen_save(erlen_session)
    assert headers_of(erlen_response) == headers_of(flask_response)
    assert "Max-Age=0" in erlen_response.headers["Set-Cookie"]


@pytest.mark.parametrize("refresh", [True, False])
@pytest.mark.parametrize("data", [{}, {"a": 1}, {"a": 1, "_permanent": True}])
@pytest.mark.parametrize("accessed", [False, True])
def test_unmodified_session_matches(
    refresh: bool, data: dict[str, t.Any], accessed: bool
) -> None:
    pair = Pair(SESSION_REFRESH_EACH_REQUEST=refresh)
    flask_session = flask_sessions.SecureCookieSession(data)
    erlen_session = SecureCookieSession(data)
    flask_session.accessed = erlen_session.accessed = accessed
    flask_cookies, flask_vary = headers_of(pair.flask_save(flask_session))
    erlen_cookies, erlen_vary = headers_of(pair.erlen_save(erlen_session))
    assert erlen_vary == flask_vary
    assert [split_expires(c)[0] for c in erlen_cookies] == [
        split_expires(c)[0] for c in flask_cookies
    ]


# -- access patterns and Vary -----------------------------------------------------

OPERATIONS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "getitem": lambda s: s["a"],
    "get": lambda s: s.get("missing"),
    "contains": lambda s: "a" in s,
    "len": lambda s: len(s),
    "iter": lambda s: list(s),
    "keys": lambda s: list(s.keys()),
    "bool": lambda s: bool(s),
    "permanent-read": lambda s: s.permanent,
    "setdefault-existing": lambda s: s.setdefault("a", 0),
    "setdefault-new": lambda s: s.setdefault("b", 0),
    "setitem": lambda s: s.__setitem__("b", 2),
    "delitem": lambda s: s.__delitem__("a"),
    "pop": lambda s: s.pop("a"),
    "pop-missing": lambda s: s.pop("zz", None),
    "popitem": lambda s: s.popitem(),
    "update": lambda s: s.update(c=3),
    "clear": lambda s: s.clear(),
    "permanent-write": lambda s: setattr(s, "permanent", True),
    "nested-write": lambda s: s["a"].append(9),
}


@pytest.mark.parametrize("through_context", [False, True])
@pytest.mark.parametrize("operation", [None, *OPERATIONS])
def test_vary_for_access_patterns(operation: str | None, through_context: bool) -> None:
    """Same Set-Cookie and Vary as Flask for each way of touching the session.

    Through the context, Flask 3.1.3's RequestContext.session marks the
    session accessed on every lookup; erlen's request context has the same
    duty, emulated here by setting ``accessed`` as it would.
    """
    pair = Pair()
    seed = cookie_pair(
        pair.erlen_save(modified(SecureCookieSession, {"a": [1]})).headers["Set-Cookie"]
    )

    with pair.flask.test_request_context(headers={"Cookie": seed}) as ctx:
        if operation is not None:
            target = flask.session if through_context else ctx._session
            OPERATIONS[operation](target)
        flask_session = ctx._session
        flask_response = pair.flask_save(flask_session)

    erlen_session = pair.erlen_open(seed)
    if operation is not None:
        if through_context:
            erlen_session.accessed = True
        OPERATIONS[operation](erlen_session)
    erlen_response = pair.erlen_save(erlen_session)

    assert dict(erlen_session) == dict(flask_session)
    assert erlen_session.modified is flask_session.modified
    assert erlen_session.accessed is flask_session.accessed
    assert headers_of(erlen_response) == headers_of(flask_response)


@given(
    operations=st.lists(st.sampled_from(sorted(OPERATIONS)), max_size=6),
    data=st.dictionaries(st.sampled_from("abc"), st.lists(st.integers(), max_size=2)),
)
def test_operation_sequences_match(
    operations: list[str], data: dict[str, t.Any]
) -> None:
    with frozen_itsdangerous_clock():
        pair = Pair()
        flask_session = flask_sessions.SecureCookieSession(data)
        erlen_session = SecureCookieSession(data)
        for name in operations:
            results = []
            for session in (flask_session, erlen_session):
                try:
                    results.append(("ok", OPERATIONS[name](session)))
                except (KeyError, AttributeError) as e:
                    results.append((type(e).__name__, None))
            assert results[0] == results[1]
        assert dict(erlen_session) == dict(flask_session)
        assert erlen_session.modified is flask_session.modified
        assert erlen_session.accessed is flask_session.accessed
        flask_cookies, flask_vary = headers_of(pair.flask_save(flask_session))
        erlen_cookies, erlen_vary = headers_of(pair.erlen_save(erlen_session))
        assert erlen_vary == flask_vary
        assert [split_expires(c)[0] for c in erlen_cookies] == [
            split_expires(c)[0] for c in flask_cookies
        ]


# -- null sessions --------------------------------------------------------------


def test_no_secret_key_gives_null_session_in_both() -> None:
    pair = Pair(secret_key=None)
    assert pair.erlen_open("session=x") is None
    assert pair.flask_open("session=x") is None
    erlen_null = pair.erlen_iface.make_null_session(pair.erlen)
    flask_null = pair.flask.session_interface.make_null_session(pair.flask)
    assert type(erlen_null) is NullSession
    assert pair.erlen_iface.is_null_session(erlen_null)
    assert pair.flask.session_interface.is_null_session(flask_null)
    assert not pair.erlen_iface.is_null_session(flask_null)


NULL_OPERATIONS = {
    name: op
    for name, op in OPERATIONS.items()
    if name not in {"nested-write", "getitem", "delitem", "pop", "popitem"}
} | {
    "getitem-missing": lambda s: s["a"],
    "delitem": lambda s: s.__delitem__("a"),
    "pop": lambda s: s.pop("a", None),
    "popitem": lambda s: s.popitem(),
}


def null_outcome(session: t.Any, operation: str) -> t.Any:
    try:
        result = NULL_OPERATIONS[operation](session)
    except RuntimeError as e:
        return ("refused", str(e).split(".")[0])
    except KeyError:
        return ("KeyError", None)
    return ("ok", result)


@pytest.mark.parametrize("operation", sorted(NULL_OPERATIONS))
def test_null_session_refuses_what_flask_refuses(operation: str) -> None:
    flask_null = flask_sessions.NullSession()
    erlen_null = NullSession()
    flask_outcome = null_outcome(flask_null, operation)
    erlen_outcome = null_outcome(erlen_null, operation)
    assert erlen_outcome == flask_outcome
    if erlen_outcome[0] == "refused":
        # The first sentence is Flask's, which user tests match on.
        assert erlen_outcome[1] == (
            "The session is unavailable because no secret key was set"
        )
    assert dict(erlen_null) == dict(flask_null) == {}


def test_null_session_refuses_in_place_or() -> None:
    # Deliberate deviation: Flask's NullSession lets ``|=`` through (Werkzeug's
    # CallbackDict.__ior__ does not go through the overridden update), so the
    # data is silently dropped at the end of the request. erlen refuses it.
    flask_null = flask_sessions.NullSession()
    flask_null |= {"a": 1}
    assert flask_null == {"a": 1}
    erlen_null = NullSession()
    with pytest.raises(RuntimeError, match="__ior__ was called on the session"):
        erlen_null |= {"a": 1}
    assert erlen_null == {}


def test_null_session_message_says_how_to_fix() -> None:
    with pytest.raises(RuntimeError) as info:
        NullSession()["a"] = 1
    message = str(info.value)
    assert "no secret key was set" in message
    assert "__setitem__" in message
    assert "app.secret_key" in message
    assert "SECRET_KEY" in message
