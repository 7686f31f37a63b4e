"""Pluggable JSON operations for an application, with a stdlib-based default."""

from __future__ import annotations

import json
import typing as t
import weakref
from datetime import date
from datetime import datetime
from datetime import UTC

from .._cache import cache_put
from .._parsing import _MONTHS
from .._parsing import _WEEKDAYS

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable


class _JSONApp(t.Protocol):
    """What a JSON provider needs from the application object."""

    @property
    def debug(self) -> bool: ...

    @property
    def response_class(self) -> Callable[..., t.Any]: ...


def _http_date(value: date) -> str:
    """Return ``value`` as an HTTP date (``Sun, 06 Nov 1994 08:49:37 GMT``).

    A naive datetime is taken to be UTC, an aware one is converted to UTC and a
    plain date means midnight UTC; microseconds are dropped. This is the output
    of ``email.utils.format_datetime(..., usegmt=True)`` on the UTC datetime.
    """
    if isinstance(value, datetime):
        # NOTE: ``is not UTC`` rather than ``!=``: a tzinfo equal to UTC
        # converts to the same wall time, so the result does not change.
        if value.tzinfo is not None and value.tzinfo is not UTC:
            value = value.astimezone(UTC)

        # PERF: formatting the fields directly is several times faster than
        # email.utils.format_datetime, and gives the same text.
        return (
            f"{_WEEKDAYS[value.weekday()]}, {value.day:02d}"
            f" {_MONTHS[value.month - 1]} {value.year:04d}"
            f" {value.hour:02d}:{value.minute:02d}:{value.second:02d} GMT"
        )

    return (
        f"{_WEEKDAYS[value.weekday()]}, {value.day:02d}"
        f" {_MONTHS[value.month - 1]} {value.year:04d} 00:00:00 GMT"
    )


