"""RedisSessionInterface against a real redis-server on loopback.

A private ``redis-server`` (Debian's package) is started for the test
session on a free port, with persistence off, in its own process group, and
always stopped. Tests read Redis directly with redis-py to check what the
interface stored. Without the binary the tests fail: install it with
``apt-get install redis-server``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path

import pytest
import redis
from itsdangerous import Signer
from markupsafe import Markup

import erlen
from erlen import session
from erlen.http import parse_cookie
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions_redis import RedisSession
from erlen.sessions_redis import RedisSessionError
from erlen.sessions_redis import RedisSessionInterface
from erlen.sessions_redis import SessionStoreUnavailable
from erlen.sessions_redis import UnavailableSession
from erlen.testing import FlaskClient
from tests._python import run_python
from tests.servers.conftest import free_port
from tests.servers.conftest import HOST
from tests.servers.conftest import run_server

#: How long redis-server may take to answer PING (the machine is shared).
START_TIMEOUT = 30.0
#: How long redis-server may take to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
PREFIX = "session:"
LIFETIME = timedelta(hours=2)


@dataclass
class RedisServer:
    """A running private redis-server."""

    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL of its group) and reap it."""
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)


def _wait_for_ping(server: RedisServer) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    client = redis.Redis(host=HOST, port=server.port, socket_timeout=2.0)
    try:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                return False
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return True
            time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError(
        f"redis-server did not answer PING on port {server.port} within"
        f" {START_TIMEOUT} s; its output:\n{server.log()}"
    )


@contextlib.contextmanager
def run_redis() -> Iterator[RedisServer]:
    """Start a private redis-server on a free port; always stop it after.

    A server that exits at start (the free port taken in between) is retried
    on another port, at most three times.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed, and the Redis session tests need a"
            " real one. Install Debian's package: apt-get install redis-server"
            " (.ci/run does this)."
        )
    with tempfile.TemporaryDirectory(prefix="erlen-redis-") as tmp:
        for attempt in range(3):
            port = free_port()
            log_path = Path(tmp) / f"redis-{attempt}.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        HOST,
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        tmp,
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            server = RedisServer(port, proc, log_path)
            try:
                started = _wait_for_ping(server)
            except BaseException:
                server.stop()
                raise
            if not started:
                server.stop()
                if attempt == 2:
                    raise RuntimeError(
                        f"redis-server exited at start; its output:\n{server.log()}"
                    )
                continue
            try:
                yield server
            finally:
                server.stop()
            return


def test_missing_redis_server_fails_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="apt-get install redis-server"):
        with run_redis():
            pass  # pragma: no cover


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole test session."""
    with run_redis() as server:
        yield server


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the session's redis-server, its database emptied first."""
    client = redis.Redis(host=HOST, port=redis_server.port, socket_timeout=5.0)
    client.flushdb()
    yield client
    client.close()


def build_app(client: redis.Redis) -> erlen.Flask:
    """Return an app that keeps its sessions in Redis, with a few views."""
    app = erlen.Flask("erlen_redis_session_app", root_path="/tmp")
    app.config.update(
        TESTING=True, SECRET_KEY="current key", PERMANENT_SESSION_LIFETIME=LIFETIME
    )
    app.session_interface = RedisSessionInterface(client)

    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "set"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return repr(session.get(key))

    @app.route("/items")
    def items() -> dict[str, t.Any]:
        return dict(session)

    @app.route("/permanent/<key>/<value>")
    def set_permanent(key: str, value: str) -> str:
        session.permanent = True
        session[key] = value
        return "set"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/untouched")
    def untouched() -> str:
        return "untouched"

    @app.route("/login/<user>")
    def login(user: str) -> str:
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        session["user"] = user
        return "logged in"

    return app


@pytest.fixture
def app(store: redis.Redis) -> erlen.Flask:
    return build_app(store)


@pytest.fixture
def client(app: erlen.Flask, interface: str) -> Iterator[FlaskClient]:
    with app.test_client(asgi=(interface == "asgi")) as c:
        yield t.cast(FlaskClient, c)


def set_cookies(response: t.Any) -> list[str]:
    return list(response.headers.getlist("Set-Cookie"))


