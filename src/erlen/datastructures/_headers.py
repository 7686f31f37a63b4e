"""Ordered, case-insensitive, multi-valued HTTP headers and a WSGI environ view."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping

from .._cache import cache_put
from .._parsing import dump_options_header
from ._multidict import _bad_key
from ._multidict import iter_multi_items
from ._multidict import MultiDict

T = t.TypeVar("T")

_missing: t.Any = object()

# RFC 9110 section 5.6.2: token = 1*tchar.
_token_re = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# APPSEC: CR and LF end a header line (response splitting); NUL truncates it
# in some servers and proxies. Nothing else is rejected, as Werkzeug allows it.
_bad_value_re = re.compile(r"[\r\n\x00]")

# PERF: header names come from a small set (application code, not clients),
# so a validated name is remembered (mapped to its lowercase form, which
# lookups compare with) and checked with one dict lookup next time. The cache
# is bounded so that untrusted names cannot grow it without limit.
_valid_names: dict[str, str] = {}
_VALID_NAMES_MAX = 1024
# PERF: the bound lookup, without a method lookup on the cache per write (the
# cache is cleared in place, never replaced).
_valid_name_lower = _valid_names.get

HeadersInit: t.TypeAlias = (
    "Headers | MultiDict[str, t.Any] | Mapping[str, t.Any] "
    "| Iterable[tuple[str, t.Any]]"
)


def _check_name(name: t.Any) -> str:
    """Return *name* if it is a valid header name, else raise an error."""
    # PERF: the bound lookup rather than ``in`` (not specialized on a dict
    # subclass).
    if _valid_name_lower(name) is not None:
        return name  # type: ignore[no-any-return]
    if not isinstance(name, str):
        raise TypeError(
            f"Header names must be str, got {type(name).__name__} {name!r}."
            " Decode bytes names (latin-1) before setting the header."
        )
    if _token_re.fullmatch(name) is None:
        bad = next((c for c in name if _token_re.fullmatch(c) is None), "")
        what = f"forbidden character {bad!r}" if bad else "no characters"
        raise ValueError(
            f"Invalid header name {name!r}: it contains {what}. A header name"
            " must be an RFC 9110 token (letters, digits and"
            " !#$%&'*+-.^_`|~); fix the name in the code that sets it."
        )
    cache_put(_valid_names, _VALID_NAMES_MAX, name, name.lower())
    return name


def _check_value(name: str, value: t.Any) -> str:
    """Return *value* as a str after checking it cannot inject headers."""
    if value.__class__ is not str:
        value = str(value)
    # PERF: a printable value (the usual one) cannot hold CR, LF or NUL, all
    # control characters: one C call. Otherwise three substring tests in C,
    # which beat a regex search on short values; the regex only runs to name
    # the character in the error.
    if not value.isprintable() and ("\r" in value or "\n" in value or "\x00" in value):
        match = t.cast("re.Match[str]", _bad_value_re.search(value))
        raise ValueError(
            f"Header {name!r} has a value containing the forbidden character"
            f" {match.group()!r} (CR, LF and NUL would allow header injection)."
            f" Got {value!r}; remove or encode the character before setting it."
        )
    return value  # type: ignore[no-any-return]


def _with_options(value: t.Any, options: dict[str, t.Any]) -> str:
    """Return *value* followed by ``; key=value`` parameters from *options*."""
    return dump_options_header(
        str(value), {k.replace("_", "-"): v for k, v in options.items()}
    )


class Headers:
    """An ordered, case-insensitive list of HTTP headers that allows repeats.

    Looking a name up returns the first value; iterating yields
    ``(name, value)`` pairs in insertion order. A missing name raises
    :exc:`~erlen.exceptions.BadRequestKeyError`.

    Every write validates: the name must be an RFC 9110 token and the value
    (converted with :func:`str` if needed) must not contain CR, LF or NUL;
    otherwise :exc:`ValueError` is raised. This is erlen's single guard against
    header injection.

    :param defaults: initial headers: a :class:`Headers`, a :class:`MultiDict`,
        a mapping (list, tuple and set values give several headers) or an
        iterable of ``(name, value)`` pairs.

    .. note:: Flask compatibility: Werkzeug only rejects newlines in values;
        erlen also rejects NUL and names that are not tokens.
    """

    __slots__ = ("_list",)

    # PERF: __setitem__ inlines set() unless a subclass overrides set(), in
    # which case ``headers[name] = value`` keeps calling the override.
    _inline_set: t.ClassVar[bool] = True

    # PERF: get() inlines _find() unless a subclass overrides _find().
    _inline_find: t.ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._inline_set = cls.set is Headers.set
        cls._inline_find = cls._find is Headers._find

    def __init__(self, defaults: HeadersInit | None = None) -> None:
        self._list: list[tuple[str, str]] = []
        if defaults is not None:
            self.extend(defaults)

    # -- reading -----------------------------------------------------------

    @classmethod
    def _from_received(cls, pairs: list[tuple[str, str]]) -> t.Self:
        """Wrap header pairs as a server received them, without the write checks.

        The checks guard what an application *sends*; received headers were
        already framed by the server, and rejecting one here would turn a
        client's odd header into a 500.
        """
        headers = cls.__new__(cls)
        headers._list = pairs
        return headers

    @t.overload
    def __getitem__(self, key: str) -> str: ...
    @t.overload
    def __getitem__(self, key: int) -> tuple[str, str]: ...
    @t.overload
    def __getitem__(self, key: slice) -> t.Self: ...
    def __getitem__(self, key: str | int | slice) -> str | tuple[str, str] | t.Self:
        """Return the first value of a name, the pair at an index, or a slice."""
        if isinstance(key, str):
            return self._get_key(key)
        if isinstance(key, int):
            return self._list[key]
        if isinstance(key, slice):
            return self.__class__(self._list[key])
        raise _bad_key(key)

    def _get_key(self, key: str) -> str:
        rv = self._find(key)
        if rv is None:
            raise _bad_key(key)
        return rv

    def _find(self, key: str) -> str | None:
        """Return the first value of *key*, or None; never raises."""
        ikey = key.lower()
        # PERF: an exact-case name (the usual case: code reads the names it
        # wrote) matches without lowercasing the stored name.
        for k, v in self._list:
            if k == key or k.lower() == ikey:
                return v
        return None

    @t.overload
    def get(self, key: str) -> str | None: ...
    @t.overload
    def get(self, key: str, default: str) -> str: ...
    @t.overload
    def get(self, key: str, default: T) -> str | T: ...
    @t.overload
    def get(self, key: str, *, type: t.Callable[[str], T]) -> T | None: ...
    @t.overload
    def get(self, key: str, default: T, type: t.Callable[[str], T]) -> T: ...
    def get(
        self,
        key: str,
        default: t.Any = None,
        type: t.Callable[[str], t.Any] | None = None,
    ) -> t.Any:
        """Return the first value of *key*, converted by *type*, else *default*.

        :param type: converts the value; if it raises :exc:`ValueError` or
            :exc:`TypeError`, *default* is returned.
        """
        # PERF: no exception for a missing name (the common case for get).
        if key.__class__ is str and self._inline_find:
            # PERF: _find() inlined (one call fewer per header read).
            rv = None
            ikey = key.lower()
            for k, v in self._list:
                if k == key or k.lower() == ikey:
                    rv = v
                    break
        else:
            rv = self._find(key)
        if rv is None:
            return default
        if type is None:
            return rv
        try:
            return type(rv)
        except (ValueError, TypeError):
            return default

    @t.overload
    def getlist(self, key: str) -> list[str]: ...
    @t.overload
    def getlist(self, key: str, type: t.Callable[[str], T]) -> list[T]: ...
    def getlist(
        self, key: str, type: t.Callable[[str], t.Any] | None = None
    ) -> list[t.Any]:
        """Return every value of *key* in order (empty list if missing).

        :param type: converts each value; values that fail to convert
            (:exc:`ValueError` or :exc:`TypeError`) are left out.
        """
        ikey = key.lower()
        if type is None:
            return [v for k, v in self if k.lower() == ikey]
        result = []
        for k, v in self:
            if k.lower() == ikey:
                try:
                    result.append(type(v))
                except (ValueError, TypeError):
                    continue
        return result

    def get_all(self, name: str) -> list[str]:
        """Return every value of *name* (the :mod:`wsgiref` spelling of getlist)."""
        return self.getlist(name)

    def items(self, lower: bool = False) -> t.Iterator[tuple[str, str]]:
        """Yield ``(name, value)`` pairs, names lowercased if *lower*."""
        for key, value in self:
            yield (key.lower() if lower else key), value

    def keys(self, lower: bool = False) -> t.Iterator[str]:
        """Yield the names, one per header (repeats included)."""
        for key, _ in self:
            yield key.lower() if lower else key

    def values(self) -> t.Iterator[str]:
        """Yield the values in order."""
        for _, value in self:
            yield value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return self._find(key) is not None

    def __iter__(self) -> t.Iterator[tuple[str, str]]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine = {(k.lower(), v) for k, v in self._list}
        return mine == {(k.lower(), v) for k, v in other._list}

    __hash__ = None  # type: ignore[assignment]

    # -- writing -------------------------------------------------------------

    def add(self, key: str, value: t.Any, /, **kwargs: t.Any) -> None:
        """Append a header, keeping existing ones of the same name.

        Keyword arguments become ``; name=value`` parameters (underscores in
        the name become dashes; values are quoted when needed, ``None`` skips
        the parameter)::

            h.add("Content-Disposition", "attachment", filename="a b.txt")
        """
        if kwargs:
            value = _with_options(value, kwargs)
        self._list.append((_check_name(key), _check_value(key, value)))

    def add_header(self, key: str, value: t.Any, /, **kwargs: t.Any) -> None:
        """Append a header (the :mod:`wsgiref` spelling of :meth:`add`)."""
        self.add(key, value, **kwargs)

    def set(self, key: str, value: t.Any, /, **kwargs: t.Any) -> None:
        """Replace the first header named *key* and remove the others.

        The header keeps the position of the first one it replaces, or is
        appended if the name was absent. Keyword arguments are as for
        :meth:`add`.
        """
        if kwargs:
            value = _with_options(value, kwargs)
        item = (_check_name(key), _check_value(key, value))
        lst = self._list
        ikey = _valid_names.get(key) or key.lower()
        # PERF: only names of the same length can match (see __setitem__).
        n = len(key)
        for idx, (old, _) in enumerate(lst):
            if len(old) == n and (old == key or old.lower() == ikey):
                lst[idx] = item
                idx += 1
                # The usual case has no repeats; the rest is rebuilt only if so.
                for old, _ in lst[idx:]:
                    if len(old) == n and (old == key or old.lower() == ikey):
                        lst[idx:] = [p for p in lst[idx:] if p[0].lower() != ikey]
                        break
                return
        lst.append(item)

    def setlist(self, key: str, values: Iterable[t.Any]) -> None:
        """Replace the headers named *key* by one header per value.

        An empty *values* removes the name.
        """
        # NOTE: validate everything first so a bad value leaves no half-update.
        name = _check_name(key)
        checked = [_check_value(key, v) for v in values]
        if not checked:
            self.remove(key)
            return
        self.set(name, checked[0])
        self._list.extend((name, v) for v in checked[1:])

    def setdefault(self, key: str, default: t.Any) -> str:
        """Return the first value of *key*, setting it to *default* if absent."""
        try:
            return self._get_key(key)
        except KeyError:
            pass
        self.add(key, default)
        return self._list[-1][1]

    def setlistdefault(self, key: str, default: Iterable[t.Any]) -> list[str]:
        """Return the values of *key*, setting them to *default* if absent.

        The result is a copy: changing it does not change the headers.
        """
        if key not in self:
            self.setlist(key, default)
        return self.getlist(key)

    def extend(self, arg: HeadersInit | None = None, /, **kwargs: t.Any) -> None:
        """Append headers from *arg* and keyword arguments, keeping existing ones.

        Use :meth:`update` to replace instead.
        """
        # PERF: append validated pairs directly instead of calling add().
        append = self._list.append
        if arg is not None:
            # PERF: a list of pairs (the usual case: error pages, WSGI-style
            # headers) needs no iter_multi_items generator and ABC checks.
            items = arg if arg.__class__ is list else iter_multi_items(arg)
            for key, value in items:
                append((_check_name(key), _check_value(key, value)))
        for key, value in kwargs.items():
            if isinstance(value, (list, tuple, set)):
                for item in value:
                    append((_check_name(key), _check_value(key, item)))
            else:
                append((_check_name(key), _check_value(key, value)))

    def update(self, arg: HeadersInit | None = None, /, **kwargs: t.Any) -> None:
        """Replace the headers named in *arg* and keyword arguments.

        List, tuple and set values (and all values of a :class:`Headers` or
        :class:`MultiDict`) replace the name with several headers. Use
        :meth:`extend` to append instead.
        """
        if arg is not None:
            if isinstance(arg, (Headers, MultiDict)):
                for key in dict.fromkeys(arg.keys()):
                    self.setlist(key, arg.getlist(key))
            elif isinstance(arg, Mapping):
                self._update_mapping(arg)
            else:
                for key, value in arg:
                    self.set(key, value)
        self._update_mapping(kwargs)

    def _update_mapping(self, mapping: Mapping[str, t.Any]) -> None:
        for key, value in mapping.items():
            if isinstance(value, (list, tuple, set)):
                self.setlist(key, value)
            else:
                self.set(key, value)

    @t.overload
    def __setitem__(self, key: str, value: t.Any) -> None: ...
    @t.overload
    def __setitem__(self, key: int, value: tuple[str, t.Any]) -> None: ...
    @t.overload
    def __setitem__(self, key: slice, value: Iterable[tuple[str, t.Any]]) -> None: ...
    def __setitem__(self, key: str | int | slice, value: t.Any) -> None:
        """Set a header by name (like :meth:`set`), or a pair by index or slice."""
        if key.__class__ is str and (self.__class__ is Headers or self._inline_set):
            # PERF: ``headers[name] = value`` is the most common write (after
            # request hooks); it does set()'s work inline, without the method
            # layers. A name seen before is valid (one dict lookup, which also
            # gives its lowercase form); a str value without CR/LF/NUL needs
            # no conversion. The exact class is tested first: cheaper than
            # the flag, which only a subclass needs.
            ikey = _valid_name_lower(key)
            if ikey is None:
                ikey = _check_name(key).lower()
            # PERF: a printable str (the usual value) has no CR, LF or NUL,
            # which are control characters: one C call tells. Anything else
            # (tabs, other characters Python does not print, non-str values)
            # gets the full check.
            if value.__class__ is not str or not value.isprintable():
                value = _check_value(key, value)
            lst = self._list
            # PERF: a stored name can only equal *key* ignoring case if it has
            # the same length (*key* is an ASCII token, and the one character
            # whose lowercase is longer, U+0130, lowers to non-ASCII), so
            # most names are passed over without lowercasing them; and the
            # loop keeps no index (found again with index() on a match).
            n = len(key)
            for pair in lst:
                if len(pair[0]) == n:
                    old = pair[0]
                    if old == key or old.lower() == ikey:
                        break
            else:
                lst.append((key, value))
                return
            # The first equal pair is this one: an earlier equal pair would
            # have the same name and would have matched first.
            idx = lst.index(pair)
            lst[idx] = (key, value)
            idx += 1
            # The usual case has no repeats; the rest is rebuilt only if so.
            for old, _ in lst[idx:]:
                if len(old) == n and (old == key or old.lower() == ikey):
                    lst[idx:] = [p for p in lst[idx:] if p[0].lower() != ikey]
                    break
        elif isinstance(key, str):
            self.set(key, value)
        elif isinstance(key, int):
            name, val = value
            self._list[key] = (_check_name(name), _check_value(name, val))
        else:
            self._list[key] = [(_check_name(k), _check_value(k, v)) for k, v in value]

    def __delitem__(self, key: str | int | slice) -> None:
        """Remove every header of a name, or the pairs at an index or slice."""
        if isinstance(key, str):
            self.remove(key)
        else:
            del self._list[key]

    def remove(self, key: str) -> None:
        """Remove every header named *key* (no error if there is none)."""
        ikey = key.lower()
        self._list[:] = [p for p in self._list if p[0].lower() != ikey]

    @t.overload
    def pop(self) -> tuple[str, str]: ...
    @t.overload
    def pop(self, key: str) -> str: ...
    @t.overload
    def pop(self, key: int | None = ...) -> tuple[str, str]: ...
    @t.overload
    def pop(self, key: str, default: str) -> str: ...
    @t.overload
    def pop(self, key: str, default: T) -> str | T: ...
    def pop(self, key: str | int | None = None, default: t.Any = _missing) -> t.Any:
        """Remove and return a header.

        With no key, the last pair; with an int, the pair at that index; with a
        name, its first value (all headers of that name are removed), or
        *default* if given and the name is absent.
        """
        if key is None:
            return self._list.pop()
        if isinstance(key, int):
            return self._list.pop(key)
        try:
            rv = self._get_key(key)
        except KeyError:
            if default is not _missing:
                return default
            raise
        self.remove(key)
        return rv

    def popitem(self) -> tuple[str, str]:
        """Remove and return the last ``(name, value)`` pair."""
        return self._list.pop()

    def clear(self) -> None:
        """Remove every header."""
        self._list.clear()

    def __or__(self, other: Mapping[str, t.Any]) -> t.Self:
        if not isinstance(other, Mapping):
            return NotImplemented
        rv = self.copy()
        rv.update(other)
        return rv

    def __ior__(
        self, other: Mapping[str, t.Any] | Iterable[tuple[str, t.Any]]
    ) -> t.Self:
        if not isinstance(other, (Mapping, Iterable)):
            return NotImplemented
        self.update(other)
        return self

    # -- output --------------------------------------------------------------

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """Return the headers as a new list of ``(name, value)`` pairs."""
        # PERF: copy the list directly rather than through __iter__ (only a
        # subclass that overrides __iter__ has its own headers to list).
        if type(self).__iter__ is Headers.__iter__:
            return list(self._list)
        return list(self)

    def copy(self) -> t.Self:
        """Return a shallow copy."""
        rv = self.__class__.__new__(self.__class__)
        # PERF: the pairs were validated when added; copying skips the checks.
        rv._list = list(self._list)
        return rv

    def __copy__(self) -> t.Self:
        return self.copy()

    def __str__(self) -> str:
        """Return the headers as an HTTP header block ending in a blank line."""
        lines = [f"{k}: {v}" for k, v in self.to_wsgi_list()]
        lines.append("\r\n")
        return "\r\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


def _immutable(obj: object) -> t.NoReturn:
    raise TypeError(
        f"{type(obj).__name__!r} objects are immutable: they are a view of the"
        " request's WSGI environ. Build a mutable Headers with .copy() to change"
        " headers."
    )


_ENVIRON_PLAIN = frozenset(("CONTENT_TYPE", "CONTENT_LENGTH"))

# PERF: header name -> environ key, remembered per name. The names looked up
# come from code, not from clients; bounded like the name cache anyway.
_environ_keys: dict[str, str] = {}
_ENVIRON_KEYS_MAX = 1024
# PERF: the bound lookup (cleared in place, never replaced; see _valid_names).
_environ_key_get = _environ_keys.get


def _environ_key(key: str) -> str:
    ekey = key.upper().replace("-", "_")
    if ekey not in _ENVIRON_PLAIN:
        ekey = "HTTP_" + ekey
    return cache_put(_environ_keys, _ENVIRON_KEYS_MAX, key, ekey)


_ENVIRON_SKIPPED = frozenset(("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"))


class EnvironHeaders(Headers):
    """A read-only :class:`Headers` view of a WSGI environ's request headers.

    Headers come from the ``HTTP_*`` keys plus ``CONTENT_TYPE`` and
    ``CONTENT_LENGTH`` (when not empty), with names in ``Title-Case``. Every
    mutator raises :exc:`TypeError`.

    :param environ: the WSGI environ (or any dict shaped like one).

    .. note:: Flask compatibility: Werkzeug's ``copy()`` raises
        :exc:`TypeError`; erlen's returns a mutable :class:`Headers`. A missing
        name raises ``BadRequestKeyError`` (a :exc:`KeyError`) in both.
    """

    __slots__ = ("environ",)

    # True while _find is this class's own: get() then inlines it.
    _plain_find: t.ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_find = cls._find is EnvironHeaders._find

    def __init__(self, environ: Mapping[str, t.Any]) -> None:
        self._list = []
        #: The wrapped WSGI environ.
        self.environ = environ

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnvironHeaders):
            return NotImplemented
        return self.environ is other.environ

    __hash__ = None

    def __getitem__(self, key: str) -> str:  # type: ignore[override]
        """Return the value of the header *key*."""
        return self._get_key(key)

    def _get_key(self, key: str) -> str:
        if not isinstance(key, str):
            raise _bad_key(key)
        rv = self._find(key)
        if rv is None:
            raise _bad_key(key)
        return rv

    def _find(self, key: str) -> str | None:
        key_: object = key
        if not isinstance(key_, str):
            return None
        ekey = _environ_key_get(key_)
        if ekey is None:
            ekey = _environ_key(key_)
        return self.environ.get(ekey)

    @t.overload
    def get(self, key: str) -> str | None: ...
    @t.overload
    def get(self, key: str, default: str) -> str: ...
    @t.overload
    def get(self, key: str, default: T) -> str | T: ...
    @t.overload
    def get(self, key: str, *, type: t.Callable[[str], T]) -> T | None: ...
    @t.overload
    def get(self, key: str, default: T, type: t.Callable[[str], T]) -> T: ...
    def get(
        self,
        key: str,
        default: t.Any = None,
        type: t.Callable[[str], t.Any] | None = None,
    ) -> t.Any:
        """Return the value of *key*, converted by *type*, else *default*."""
        if key.__class__ is str and self._plain_find:
            # PERF: _find() inlined: request properties read their headers
            # through here (Content-Length, Content-Type...).
            ekey = _environ_key_get(key)
            if ekey is None:
                ekey = _environ_key(key)
            rv = self.environ.get(ekey)
        else:
            rv = self._find(key)
        if rv is None:
            return default
        if type is None:
            return rv
        try:
            return type(rv)
        except (ValueError, TypeError):
            return default

    @t.overload
    def getlist(self, key: str) -> list[str]: ...
    @t.overload
    def getlist(self, key: str, type: t.Callable[[str], T]) -> list[T]: ...
    def getlist(
        self, key: str, type: t.Callable[[str], t.Any] | None = None
    ) -> list[t.Any]:
        """Return every value of *key* (a WSGI environ holds at most one)."""
        if not isinstance(key, str) or "_" in key:
            # NOTE: "_" and "-" both map to "_" in environ keys; only the
            # full scan tells them apart, as iteration does.
            return super().getlist(key, type)  # type: ignore[arg-type]
        # PERF: one dict lookup instead of title-casing every environ key.
        ekey = _environ_key_get(key)
        if ekey is None:
            ekey = _environ_key(key)
        value = self.environ.get(ekey)
        if value is None or (not value and ekey in _ENVIRON_PLAIN):
            return []
        if type is None:
            return [value]
        try:
            return [type(value)]
        except (ValueError, TypeError):
            return []

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __iter__(self) -> t.Iterator[tuple[str, str]]:
        for key, value in self.environ.items():
            if key.startswith("HTTP_"):
                if key not in _ENVIRON_SKIPPED:
                    yield key[5:].replace("_", "-").title(), value
            elif key in _ENVIRON_PLAIN and value:
                yield key.replace("_", "-").title(), value

    def copy(self) -> Headers:  # type: ignore[override]
        """Return a mutable :class:`Headers` holding the current headers."""
        return Headers(list(self))

    def __copy__(self) -> Headers:  # type: ignore[override]
        return self.copy()

    def __or__(self, other: Mapping[str, t.Any]) -> Headers:  # type: ignore[override]
        rv = self.copy()
        rv.update(other)
        return rv

    def __ior__(self, other: t.Any) -> t.Self:  # type: ignore[misc]
        _immutable(self)

    def __delitem__(self, key: t.Any) -> t.NoReturn:
        _immutable(self)

    def __setitem__(self, key: t.Any, value: t.Any) -> t.NoReturn:
        _immutable(self)

    def set(self, key: t.Any, value: t.Any, /, **kwargs: t.Any) -> t.NoReturn:
        _immutable(self)

    def setlist(self, key: t.Any, values: t.Any) -> t.NoReturn:
        _immutable(self)

    def add(self, key: t.Any, value: t.Any, /, **kwargs: t.Any) -> t.NoReturn:
        _immutable(self)

    def add_header(self, key: t.Any, value: t.Any, /, **kwargs: t.Any) -> t.NoReturn:
        _immutable(self)

    def remove(self, key: t.Any) -> t.NoReturn:
        _immutable(self)

    def extend(self, arg: t.Any = None, /, **kwargs: t.Any) -> t.NoReturn:
        _immutable(self)

    def update(self, arg: t.Any = None, /, **kwargs: t.Any) -> t.NoReturn:
        _immutable(self)

    def pop(self, key: t.Any = None, default: t.Any = _missing) -> t.NoReturn:
        _immutable(self)

    def popitem(self) -> t.NoReturn:
        _immutable(self)

    def setdefault(self, key: t.Any, default: t.Any) -> t.NoReturn:
        _immutable(self)

    def setlistdefault(self, key: t.Any, default: t.Any) -> t.NoReturn:
        _immutable(self)

    def clear(self) -> t.NoReturn:
        _immutable(self)
