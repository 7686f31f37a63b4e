"""Server-side sessions in Redis: the cookie holds a signed id, Redis the data.

Opt-in, with the ``redis`` extra (``pip install 'erlen[redis]'``)::

    from erlen.sessions_redis import RedisSessionInterface

    app.session_interface = RedisSessionInterface.from_url("redis://localhost")

The ``redis`` package is imported when an interface is built, so this module
imports without it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import typing as t
from collections.abc import Iterable

from .datastructures import CallbackDict
from .exceptions import ServiceUnavailable
from .sessions import _key_gone_at_save
from .sessions import _secret_keys
from .sessions import _signing_keys
from .sessions import session_json_serializer
from .sessions import SessionInterface
from .sessions import SessionMixin

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator
    from collections.abc import Mapping
    from types import ModuleType

    from itsdangerous import Signer
    from redis import Redis

    from .sansio.request import Request
    from .sansio.response import Response
    from .sessions import SessionApp

#: Used when the app has no ``logger`` (a bare :class:`SessionApp`).
_logger = logging.getLogger("erlen.sessions_redis")

#: The config key that bounds the size of a stored session, and its default.
MAX_SIZE_KEY = "SESSION_REDIS_MAX_SIZE"
DEFAULT_MAX_SIZE = 64 * 1024

# APPSEC: a signed id is about 90 characters; anything much longer is not
# one of ours and is refused before any HMAC is computed over it.
_MAX_COOKIE_LENGTH = 256


def _import_redis() -> ModuleType:
    """Return the ``redis`` module, or raise an ImportError naming the extra."""
    try:
        import redis
    except ImportError as e:
        raise ImportError(
            "RedisSessionInterface needs the 'redis' package, which is not"
            " installed. Install erlen's redis extra: pip install 'erlen[redis]'."
        ) from e
    return redis


class SessionStoreUnavailable(ServiceUnavailable):
    """*503*: the session is used while its Redis store cannot be reached.

    Raised by every read or write of an :class:`UnavailableSession`. Register
    an error handler for it (or for 503) to answer with your own page.
    """

    description = (
        "The session store is unavailable, so this request cannot be handled"
        " right now. Please try again in a moment."
    )


class RedisSessionError(RuntimeError):
    """A session could not be written to (or deleted from) Redis.

    Raised from :meth:`RedisSessionInterface.save_session`, with the
    :mod:`redis` error as its cause; the app logs it and answers 500.
    """


def _mark_modified(session: RedisSession) -> None:
    """Record that a session changed (its ``on_update`` callback)."""
    session.modified = True


class RedisSession(CallbackDict[str, t.Any], SessionMixin):
    """A session whose data lives in Redis under ``key_prefix + sid``.

    Changes to the dict itself set :attr:`modified`. A change inside a
    mutable value (``session["cart"].append(x)``) is not seen: set
    ``session.modified = True`` after it.

    :param initial: the session data loaded from Redis.
    :param sid: the id the data is stored under; ``None`` for a new session,
        which gets a fresh id when it is first saved.
    """

    #: Set on any change to the dict; the data is only written when true.
    modified = False

    def __init__(
        self, initial: Mapping[str, t.Any] | None = None, sid: str | None = None
    ) -> None:
        super().__init__(initial, _mark_modified)
        #: The session id, or ``None`` until the session is first stored.
        self.sid = sid
        #: Whether no stored session was found for the request.
        self.new = sid is None
        # Ids whose data is deleted when the session is saved (regenerate()).
        self._stale_sids: list[str] = []
        # The cookie verified only with one of SECRET_KEY_FALLBACKS: it is
        # signed again with the current key.
        self._resign = False


def _unavailable(self: UnavailableSession, *args: t.Any) -> t.NoReturn:
    raise SessionStoreUnavailable()


class UnavailableSession(SessionMixin):
    """The session of a request whose stored session could not be loaded.

    Opening the session met a Redis error (logged once per request). The
    request still runs: a request that never uses its session is unaffected,
    and any use (reading, testing, writing, iterating) raises
    :exc:`SessionStoreUnavailable`, a 503. It is never saved.
    """

    new = False
    modified = False

    __getitem__ = _unavailable
    __setitem__ = _unavailable
    __delitem__ = _unavailable
    __iter__ = _unavailable
    __len__ = _unavailable

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class RedisSessionInterface(SessionInterface):
    """Keep sessions in Redis; the cookie holds only a signed, random id.

    The id (:func:`secrets.token_urlsafe`, 256 bits) is signed with
    ``SECRET_KEY`` (verified with ``SECRET_KEY_FALLBACKS`` too), so a forged or
    altered cookie is refused without asking Redis. The data is stored as the
    cookie interface's tagged JSON, with a time to live of
    ``PERMANENT_SESSION_LIFETIME`` for permanent and browser sessions alike,
    counted from the last write (or, for a permanent session with
    ``SESSION_REFRESH_EACH_REQUEST``, the last request). ``SESSION_COOKIE_*``
    set the cookie's attributes as for the cookie interface.

    A stored session is at most ``SESSION_REDIS_MAX_SIZE`` bytes (64 KiB by
    default, ``None`` for no limit); a larger one is not saved and a warning
    is logged.

    When Redis cannot be reached while a session is opened, an error is
    logged and the request gets an :class:`UnavailableSession`: using it
    answers 503. A failed write raises :exc:`RedisSessionError` (a logged
    500). Calls block: give the client socket timeouts (:meth:`from_url`
    does).

    :param client: a :class:`redis.Redis` client, shared by all requests (it
        is thread-safe and pools its connections).
    :param key_prefix: prepended to the id to make the Redis key.
    :raise ImportError: If the ``redis`` package is not installed.
    """

    #: The salt mixed into the key, so that a signature made with the same
    #: secret key for another purpose (a cookie session, say) is not a valid
    #: session id.
    salt = "erlen.redis-session"
    #: The hash function of the HMAC signature.
    digest_method = staticmethod(hashlib.sha256)
    #: Turns the session into a string and back: compact JSON that keeps
    #: tuples, bytes, Markup, UUIDs and datetimes.
    serializer: t.Any = session_json_serializer
    #: The class of the sessions :meth:`open_session` returns.
    session_class: type[RedisSession] = RedisSession
    #: The class of the session of a request whose session could not be loaded.
    unavailable_session_class: type[UnavailableSession] = UnavailableSession

    # The last signers built and the keys they were built from.
    _signer_cache: tuple[tuple[t.Any, ...], Signer, Signer] | None = None

    def __init__(self, client: Redis, *, key_prefix: str = "session:") -> None:
        redis = _import_redis()
        #: The Redis client.
        self.client = client
        #: Prepended to the session id to make its Redis key.
        self.key_prefix = key_prefix
        self._redis_error: type[Exception] = redis.RedisError

    @classmethod
    def from_url(
        cls, url: str, *, key_prefix: str = "session:", **kwargs: t.Any
    ) -> t.Self:
        """Return an interface with a client for ``url`` (``redis://host:port/db``).

        Socket and connect timeouts default to 2 seconds and a failed command
        is retried once, at once, so that a Redis outage costs a request
        seconds, not minutes. ``kwargs`` go to :meth:`redis.Redis.from_url`
        and override these defaults.

        :raise ImportError: If the ``redis`` package is not installed.
        """
        redis = _import_redis()
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        kwargs.setdefault("socket_timeout", 2.0)
        kwargs.setdefault("socket_connect_timeout", 2.0)
        # NOTE: one retry survives a pooled connection that Redis closed
        # (a restart); redis-py's default of ten with backoff makes a dead
        # server cost each request seconds.
        kwargs.setdefault("retry", Retry(NoBackoff(), 1))
        return cls(redis.Redis.from_url(url, **kwargs), key_prefix=key_prefix)

    # -- signing ---------------------------------------------------------

    def _signers(self, app: SessionApp) -> tuple[Signer, Signer] | None:
        """Return (all keys, current key only) signers, or ``None`` without a key.

        :raise TypeError: If ``SECRET_KEY_FALLBACKS`` is not a list of keys or
            a key is not ``str`` or ``bytes``.
        """
        keys_in_use = _secret_keys(app)
        if keys_in_use is None:
            return None
        secret_key, fallbacks = keys_in_use
        cache_key = (secret_key, fallbacks, self.salt, self.digest_method)
        cached = self._signer_cache
        if cached is not None and cached[0] == cache_key:
            return cached[1], cached[2]

        from itsdangerous import Signer

        keys = _signing_keys(secret_key, fallbacks)
        current = keys[-1]
        options: dict[str, t.Any] = {
            "salt": self.salt,
            "key_derivation": "hmac",
            "digest_method": self.digest_method,
        }
        signers = (Signer(keys, **options), Signer(current, **options))
        self._signer_cache = (cache_key, *signers)
        return signers

    def _verified_sid(
        self, signers: tuple[Signer, Signer], value: str
    ) -> tuple[str, bool] | None:
        """Return the id in cookie ``value`` and whether to re-sign it, or ``None``."""
        from itsdangerous import BadSignature

        if len(value) > _MAX_COOKIE_LENGTH:
            return None
        try:
            sid = signers[0].unsign(value).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None
        return sid, not signers[1].validate(value)

    # -- the interface ---------------------------------------------------

    def _log(self, app: SessionApp) -> logging.Logger:
        logger = getattr(app, "logger", None)
        return logger if isinstance(logger, logging.Logger) else _logger

    def _describe(self) -> str:
        """Return where the client connects, for log lines (no password)."""
        pool = getattr(self.client, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", None)
        if not isinstance(kwargs, dict):
            # Another client class (a cluster client, say): its name only,
            # as its repr might show credentials.
            return f"a {type(self.client).__name__} client"
        if "path" in kwargs:
            return f"unix:{kwargs['path']} db {kwargs.get('db', 0)}"
        return (
            f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
            f" db {kwargs.get('db', 0)}"
        )

    def open_session(
        self, app: SessionApp, request: Request
    ) -> RedisSession | UnavailableSession | None:
        """Return the session whose id the request's cookie holds.

        ``None`` without a secret key (the request gets a null session). A
        missing, forged or altered cookie, an id with no stored data (expired
        or deleted) and unreadable stored data all give a new empty session,
        which is stored under a new id: an id the client chose is never
        adopted. A Redis error is logged and gives an
        :class:`UnavailableSession`.
        """
        signers = self._signers(app)
        if signers is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        verified = self._verified_sid(signers, value)
        if verified is None:
            self._log(app).info(
                "Ignored a session cookie with a bad signature (forged, altered,"
                " or signed with a key no longer in SECRET_KEY_FALLBACKS); the"
                " request gets a new session."
            )
            return self.session_class()
        sid, resign = verified
        try:
            raw = self.client.get(self.key_prefix + sid)
        except self._redis_error as e:
            self._log(app).error(
                f"Could not load the session from Redis at {self._describe()}:"
                f" {type(e).__name__}: {e}. Requests that use the session are"
                " answered 503 until Redis answers again."
            )
            return self.unavailable_session_class()
        if raw is None:
            # NOTE: expired or deleted: the data is gone, and so is the id
            # (a new one is made on save; no session fixation).
            return self.session_class()
        try:
            data = self.serializer.loads(raw)
        except (ValueError, TypeError):
            # NOTE: TypeError too: a malformed tagged value (``{" t": 1}``)
            # fails inside its tag's conversion.
            data = None
        if type(data) is not dict:
            self._log(app).warning(
                f"The session stored under {self.key_prefix}{sid[:8]}... is not"
                " a session written by this interface; the request gets a new"
                " session."
            )
            return self.session_class()
        session = self.session_class(data, sid)
        session._resign = resign
        return session

    def should_set_cookie(self, app: SessionApp, session: SessionMixin) -> bool:
        """Return whether to write the cookie (and store or refresh the data).

        As the base class says, plus when the cookie verified only with one of
        ``SECRET_KEY_FALLBACKS``, so that it is signed again with the current
        key.
        """
        if super().should_set_cookie(app, session):
            return True
        return bool(getattr(session, "_resign", False))

    def regenerate(self, session: SessionMixin) -> None:
        """Give ``session`` a new id when it is saved, deleting the old one's data.

        Call it when the user's privileges change, at login above all, so that
        an id planted in the browser before the login (session fixation) does
        not carry the logged-in session::

            app.session_interface.regenerate(session)
            session["user_id"] = user.id

        ``session`` may be the ``session`` proxy.

        :raise SessionStoreUnavailable: If the session could not be loaded.
        :raise TypeError: If ``session`` is not a :class:`RedisSession`.
        """
        get_object = getattr(session, "_get_current_object", None)
        if get_object is not None:
            session = get_object()
        if isinstance(session, UnavailableSession):
            raise SessionStoreUnavailable()
        if not isinstance(session, RedisSession):
            raise TypeError(
                "regenerate() takes a session opened by RedisSessionInterface,"
                f" but it was given a {type(session).__name__}. Is"
                " app.session_interface this interface, and is a secret key set?"
            )
        if session.sid is not None:
            session._stale_sids.append(session.sid)
            session.sid = None
        session.modified = True

    def _max_size(self, app: SessionApp) -> int | None:
        max_size = app.config.get(MAX_SIZE_KEY, DEFAULT_MAX_SIZE)
        if max_size is not None and (
            not isinstance(max_size, int) or isinstance(max_size, bool)
        ):
            raise TypeError(
                f"{MAX_SIZE_KEY} must be a number of bytes (an int) or None for"
                f" no limit, but it is {max_size!r}."
            )
        return max_size

    def save_session(
        self, app: SessionApp, session: SessionMixin, response: Response
    ) -> None:
        """Store, refresh or delete ``session`` in Redis and set its cookie.

        - ``Vary: Cookie`` is added when the session was accessed or the
          cookie is written.
        - An emptied session's data is deleted and its cookie deleted.
        - A modified session is written (``SET`` with ``EX``) under its id, or
          a new id; its cookie is set.
        - An unmodified permanent session with ``SESSION_REFRESH_EACH_REQUEST``
          gets its time to live and cookie renewed; if its data vanished
          meanwhile (a logout elsewhere) it is not brought back.
        - A session over ``SESSION_REDIS_MAX_SIZE`` is not saved (a warning is
          logged); the stored one, if any, is kept.

        :raise RedisSessionError: If Redis fails the write.
        """
        if session.accessed:
            response.vary.add("Cookie")
        if not isinstance(session, RedisSession):
            # An UnavailableSession is never saved.
            return
        if not session:
            if session.modified:
                stale = [*session._stale_sids]
                if session.sid is not None:
                    stale.append(session.sid)
                if stale:
                    self._run(lambda pipe: pipe.delete(*self._keys(stale)))
                session._stale_sids.clear()
                session.sid = None
                self._delete_session_cookie(app, response)
            return
        if not self.should_set_cookie(app, session):
            return
        signers = self._signers(app)
        if signers is None:
            _key_gone_at_save()
        ttl = max(1, int(app.permanent_session_lifetime.total_seconds()))
        sid = session.sid
        if session.modified or sid is None:
            payload = self.serializer.dumps(dict(session))
            max_size = self._max_size(app)
            if max_size is not None and len(payload) > max_size:
                self._log(app).warning(
                    f"The session was not saved: it is {len(payload)} bytes of"
                    f" JSON, over {MAX_SIZE_KEY} ({max_size} bytes). Store large"
                    " data elsewhere and keep a reference in the session."
                )
                return
            new_sid = sid or secrets.token_urlsafe(32)
            stale = session._stale_sids

            def write(pipe: t.Any) -> None:
                pipe.set(self.key_prefix + new_sid, payload, ex=ttl)
                if stale:
                    pipe.delete(*self._keys(stale))

            self._run(write)
            stale.clear()
            session.sid = sid = new_sid
        else:
            results = self._run(lambda pipe: pipe.expire(self.key_prefix + sid, ttl))
            if not results[0]:
                # The data was deleted or expired since it was loaded: keep
                # it gone (a concurrent logout must not be undone).
                return
        session._resign = False
        self._set_session_cookie(
            app, session, response, signers[0].sign(sid).decode("ascii")
        )

    def _keys(self, sids: Iterable[str]) -> Iterator[str]:
        prefix = self.key_prefix
        return (prefix + sid for sid in sids)

    def _run(self, commands: t.Callable[[t.Any], object]) -> list[t.Any]:
        """Queue ``commands`` on a MULTI/EXEC pipeline, run it, return the results.

        :raise RedisSessionError: If Redis fails.
        """
        try:
            with self.client.pipeline(transaction=True) as pipe:
                commands(pipe)
                results: list[t.Any] = pipe.execute()
        except self._redis_error as e:
            raise RedisSessionError(
                f"The session could not be saved to Redis at {self._describe()}:"
                f" {type(e).__name__}: {e}"
            ) from e
        return results


# NOTE: without a session cookie the session opens as a new empty one (or
# None without a key), with no Redis call: opening it on first use instead
# gives the same session, so the request context may defer it.
RedisSessionInterface._erlen_lazy_open = RedisSessionInterface