def cookie_value(client: FlaskClient, name: str = "session") -> str | None:
    cookie = client.get_cookie(name)
    return None if cookie is None else cookie.decoded_value


def sid_of(value: str) -> str:
    """Return the session id in a cookie value (``id.signature``)."""
    return value.rpartition(".")[0]


def stored_keys(store: redis.Redis) -> list[str]:
    return sorted(key.decode() for key in store.keys("*"))


def command_calls(store: redis.Redis, command: str) -> int:
    stats = store.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def sign(value: str, key: str) -> str:
    """Sign ``value`` as the interface signs a session id, with ``key``."""
    signer = Signer(
        key,
        salt=RedisSessionInterface.salt,
        key_derivation="hmac",
        digest_method=RedisSessionInterface.digest_method,
    )
    return signer.sign(value).decode()


# -- round trip --


def test_round_trip_set_read_modify_clear(
    client: FlaskClient, store: redis.Redis
) -> None:
    response = client.get("/set/name/ada")
    assert response.status_code == 200
    (header,) = set_cookies(response)
    assert "HttpOnly" in header
    assert "Path=/" in header
    assert "Expires" not in header  # a browser session
    assert response.headers["Vary"] == "Cookie"
    value = cookie_value(client)
    assert value is not None
    sid = sid_of(value)
    # The cookie holds only the id (>= 128 bits of randomness); the data is
    # in Redis under the prefix.
    assert len(sid) >= 22
    assert "ada" not in value
    assert stored_keys(store) == [PREFIX + sid]
    assert store.get(PREFIX + sid) == b'{"name":"ada"}'

    response = client.get("/get/name")
    assert response.text == "'ada'"
    assert set_cookies(response) == []  # unmodified browser session
    assert response.headers["Vary"] == "Cookie"

    client.get("/set/name/grace")
    assert cookie_value(client) == value  # same id
    assert client.get("/items").json == {"name": "grace"}
    assert store.get(PREFIX + sid) == b'{"name":"grace"}'

    response = client.get("/clear")
    (header,) = set_cookies(response)
    assert header.startswith("session=;")
    assert "Max-Age=0" in header
    assert stored_keys(store) == []
    assert client.get_cookie("session") is None
    assert client.get("/get/name").text == "None"


def test_untouched_session_has_no_vary_and_no_write(
    client: FlaskClient, store: redis.Redis
) -> None:
    client.get("/set/a/1")
    response = client.get("/untouched")
    assert "Vary" not in response.headers
    assert set_cookies(response) == []


def test_request_without_cookie_opens_lazily_without_redis(
    client: FlaskClient, store: redis.Redis
) -> None:
    # No cookie: the session is a new empty one, opened on first use; Redis
    # is not asked, whether the view reads the session or not.
    before = command_calls(store, "get")
    assert client.get("/untouched").text == "untouched"
    assert client.get("/get/a").text == "None"
    assert command_calls(store, "get") == before
    assert stored_keys(store) == []
    # With a cookie, the session is opened when the request starts.
    client.get("/set/a/1")
    before = command_calls(store, "get")
    client.get("/untouched")
    assert command_calls(store, "get") == before + 1


def test_async_view_reads_and_writes(app: erlen.Flask, interface: str) -> None:
    @app.route("/async/<value>")
    async def async_view(value: str) -> str:
        previous = session.get("v")
        session["v"] = value
        return repr(previous)

    with app.test_client(asgi=(interface == "asgi")) as client:
        assert client.get("/async/one").text == "None"
        assert client.get("/async/two").text == "'one'"


def test_session_transaction(app: erlen.Flask, store: redis.Redis) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        assert isinstance(sess, RedisSession)
        sess["user"] = "ada"
    assert client.get("/get/user").text == "'ada'"
    assert len(stored_keys(store)) == 1


# -- lifetimes --


