"""Client-side sessions: the session objects and the signed-cookie interface."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from collections.abc import MutableMapping
from datetime import datetime
from datetime import UTC

from .datastructures import CallbackDict
from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Mapping
    from datetime import timedelta

    from itsdangerous import URLSafeTimedSerializer

    from .sansio.request import Request
    from .sansio.response import Response


class SessionApp(t.Protocol):
    """What a session interface needs from the application object.

    The application satisfies this structurally; so does any object with
    these three attributes, which is how the session machinery is tested and
    how it can be used without a full application.

    ``config`` must hold Flask's session keys: ``SECRET_KEY_FALLBACKS``,
    ``SESSION_COOKIE_NAME``, ``SESSION_COOKIE_DOMAIN``, ``SESSION_COOKIE_PATH``,
    ``APPLICATION_ROOT``, ``SESSION_COOKIE_HTTPONLY``, ``SESSION_COOKIE_SECURE``,
    ``SESSION_COOKIE_SAMESITE``, ``SESSION_COOKIE_PARTITIONED`` and
    ``SESSION_REFRESH_EACH_REQUEST``.
    """

    @property
    def secret_key(self) -> str | bytes | None:
        """The key that signs the session cookie; falsy disables sessions."""

    @property
    def config(self) -> Mapping[str, t.Any]:
        """The configuration mapping."""

    @property
    def permanent_session_lifetime(self) -> timedelta:
        """How long a permanent session (and any signed cookie) stays valid."""


class SessionMixin(MutableMapping[str, t.Any]):
    """Add the session flags to a mutable mapping.

    A custom session class mixes this into a dict-like class::

        class Session(dict, SessionMixin):
            pass
    """

    @property
    def permanent(self) -> bool:
        """Whether the session outlives the browser session (the ``_permanent`` key).

        A permanent cookie gets an ``Expires`` attribute and is valid for
        ``app.permanent_session_lifetime``.
        """
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: Whether the session was just created. Not every backend can tell an
    #: empty session from a new one, so this is always ``False`` here.
    new = False

    #: Whether the session changed and must be saved. A backend that cannot
    #: track changes leaves this ``True`` so that the session is always saved.
    modified = True

    #: Whether the session was used during the request, even if only read.
    #: When set, the response gets ``Vary: Cookie`` so that caches do not
    #: serve one user's page to another. The request context sets it each
    #: time the session is looked up through it (that covers reads, ``in``,
    #: ``len`` and iteration through the ``session`` proxy).
    #:
    #: .. versionchanged:: 3.1.3 Tracked by the request context, not by the
    #:    session's item access.
    accessed = False


class SecureCookieSession(CallbackDict[str, t.Any], SessionMixin):
    """The session stored in a signed cookie.

    Changes to the dict itself set :attr:`modified`. A change inside a
    mutable value (``session["cart"].append(x)``) is not seen: set
    ``session.modified = True`` after it. :attr:`new` stays ``False``, as an
    empty cookie and a missing cookie cannot be told apart.

    :param initial: the session data, for example decoded from a cookie.
    """

    #: Set on any change to the dict; the cookie is only written when true.
    modified = False

    def __init__(self, initial: Mapping[str, t.Any] | None = None) -> None:
        super().__init__(initial, _mark_modified)


def _mark_modified(session: SecureCookieSession) -> None:
    """Record that a session changed (its ``on_update`` callback)."""
    session.modified = True


def _null_session_error(operation: str) -> Callable[..., t.NoReturn]:
    """Return a method that refuses ``operation`` on a :class:`NullSession`."""

    def fail(self: NullSession, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set."
            f" {operation} was called on the session, which is empty and"
            " read-only without a key. To enable sessions, set"
            " 'app.secret_key' (the SECRET_KEY config) to a long random"
            " value, for example one made by 'secrets.token_hex()', and keep"
            " it secret."
        )

    fail.__name__ = operation
    fail.__qualname__ = f"NullSession.{operation}"
    return fail


class NullSession(SecureCookieSession):
    """The stand-in session when sessions are unavailable (no secret key).

    It reads as an empty session; every change raises :exc:`RuntimeError`
    saying that the secret key is missing.
    """

    __setitem__ = _null_session_error("__setitem__")
    __delitem__ = _null_session_error("__delitem__")
    __ior__ = _null_session_error("__ior__")
    clear = _null_session_error("clear")
    pop = _null_session_error("pop")
    popitem = _null_session_error("popitem")
    update = _null_session_error("update")
    setdefault = _null_session_error("setdefault")


def _secret_keys(app: SessionApp) -> tuple[str | bytes, tuple[t.Any, ...]] | None:
    """Return the app's ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``, or None.

    None when there is no secret key (sessions cannot be signed).

    :raise TypeError: If ``SECRET_KEY_FALLBACKS`` is not a list of keys
        (a single string, for example).
    """
    secret_key = app.secret_key
    if not secret_key:
        return None
    fallbacks = app.config["SECRET_KEY_FALLBACKS"] or ()
    # APPSEC: a lone string would be iterated into one-character keys,
    # each trivial to brute-force.
    if isinstance(fallbacks, str | bytes) or not isinstance(fallbacks, Iterable):
        raise TypeError(
            "SECRET_KEY_FALLBACKS must be a list of old secret keys, but it"
            f" is a single {type(fallbacks).__name__} value {fallbacks!r}."
            " Wrap it in a list: SECRET_KEY_FALLBACKS = [old_key]."
        )
    return secret_key, tuple(fallbacks)


def _key_gone_at_save() -> t.NoReturn:
    raise RuntimeError(
        "The session cannot be saved because the application has no"
        " secret key, although the session was opened with one."
        " Do not unset 'app.secret_key' (SECRET_KEY) while requests"
        " are being handled."
    )


def _signing_keys(secret_key: str | bytes, fallbacks: Iterable[t.Any]) -> list[bytes]:
    """Return the keys for an itsdangerous signer: the fallbacks, then the key.

    :raise TypeError: If a key is not ``str`` or ``bytes``.
    """
    # NOTE: itsdangerous signs with the last key and tries the keys last to
    # first, so the current key goes at the end (GHSA-4grg-w6v8-c28g).
    keys = [_key_bytes(key, "SECRET_KEY_FALLBACKS item") for key in fallbacks]
    keys.append(_key_bytes(secret_key, "SECRET_KEY"))
    return keys


class SessionInterface:
    """The base of session backends; subclass it and set ``app.session_interface``.

    Only :meth:`open_session` and :meth:`save_session` must be written; the
    other methods read the ``SESSION_COOKIE_*`` configuration. The session
    object returned must be a mutable mapping with the :class:`SessionMixin`
    attributes. :meth:`open_session` may return ``None`` when sessions cannot
    work (for example without a secret key); the request then gets
    :meth:`make_null_session` instead, which is not saved.

    Requests for one session may be handled concurrently and are opened and
    saved in no particular order; a server-side backend must synchronize its
    store itself.
    """

    #: The one class whose sessions may be opened on first use instead of
    #: when the request context is pushed (see ``RequestContext.push``): set
    #: for SecureCookieSessionInterface, where nothing observes the delay.
    #: A subclass may open differently, so it does not qualify.
    _erlen_lazy_open: type | None = None

    #: Whether :meth:`open_session` and :meth:`save_session` may wait on I/O
    #: (a server-side store). Under ASGI, an app with coroutine functions
    #: then runs them in a worker thread, never on the event loop. An erlen
    #: addition; the cookie interface, which only computes, sets it False.
    io_bound = True

    #: The class :meth:`make_null_session` instantiates and
    #: :meth:`is_null_session` tests for.
    null_session_class: type[NullSession] = NullSession

    #: Whether the backend pickles session data; extensions may check it.
    pickle_based = False

    def make_null_session(self, app: SessionApp) -> NullSession:
        """Return an instance of :attr:`null_session_class`.

        It reads as empty and refuses changes with a helpful error, instead of
        failing where the session is first used.
        """
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Return whether ``obj`` is a null session (which is never saved)."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: SessionApp) -> str:
        """Return the session cookie's name, the ``SESSION_COOKIE_NAME`` config."""
        name: str = app.config["SESSION_COOKIE_NAME"]
        return name

    def get_cookie_domain(self, app: SessionApp) -> str | None:
        """Return the cookie's ``Domain``, the ``SESSION_COOKIE_DOMAIN`` config.

        ``None`` (the default) limits the cookie to the exact host that set
        it; a domain also sends it to that domain's subdomains. It does not
        fall back to ``SERVER_NAME``.
        """
        domain: str | None = app.config["SESSION_COOKIE_DOMAIN"]
        return domain

    def get_cookie_path(self, app: SessionApp) -> str:
        """Return the cookie's ``Path``, the ``SESSION_COOKIE_PATH`` config.

        ``APPLICATION_ROOT`` is used when ``SESSION_COOKIE_PATH`` is not set.
        """
        config = app.config
        path: str = config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"]
        return path

    def get_cookie_httponly(self, app: SessionApp) -> bool:
        """Return whether the cookie is ``HttpOnly`` (``SESSION_COOKIE_HTTPONLY``)."""
        httponly: bool = app.config["SESSION_COOKIE_HTTPONLY"]
        return httponly

    def get_cookie_secure(self, app: SessionApp) -> bool:
        """Return whether the cookie is ``Secure`` (``SESSION_COOKIE_SECURE``)."""
        secure: bool = app.config["SESSION_COOKIE_SECURE"]
        return secure

    def get_cookie_samesite(self, app: SessionApp) -> str | None:
        """Return the cookie's ``SameSite`` value (``SESSION_COOKIE_SAMESITE``).

        ``"Strict"``, ``"Lax"``, ``"None"``, or ``None`` to leave it out.
        """
        samesite: str | None = app.config["SESSION_COOKIE_SAMESITE"]
        return samesite

    def get_cookie_partitioned(self, app: SessionApp) -> bool:
        """Return ``SESSION_COOKIE_PARTITIONED``: whether the cookie is partitioned.

        .. versionadded:: 3.1
        """
        partitioned: bool = app.config["SESSION_COOKIE_PARTITIONED"]
        return partitioned

    def get_expiration_time(
        self, app: SessionApp, session: SessionMixin
    ) -> datetime | None:
        """Return when the cookie expires: now plus the lifetime if permanent.

        ``None`` (not permanent) makes a browser-session cookie, which the
        browser drops when it closes.
        """
        if session.permanent:
            return datetime.now(UTC) + app.permanent_session_lifetime

        return None

    def should_set_cookie(self, app: SessionApp, session: SessionMixin) -> bool:
        """Return whether the response should carry the session cookie.

        It does when the session was modified, or when it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` is on (which pushes the expiry
        forward on every request). Backends skip this check when the
        session was emptied and the cookie is being deleted.
        """
        if session.modified:
            return True

        return session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])

    def _set_session_cookie(
        self, app: SessionApp, session: SessionMixin, response: Response, value: str
    ) -> None:
        # The session cookie with the app's SESSION_COOKIE_* settings, for
        # the interfaces erlen ships.
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")

    def _delete_session_cookie(self, app: SessionApp, response: Response) -> None:
        response.delete_cookie(
            self.get_cookie_name(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
            httponly=self.get_cookie_httponly(app),
        )
        response.vary.add("Cookie")

    def open_session(self, app: SessionApp, request: Request) -> SessionMixin | None:
        """Return the session for ``request``, or ``None`` to use a null session.

        It is called when the request context is pushed, before the URL is
        matched, so URL converters can use the session.
        """
        raise NotImplementedError

    def save_session(
        self, app: SessionApp, session: SessionMixin, response: Response
    ) -> None:
        """Write ``session`` to ``response``.

        It is called after the response is made and the ``after_request``
        functions have run, and not for a null session.
        """
        raise NotImplementedError


#: The serializer :class:`SecureCookieSessionInterface` uses by default.
session_json_serializer = TaggedJSONSerializer()


def _lazy_sha1(string: bytes = b"") -> t.Any:
    """Return a SHA-1 hash object, looking ``hashlib.sha1`` up only when called.

    Builds of Python without SHA-1 (FIPS mode) can then still import this
    module and configure another digest.
    """
    import hashlib  # PERF: imported on first use (import time)

    return hashlib.sha1(string)


def _key_bytes(key: object, name: str) -> bytes:
    """Return a secret key as bytes (UTF-8 for a string), as itsdangerous does.

    :raise TypeError: If ``key`` is neither ``str`` nor ``bytes``.
    """
    if isinstance(key, str):
        return key.encode()

    if isinstance(key, bytes):
        return key

    raise TypeError(
        f"A secret key must be a str or bytes value, but the {name} is a"
        f" {type(key).__name__}. Set it to a long random string, for example"
        " one made by 'secrets.token_hex()'."
    )


class SecureCookieSessionInterface(SessionInterface):
    """Store the session in a cookie signed with :mod:`itsdangerous`.

    The cookie holds the session as tagged JSON with a timestamp, signed with
    ``SECRET_KEY``. Cookies are compatible with Flask's in both directions.
    Anyone can read the data; nobody without the key can change it.
    """

    #: The salt mixed into the key, so that a signature made for another
    #: purpose with the same secret key is not a valid session signature.
    salt = "cookie-session"
    #: The hash function of the HMAC signature; SHA-1 by default.
    digest_method = staticmethod(_lazy_sha1)
    #: How :mod:`itsdangerous` derives the signing key from the secret key.
    key_derivation = "hmac"
    #: Turns the session into a string and back: compact JSON that keeps
    #: tuples, bytes, Markup, UUIDs and datetimes.
    serializer: t.Any = session_json_serializer
    #: The class of the sessions :meth:`open_session` returns.
    session_class: type[SecureCookieSession] = SecureCookieSession

    # The last serializer built and the inputs it was built from.
    _signer_cache: tuple[tuple[t.Any, ...], URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: SessionApp) -> URLSafeTimedSerializer | None:
        """Return the cookie's signing serializer, or ``None`` without a secret key.

        It signs with ``SECRET_KEY`` and verifies with ``SECRET_KEY`` and then
        with each of ``SECRET_KEY_FALLBACKS``, newest (last) first, so that
        keys can be rotated without logging everyone out.

        :raise TypeError: If ``SECRET_KEY_FALLBACKS`` is not a list of keys
            (a single string, for example) or a key is not ``str`` or ``bytes``.
        """
        keys_in_use = _secret_keys(app)
        if keys_in_use is None:
            return None
        secret_key, fallbacks = keys_in_use

        cache_key = (
            secret_key,
            fallbacks,
            self.salt,
            self.serializer,
            self.key_derivation,
            self.digest_method,
        )
        cached = self._signer_cache

        # PERF: building the serializer costs about a fifth of a cookie
        # check, and it is needed twice per request; reuse it while the keys
        # and settings are unchanged.
        if cached is not None and cached[0] == cache_key:
            return cached[1]

        keys = _signing_keys(secret_key, fallbacks)
        # PERF: imported on first use (import time): an app without a secret
        # key, or one that never reads its session, does not load it.
        from itsdangerous import URLSafeTimedSerializer

        signer = URLSafeTimedSerializer(
            keys,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._signer_cache = (cache_key, signer)
        return signer

    def open_session(
        self, app: SessionApp, request: Request
    ) -> SecureCookieSession | None:
        """Return the session stored in the request's cookie, or ``None`` without a key.

        A missing cookie, a bad signature, a malformed payload or a cookie
        older than ``permanent_session_lifetime`` all give a new empty session:
        a client cannot make this fail.
        """
        signer = self.get_signing_serializer(app)

        if signer is None:
            return None

        value = request.cookies.get(self.get_cookie_name(app))

        if not value:
            return self.session_class()

        max_age = int(app.permanent_session_lifetime.total_seconds())
        from itsdangerous import BadData  # loaded by get_signing_serializer()

        try:
            data = signer.loads(value, max_age=max_age)
        except BadData:
            # NOTE: BadSignature covers a forged or expired cookie. Flask lets
            # BadPayload (a valid signature over data this serializer cannot
            # read, e.g. from a differently configured app sharing the key)
            # escape as a 500; a stale cookie is not worth failing the request.
            return self.session_class()

        # NOTE: only a payload signed with this app's key gets here; anything
        # but a dict (another itsdangerous use of the same key and salt) is
        # dropped like a bad cookie rather than failing the request.
        if type(data) is not dict:
            return self.session_class()

        return self.session_class(data)

    def save_session(
        self, app: SessionApp, session: SessionMixin, response: Response
    ) -> None:
        """Set, refresh or delete the session cookie on ``response``.

        ``Vary: Cookie`` is added whenever the session was accessed or the
        cookie is written. An emptied, modified session deletes the cookie
        (with the attributes it was set with); an empty one writes nothing.
        Otherwise the cookie is written if :meth:`should_set_cookie` says so.

        :raise RuntimeError: If the session must be written but the app has no
            secret key.
        """
        if session.accessed:
            response.vary.add("Cookie")

        # PERF: most responses leave the cookie alone, so the attributes are
        # only read once a Set-Cookie header is certain.
        if not session:
            if session.modified:
                self._delete_session_cookie(app, response)

            return

        if not self.should_set_cookie(app, session):
            return

        signer = self.get_signing_serializer(app)

        if signer is None:
            _key_gone_at_save()

        self._set_session_cookie(app, session, response, signer.dumps(dict(session)))


SecureCookieSessionInterface._erlen_lazy_open = SecureCookieSessionInterface
SecureCookieSessionInterface.io_bound = False