def _default(o: t.Any) -> t.Any:
    """Return a JSON-serializable stand-in for a type :mod:`json` cannot encode.

    :raise TypeError: If the type is not supported.
    """
    if isinstance(o, date):
        return _http_date(o)

    # PERF: imported on first use (import time); this is the rare path.
    import decimal
    import uuid

    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)

    # NOTE: is_dataclass() is also true for dataclass *classes*; asdict() only
    # takes instances, so a class falls through to the TypeError below.
    # PERF: a dataclass instance means dataclasses is loaded; the attribute test
    # (what is_dataclass() does) avoids importing it (import time) otherwise.
    if not isinstance(o, type) and hasattr(type(o), "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(o)

    if hasattr(o, "__html__"):
        return str(o.__html__())

    raise TypeError(
        f"Object of type {type(o).__name__} is not JSON serializable. Convert it"
        " to a JSON type first, or extend the provider's 'default' function to"
        " handle it."
    )


class JSONProvider:
    """The JSON operations of one application; subclass it to change libraries.

    Subclasses implement at least :meth:`dumps` and :meth:`loads`; the other
    methods are built on them. Install one by setting the application's
    ``json_provider_class``, or by assigning an instance to ``app.json``.

    :param app: The application. Only a :func:`weakref.proxy` to it is kept
        (in :attr:`_app`), so the provider does not keep the app alive.
    """

    def __init__(self, app: _JSONApp) -> None:
        self._app: _JSONApp = weakref.proxy(app)

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string.

        :param obj: The data to serialize.
        :param kwargs: Options for the underlying JSON library.
        """
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` as JSON and write it to a text file.

        :param obj: The data to serialize.
        :param fp: A file opened for writing text (UTF-8 for valid JSON).
        :param kwargs: Options for the underlying JSON library.
        """
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize a JSON document.

        :param s: Text, or UTF-8 encoded bytes.
        :param kwargs: Options for the underlying JSON library.
        """
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        """Deserialize a JSON document read from a file.

        :param fp: A file opened for reading text or UTF-8 bytes.
        :param kwargs: Options for the underlying JSON library.
        """
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        """Return what :meth:`response` serializes for its arguments.

        No arguments give ``None``, one positional argument is used as is,
        several are kept as their tuple (serialized as a JSON array) and
        keyword arguments become a dict.

        :raise TypeError: If both positional and keyword arguments are given.
        """
        if args and kwargs:
            raise TypeError(
                "app.json.response() takes either positional or keyword arguments,"
                f" not both; got {len(args)} positional and keyword arguments"
                f" {sorted(kwargs)!r}. Pass a single dict or list instead."
            )

        if not args and not kwargs:
            return None

        if len(args) == 1:
            return args[0]

        # PERF: the args tuple itself, as Flask does; JSON encodes it as an array.
        return args or kwargs

    def response(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Serialize the arguments as JSON and return an ``application/json`` response.

        Either positional or keyword arguments may be given, not both; see
        :meth:`_prepare_response_obj` for how they are combined.

        :param args: One value, or several values to send as a list.
        :param kwargs: Values to send as an object.
        """
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


# Encode functions reused by DefaultJSONProvider.dumps, keyed by their options.
_encoders: dict[tuple[t.Any, ...], Callable[[t.Any], str]] = {}
_ENCODERS_MAX = 64
_COMPACT = (",", ":")
# First bytes for which json.detect_encoding() may answer other than "utf-8":
# NUL (UTF-16/32 text) and the first bytes of the UTF-8, -16 and -32 BOMs.
_NOT_UTF8_FIRST = frozenset(b"\x00\xef\xfe\xff")
# The C encoder behind json.dumps (None on interpreters without it).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)


def _encoder_for(
    default: Callable[[t.Any], t.Any],
    ensure_ascii: bool,
    sort_keys: bool,
    separators: tuple[str, str] | None,
) -> Callable[[t.Any], str]:
    """Return a function encoding like ``json.dumps`` with these options."""
    key = (default, ensure_ascii, sort_keys, separators)
    encode = _encoders.get(key)
    if encode is not None:
        return encode
    encoder = json.JSONEncoder(
        default=default,
        ensure_ascii=ensure_ascii,
        sort_keys=sort_keys,
        separators=separators,
    )
    make = _c_make_encoder
    if make is None:  # pragma: no cover - CPython always has the C encoder
        encode = encoder.encode
    else:
        # PERF: JSONEncoder.encode goes through iterencode, which rebuilds its
        # options every call; calling the C encoder json uses underneath saves
        # most of that. Same arguments as JSONEncoder.iterencode (skipkeys
        # False, allow_nan True), so the output is identical.
        basestring = (
            json.encoder.encode_basestring_ascii
            if ensure_ascii
            else json.encoder.encode_basestring
        )
        key_sep = encoder.key_separator
        item_sep = encoder.item_separator
        join = "".join
        # PERF: one C encoder for every call, built without the circular
        # reference markers: with no state it is safe to share between
        # threads, and a failed call leaves nothing behind.
        shared = make(
            None, default, basestring, None, key_sep, item_sep, sort_keys, False, True
        )

        def encode(obj: t.Any) -> str:
            try:
                return join(shared(obj, 0))
            except RecursionError:
                # NOTE: without markers a circular structure recurses until
                # the limit. Encoding again with markers (a new encoder, so
                # per call) fails as json.dumps does: ValueError for a cycle,
                # RecursionError again for data that is only too deep.
                return join(
                    make(
                        {},
                        default,
                        basestring,
                        None,
                        key_sep,
                        item_sep,
                        sort_keys,
                        False,
                        True,
                    )(obj, 0)
                )

    return cache_put(_encoders, _ENCODERS_MAX, key, encode)


class DefaultJSONProvider(JSONProvider):
    """JSON operations with the standard library's :mod:`json`.

    Beyond the JSON types it serializes :class:`~datetime.datetime` and
    :class:`~datetime.date` as HTTP dates (RFC 822 style, in UTC),
    :class:`~decimal.Decimal` and :class:`~uuid.UUID` as strings, dataclass
    instances through :func:`dataclasses.asdict`, and anything with an
    ``__html__`` method (such as :class:`~markupsafe.Markup`) as the string it
    returns.
    """

    #: Called by :func:`json.dumps` for objects it cannot encode; returns a
    #: JSON-serializable value or raises :exc:`TypeError`.
    default: Callable[[t.Any], t.Any] = staticmethod(_default)

    #: Escape non-ASCII characters (``\\uXXXX``). Turning it off gives shorter
    #: output and faster encoding.
    ensure_ascii = True

    #: Sort object keys, which keeps output stable (useful for caching). All
    #: keys must then be strings, as they are compared before conversion.
    sort_keys = True

    #: ``True`` gives compact :meth:`response` output; ``False`` indents it;
    #: ``None`` indents only when the application is in debug mode.
    compact: bool | None = None

    #: The mimetype of :meth:`response`.
    mimetype = "application/json"

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string with :func:`json.dumps`.

        :attr:`default`, :attr:`ensure_ascii` and :attr:`sort_keys` are used
        unless ``kwargs`` overrides them.

        :param obj: The data to serialize.
        :param kwargs: Passed to :func:`json.dumps`.
        """
        if not kwargs or (len(kwargs) == 1 and "separators" in kwargs):
            # PERF: one encode function per option set, built once (see
            # _encoder_for).
            return _encoder_for(
                self.default,
                self.ensure_ascii,
                self.sort_keys,
                kwargs.get("separators"),
            )(obj)
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize a JSON document with :func:`json.loads`.

        :param s: Text, or UTF-8 encoded bytes.
        :param kwargs: Passed to :func:`json.loads`.
        :raise ValueError: If the document is not valid JSON
            (:exc:`json.JSONDecodeError`).
        """
        if s.__class__ is bytes and not kwargs and s and s[0] not in _NOT_UTF8_FIRST:
            # PERF: json.loads() decodes bytes as json.detect_encoding() says,
            # which costs several calls. A first byte that starts no BOM and
            # no UTF-16/32 text (NUL), followed by a non-NUL byte or nothing,
            # is always "utf-8" there; decode it the same way here.
            if len(s) < 2 or s[1]:
                return json.loads(s.decode("utf-8", "surrogatepass"))
        return json.loads(s, **kwargs)

    def response(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Serialize the arguments as JSON and return a response of :attr:`mimetype`.

        The body ends with a newline. It is indented by two spaces when
        :attr:`compact` is ``False``, or ``None`` with the app in debug mode;
        otherwise it has no whitespace at all.

        :param args: One value, or several values to send as a list.
        :param kwargs: Values to send as an object.
        """
        obj: t.Any
        if self._plain_prepare and not (args and kwargs):
            # PERF: _prepare_response_obj's answer without the call, for the
            # usual jsonify(key=value) or jsonify(value).
            if kwargs:
                obj = kwargs
            elif len(args) == 1:
                obj = args[0]
            else:
                obj = args or None
        else:
            obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        app = self._app  # PERF: a weakref proxy; go through it once or twice

        if compact is False or (compact is None and app.debug):
            # NOTE: with an indent, json's item separator is "," (no trailing
            # space) and the key separator ": ".
            body = self.dumps(obj, indent=2)
        elif self._plain_dumps:
            # PERF: the compact body without the kwargs round trip of dumps(),
            # and _encoder_for's cache lookup done here.
            default = self.default
            ensure_ascii = self.ensure_ascii
            sort_keys = self.sort_keys
            encode = _encoders.get((default, ensure_ascii, sort_keys, _COMPACT))
            if encode is None:
                encode = _encoder_for(default, ensure_ascii, sort_keys, _COMPACT)
            body = encode(obj)
        else:
            body = self.dumps(obj, separators=_COMPACT)

        return app.response_class(f"{body}\n", mimetype=self.mimetype)

    # PERF: whether this class keeps DefaultJSONProvider's dumps and
    # _prepare_response_obj, whose work response() then does inline.
    _plain_dumps: t.ClassVar[bool] = True
    _plain_prepare: t.ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_dumps = cls.dumps is DefaultJSONProvider.dumps
        cls._plain_prepare = (
            cls._prepare_response_obj is JSONProvider._prepare_response_obj
        )