def test_browser_and_permanent_sessions_ttl(
    client: FlaskClient, store: redis.Redis
) -> None:
    lifetime = int(LIFETIME.total_seconds())
    client.get("/set/a/1")
    (key,) = stored_keys(store)
    # A browser session is kept for PERMANENT_SESSION_LIFETIME since its last
    # write, as a cookie session's signature is.
    assert lifetime - 60 < store.ttl(key) <= lifetime

    store.flushdb()
    client.delete_cookie("session")
    before = datetime.now(UTC)
    response = client.get("/permanent/a/1")
    (header,) = set_cookies(response)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.expires is not None
    assert before + LIFETIME - timedelta(minutes=1) < cookie.expires
    assert cookie.expires <= datetime.now(UTC) + LIFETIME
    (key,) = stored_keys(store)
    assert lifetime - 60 < store.ttl(key) <= lifetime


def test_permanent_session_refreshed_each_request(
    client: FlaskClient, store: redis.Redis
) -> None:
    lifetime = int(LIFETIME.total_seconds())
    client.get("/permanent/a/1")
    (key,) = stored_keys(store)
    value = cookie_value(client)
    store.expire(key, 100)
    response = client.get("/get/a")
    assert response.text == "'1'"
    # Unmodified, permanent, SESSION_REFRESH_EACH_REQUEST: the time to live
    # and the cookie are renewed, the data and the id left alone.
    assert len(set_cookies(response)) == 1
    assert cookie_value(client) == value
    assert lifetime - 60 < store.ttl(key) <= lifetime
    assert store.get(key) == b'{"_permanent":true,"a":"1"}'


def test_no_refresh_when_disabled(
    app: erlen.Flask, client: FlaskClient, store: redis.Redis
) -> None:
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    client.get("/permanent/a/1")
    (key,) = stored_keys(store)
    store.expire(key, 100)
    response = client.get("/get/a")
    assert set_cookies(response) == []
    assert store.ttl(key) <= 100


def test_browser_session_not_refreshed(client: FlaskClient, store: redis.Redis) -> None:
    client.get("/set/a/1")
    (key,) = stored_keys(store)
    store.expire(key, 100)
    assert set_cookies(client.get("/get/a")) == []
    assert store.ttl(key) <= 100


def test_refresh_does_not_bring_back_deleted_data(
    app: erlen.Flask, client: FlaskClient, store: redis.Redis
) -> None:
    @app.route("/logout-elsewhere")
    def logout_elsewhere() -> str:
        # Another request (say, a logout in another tab) deletes the session
        # while this one runs.
        value = session.get("a")
        store.delete(*store.keys("*"))
        return repr(value)

    client.get("/permanent/a/1")
    response = client.get("/logout-elsewhere")
    assert response.text == "'1'"
    assert set_cookies(response) == []
    assert stored_keys(store) == []


def test_expired_data_gives_a_new_session_with_a_new_id(
    client: FlaskClient, store: redis.Redis
) -> None:
    client.get("/set/a/1")
    old = cookie_value(client)
    assert old is not None
    store.flushdb()  # expired
    assert client.get("/get/a").text == "None"
    client.get("/set/b/2")
    new = cookie_value(client)
    assert new is not None
    assert sid_of(new) != sid_of(old)
    assert stored_keys(store) == [PREFIX + sid_of(new)]


# -- the cookie --


def test_client_chosen_id_is_never_adopted(
    client: FlaskClient, store: redis.Redis
) -> None:
    # Even an id signed with the app's key (which no client can make) is not
    # taken when nothing is stored under it.
    client.set_cookie("session", sign("chosen-by-the-client", "current key"))
    assert client.get("/get/a").text == "None"
    client.get("/set/a/1")
    value = cookie_value(client)
    assert value is not None
    assert sid_of(value) != "chosen-by-the-client"
    assert store.exists(PREFIX + "chosen-by-the-client") == 0
    assert stored_keys(store) == [PREFIX + sid_of(value)]


def _flip_signature_start(value: str) -> str:
    start = value.rindex(".") + 1
    flipped = "A" if value[start] != "A" else "B"
    return value[:start] + flipped + value[start + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        # The signature's first character: all 6 of its bits are signature
        # bits (the last character's low bits are padding, which base64
        # decoding ignores, so changing it may change nothing).
        pytest.param(_flip_signature_start, id="signature"),
        pytest.param(lambda v: "x" + v, id="id"),
        pytest.param(lambda v: sign(sid_of(v), "another key"), id="forged"),
        pytest.param(lambda v: sid_of(v), id="unsigned"),
        pytest.param(lambda v: v + "." + "x" * 300, id="too-long"),
        pytest.param(lambda v: "\u00e9" + v, id="not-ascii"),
    ],
)
def test_tampered_cookie_gives_empty_session_without_redis(
    client: FlaskClient,
    store: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    tamper: t.Callable[[str], str],
) -> None:
    client.get("/set/a/1")
    value = cookie_value(client)
    assert value is not None
    client.set_cookie("session", tamper(value))
    before = command_calls(store, "get")
    with caplog.at_level(logging.INFO):
        assert client.get("/get/a").text == "None"
    assert command_calls(store, "get") == before
    assert "bad signature" in caplog.text
    # The real session is untouched.
    assert store.get(PREFIX + sid_of(value)) == b'{"a":"1"}'


def test_cookie_attributes_follow_config(app: erlen.Flask, client: FlaskClient) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    (header,) = set_cookies(client.get("/permanent/a/1"))
    name, _, attributes = header.partition(";")
    assert name.startswith("sid=")
    parts = {part.strip().partition("=")[0]: part for part in attributes.split(";")}
    assert parts["Domain"].strip() == "Domain=example.com"
    assert parts["Path"].strip() == "Path=/app"
    assert "Secure" in parts
    assert "Partitioned" in parts
    assert "Expires" in parts
    assert parts["SameSite"].strip() == "SameSite=Lax"
    assert "HttpOnly" not in parts


def test_key_rotation_with_fallbacks(app: erlen.Flask, client: FlaskClient) -> None:
    client.get("/set/a/1")
    old = cookie_value(client)
    assert old is not None

    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["current key"])
    response = client.get("/get/a")
    assert response.text == "'1'"
    # Verified with a fallback key only: signed again with the current one,
    # same id.
    assert len(set_cookies(response)) == 1
    new = cookie_value(client)
    assert new is not None
    assert new != old
    assert sid_of(new) == sid_of(old)
    assert new == sign(sid_of(old), "new key")
    # Signed with the current key now: no further rewrite.
    assert set_cookies(client.get("/get/a")) == []

    # Once the old key is dropped, only cookies signed with the new one work.
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/get/a").text == "'1'"
    client.set_cookie("session", old)
    assert client.get("/get/a").text == "None"


def test_fallbacks_as_one_string_is_refused(
    app: erlen.Flask, client: FlaskClient
) -> None:
    app.config["SECRET_KEY_FALLBACKS"] = "old key"
    with pytest.raises(TypeError, match="must be a list of old secret keys"):
        client.get("/get/a")


def test_no_secret_key_gives_null_session(app: erlen.Flask) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context("/"):
        assert isinstance(session._get_current_object(), NullSession)  # type: ignore[attr-defined]
        assert "a" not in session
        with pytest.raises(RuntimeError, match="no secret key was set"):
            session["a"] = 1


def test_secret_key_removed_before_save(app: erlen.Flask, client: FlaskClient) -> None:
    @app.route("/unset-key")
    def unset_key() -> str:
        session["a"] = 1
        app.config["SECRET_KEY"] = None
        return "x"

    with pytest.raises(RuntimeError, match="has no secret key"):
        client.get("/unset-key")


# -- regenerate --


def test_regenerate_changes_the_id_and_keeps_the_data(
    client: FlaskClient, store: redis.Redis
) -> None:
    client.get("/set/cart/3")
    before = cookie_value(client)
    assert before is not None
    assert client.get("/login/ada").text == "logged in"
    after = cookie_value(client)
    assert after is not None
    assert sid_of(after) != sid_of(before)
    # The old id's data is gone: the old cookie opens an empty session.
    assert stored_keys(store) == [PREFIX + sid_of(after)]
    assert client.get("/items").json == {"cart": "3", "user": "ada"}
    client.set_cookie("session", before)
    assert client.get("/items").json == {}


def test_regenerate_a_new_session(client: FlaskClient, store: redis.Redis) -> None:
    client.get("/login/ada")
    assert len(stored_keys(store)) == 1


def test_regenerate_then_clear_deletes_both(
    app: erlen.Flask, client: FlaskClient, store: redis.Redis
) -> None:
    @app.route("/regenerate-and-clear")
    def regenerate_and_clear() -> str:
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        session.clear()
        return "x"

    client.get("/set/a/1")
    response = client.get("/regenerate-and-clear")
    assert stored_keys(store) == []
    assert "Max-Age=0" in set_cookies(response)[0]


def test_session_emptied_before_first_save(
    app: erlen.Flask, client: FlaskClient, store: redis.Redis
) -> None:
    @app.route("/set-and-pop")
    def set_and_pop() -> str:
        session["a"] = 1
        session.pop("a")
        return "x"

    before = command_calls(store, "del")
    response = client.get("/set-and-pop")
    # Nothing was stored, so nothing is deleted; the cookie is deleted as
    # the cookie interface does for an emptied session.
    assert command_calls(store, "del") == before
    assert "Max-Age=0" in set_cookies(response)[0]
    assert stored_keys(store) == []


def test_regenerate_refuses_other_sessions(store: redis.Redis) -> None:
    interface = RedisSessionInterface(store)
    with pytest.raises(TypeError, match="RedisSessionInterface"):
        interface.regenerate(SecureCookieSession())
    with pytest.raises(SessionStoreUnavailable):
        interface.regenerate(UnavailableSession())


# -- limits and stored data --


def test_size_limit(
    app: erlen.Flask,
    client: FlaskClient,
    store: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app.config["SESSION_REDIS_MAX_SIZE"] = 100
    client.get("/set/a/small")
    value = cookie_value(client)
    assert value is not None
    with caplog.at_level(logging.WARNING):
        response = client.get("/set/a/" + "x" * 200)
    assert response.status_code == 200
    assert set_cookies(response) == []
    assert "SESSION_REDIS_MAX_SIZE" in caplog.text
    assert "not saved" in caplog.text
    # The stored session is kept as it was.
    assert store.get(PREFIX + sid_of(value)) == b'{"a":"small"}'
    assert cookie_value(client) == value

    app.config["SESSION_REDIS_MAX_SIZE"] = None  # no limit
    client.get("/set/a/" + "x" * 200)
    assert len(store.get(PREFIX + sid_of(value)) or b"") > 200


def test_default_size_limit(client: FlaskClient, store: redis.Redis) -> None:
    client.get("/set/a/" + "x" * 60_000)
    assert len(stored_keys(store)) == 1
    client.get("/set/b/" + "x" * 10_000)  # 70 KB > 64 KiB
    (key,) = stored_keys(store)
    assert b'"b"' not in (store.get(key) or b"")


@pytest.mark.parametrize("bad", ["64k", 1.5, True])
def test_size_limit_config_type(
    app: erlen.Flask, client: FlaskClient, bad: object
) -> None:
    app.config["SESSION_REDIS_MAX_SIZE"] = bad
    with pytest.raises(TypeError, match="SESSION_REDIS_MAX_SIZE must be"):
        client.get("/set/a/1")


def test_tagged_types_round_trip(app: erlen.Flask, client: FlaskClient) -> None:
    values: dict[str, t.Any] = {
        "bytes": b"\x00\xff",
        "datetime": datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
        "markup": Markup("<b>bold</b>"),
        "tuple": (1, "two"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "nested": {"list": [1, 2, {"t": (3,)}]},
    }

    @app.route("/store-types")
    def store_types() -> str:
        session.update(values)
        return "x"

    @app.route("/check-types")
    def check_types() -> str:
        for key, value in values.items():
            assert session[key] == value, key
            assert type(session[key]) is type(value), key
        return "ok"

    client.get("/store-types")
    assert client.get("/check-types").text == "ok"


@pytest.mark.parametrize(
    "stored", [b"not json", b"[1, 2]", b'{"\\u00e9": {" t": 1}}', b"\xff"]
)
def test_unreadable_stored_data_gives_a_new_session(
    client: FlaskClient,
    store: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    stored: bytes,
) -> None:
    client.get("/set/a/1")
    value = cookie_value(client)
    assert value is not None
    store.set(PREFIX + sid_of(value), stored)
    with caplog.at_level(logging.WARNING):
        assert client.get("/items").json == {}
    assert "is not a session written by this interface" in caplog.text
    client.get("/set/b/2")
    new = cookie_value(client)
    assert new is not None
    assert sid_of(new) != sid_of(value)


def test_key_prefix_and_from_url(redis_server: RedisServer, store: redis.Redis) -> None:
    interface = RedisSessionInterface.from_url(redis_server.url, key_prefix="app1:")
    kwargs = interface.client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 2.0
    assert kwargs["socket_connect_timeout"] == 2.0
    app = build_app(store)
    app.session_interface = interface
    client = app.test_client()
    client.get("/set/a/1")
    value = cookie_value(client)
    assert value is not None
    assert stored_keys(store) == ["app1:" + sid_of(value)]
    assert client.get("/get/a").text == "'1'"
    interface.client.close()


def test_sessions_are_independent(app: erlen.Flask, store: redis.Redis) -> None:
    one, two = app.test_client(), app.test_client()
    one.get("/set/who/one")
    two.get("/set/who/two")
    assert one.get("/get/who").text == "'one'"
    assert two.get("/get/who").text == "'two'"
    assert len(stored_keys(store)) == 2


# -- Redis unavailable --


@pytest.fixture
def doomed_redis() -> Iterator[RedisServer]:
    """A private redis-server that a test may stop."""
    with run_redis() as server:
        yield server


def test_redis_down_when_opening(
    doomed_redis: RedisServer,
    interface: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    interface = RedisSessionInterface.from_url(doomed_redis.url)
    app = build_app(interface.client)
    with app.test_client(asgi=(interface == "asgi")) as client:
        client.get("/set/a/1")
        doomed_redis.stop()
        with caplog.at_level(logging.ERROR):
            response = client.get("/get/a")
        # Using the session answers 503 with a page that says why.
        assert response.status_code == 503
        assert "session store is unavailable" in response.text
        assert "Could not load the session from Redis" in caplog.text
        assert f"{HOST}:{doomed_redis.port}" in caplog.text
        # A request that does not use its session is served.
        response = client.get("/untouched")
        assert response.status_code == 200
        assert response.text == "untouched"
        assert set_cookies(response) == []
        # So is one without a session cookie, which needs no Redis.
        client.delete_cookie("session")
        caplog.clear()
        assert client.get("/untouched").status_code == 200
        assert caplog.text == ""


def test_unavailable_session_refuses_every_use() -> None:
    unavailable = UnavailableSession()
    uses: list[t.Callable[[], object]] = [
        lambda: unavailable["a"],
        lambda: unavailable.get("a"),
        lambda: "a" in unavailable,
        lambda: len(unavailable),
        lambda: list(unavailable),
        lambda: unavailable.permanent,
        lambda: unavailable.__setitem__("a", 1),
        lambda: unavailable.pop("a"),
        lambda: unavailable.clear(),
    ]
    for use in uses:
        with pytest.raises(SessionStoreUnavailable) as info:
            use()
        assert info.value.code == 503
    assert repr(unavailable) == "<UnavailableSession>"


def test_redis_down_when_saving(
    doomed_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    interface = RedisSessionInterface.from_url(doomed_redis.url)
    app = build_app(interface.client)
    app.config.update(TESTING=False)

    @app.route("/write-while-down")
    def write_while_down() -> str:
        session["a"] = 1
        doomed_redis.stop()
        return "x"

    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/write-while-down")
    assert response.status_code == 500
    assert "Exception on /write-while-down [GET]" in caplog.text
    assert "The session could not be saved to Redis" in caplog.text
    assert set_cookies(response) == []
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RedisSessionError) as info:
        client.get("/set/a/1")
    assert isinstance(info.value.__cause__, redis.ConnectionError)


def test_redis_never_reachable(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on the port: connection refused, answered at once.
    interface = RedisSessionInterface.from_url(f"redis://{HOST}:{free_port()}/0")
    app = build_app(interface.client)
    app.session_interface = interface
    client = app.test_client()
    client.set_cookie("session", sign("some-id", "current key"))
    with caplog.at_level(logging.ERROR):
        assert client.get("/get/a").status_code == 503
    assert "ConnectionError" in caplog.text


def test_unix_socket_client_is_described(caplog: pytest.LogCaptureFixture) -> None:
    interface = RedisSessionInterface.from_url("unix:///nonexistent/redis.sock")
    app = build_app(interface.client)
    app.session_interface = interface
    client = app.test_client()
    client.set_cookie("session", sign("some-id", "current key"))
    with caplog.at_level(logging.ERROR):
        assert client.get("/get/a").status_code == 503
    assert "unix:/nonexistent/redis.sock" in caplog.text


def test_other_client_classes_are_described_by_name() -> None:
    class OtherClient:
        pass

    interface = RedisSessionInterface(t.cast(t.Any, OtherClient()))
    assert interface._describe() == "a OtherClient client"


# -- without an app, without the extra --


@dataclass
class BareApp:
    """The SessionApp protocol as plain data (no logger)."""

    secret_key: str | None = "current key"
    config: dict[str, t.Any] | None = None
    permanent_session_lifetime: timedelta = LIFETIME


def test_bare_session_app_logs_to_module_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interface = RedisSessionInterface.from_url(f"redis://{HOST}:{free_port()}/0")
    app = erlen.Flask("erlen_redis_bare", root_path="/tmp")
    bare = BareApp(config=dict(app.config))
    with app.test_request_context(
        "/", headers={"Cookie": "session=" + sign("x", "current key")}
    ) as ctx:
        with caplog.at_level(logging.ERROR, logger="erlen.sessions_redis"):
            opened = interface.open_session(bare, ctx.request)
    assert isinstance(opened, UnavailableSession)
    assert [r.name for r in caplog.records] == ["erlen.sessions_redis"]


def test_builds_without_the_extra_fail_clearly() -> None:
    out = run_python(
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "import erlen.sessions_redis as m\n"
        "try:\n"
        "    m.RedisSessionInterface.from_url('redis://localhost')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "try:\n"
        "    m.RedisSessionInterface(object())\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    lines = out.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "pip install 'erlen[redis]'" in line


def test_import_erlen_does_not_load_redis() -> None:
    out = run_python(
        "import sys\nimport erlen\nimport erlen.sessions_redis\n"
        "print('redis' in sys.modules)"
    )
    assert out == "False"


# -- a real server --


def create_served_app() -> erlen.Flask:
    """The app the server tests serve (a factory: the URL comes from the env)."""
    app = erlen.Flask("erlen_redis_served", root_path="/tmp")
    app.config["SECRET_KEY"] = "served key"
    app.session_interface = RedisSessionInterface.from_url(
        os.environ["ERLEN_TEST_REDIS_URL"]
    )

    @app.route("/")
    def index() -> str:
        return "ok"

    @app.route("/count")
    def count() -> dict[str, int]:
        session["count"] = session.get("count", 0) + 1
        return {"count": session["count"], "pid": os.getpid()}

    return app


SERVED = {
    "uvicorn": [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--no-access-log",
        "tests.test_sessions_redis:create_served_app",
    ],
    "gunicorn": [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        HOST + ":{port}",
        "--workers",
        "2",
        "tests.test_sessions_redis:create_served_app()",
    ],
}


@pytest.mark.servers
@pytest.mark.parametrize("name", sorted(SERVED))
def test_served_requests_share_the_session(
    name: str, redis_server: RedisServer, store: redis.Redis
) -> None:
    env = {"ERLEN_TEST_REDIS_URL": redis_server.url}
    protocol = "asgi" if name == "uvicorn" else "wsgi"
    with run_server(name, SERVED[name], protocol, env=env) as server:
        first = server.request("GET", "/count")
        assert first.status == 200, server.log()
        assert first.json()["count"] == 1  # type: ignore[index]
        set_cookie = first.headers["Set-Cookie"]
        pair = set_cookie.partition(";")[0]
        assert parse_cookie(pair)["session"]
        # A new connection (with gunicorn, maybe another worker process)
        # carrying the cookie sees the same session.
        for expected in (2, 3):
            reply = server.request("GET", "/count", headers={"Cookie": pair})
            assert reply.status == 200, server.log()
            assert reply.json()["count"] == expected  # type: ignore[index]
        assert len(store.keys("session:*")) == 1
