"""Multi-value dicts, immutable containers and the change-notifying CallbackDict."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from ..exceptions import BadRequestKeyError

K = t.TypeVar("K")
V = t.TypeVar("V")
T = t.TypeVar("T")

_missing: t.Any = object()

# NOTE: MultiDict stores ``key -> list of values`` in the dict underneath while
# presenting itself as ``dict[K, V]``; the raw dict methods are reached through
# this untyped alias so the storage type does not leak into the public types.
_raw: t.Any = dict


def _immutable_error(obj: object) -> t.NoReturn:
    raise TypeError(
        f"{type(obj).__name__!r} objects are immutable; make a mutable copy"
        " (for example with .copy() or list(...)) before changing it."
    )


class ImmutableList(list[V]):
    """A list that raises :exc:`TypeError` on every change, hashable like a tuple."""

    _hash_cache: int | None = None

    def __hash__(self) -> int:  # type: ignore[override]
        if self._hash_cache is None:
            self._hash_cache = hash(tuple(self))
        return self._hash_cache

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> t.Any:
        return type(self), (list(self),)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list.__repr__(self)})"

    def __delitem__(self, key: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def __iadd__(self, other: t.Any) -> t.NoReturn:  # type: ignore[misc]
        _immutable_error(self)

    def __imul__(self, other: t.Any) -> t.NoReturn:  # type: ignore[misc]
        _immutable_error(self)

    def __setitem__(self, key: t.Any, value: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def append(self, item: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def remove(self, item: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def extend(self, iterable: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def insert(self, pos: t.Any, value: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def pop(self, index: t.Any = -1) -> t.NoReturn:
        _immutable_error(self)

    def reverse(self) -> t.NoReturn:
        _immutable_error(self)

    def sort(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def clear(self) -> t.NoReturn:
        _immutable_error(self)


class CallbackDict(dict[K, V]):
    """A dict that calls ``on_update(self)`` after every change.

    Subclasses (cache-control, sessions) use the callback to write the changed
    value back to where it came from.

    :param initial: initial items, a mapping or an iterable of pairs.
    :param on_update: called with the dict after each change; ``None`` for none.
    """

    #: The change callback; ``None`` disables notification.
    on_update: Callable[[t.Self], None] | None = None

    def __init__(
        self,
        initial: Mapping[K, V] | Iterable[tuple[K, V]] | None = None,
        on_update: Callable[[t.Self], None] | None = None,
    ) -> None:
        if initial is None:
            super().__init__()
        else:
            super().__init__(initial)
        self.on_update = on_update

    def _changed(self: t.Self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def popitem(self) -> tuple[K, V]:
        rv = super().popitem()
        self._changed()
        return rv

    def setdefault(self, key: K, default: V = None) -> V:  # type: ignore[assignment]
        modified = key not in self
        rv = super().setdefault(key, default)
        if modified:
            self._changed()
        return rv

    @t.overload
    def pop(self, key: K, /) -> V: ...
    @t.overload
    def pop(self, key: K, default: V, /) -> V: ...
    @t.overload
    def pop(self, key: K, default: T, /) -> V | T: ...
    def pop(self, key: K, default: t.Any = _missing, /) -> t.Any:
        modified = key in self
        if default is _missing:
            rv = super().pop(key)
        else:
            rv = super().pop(key, default)
        if modified:
            self._changed()
        return rv

    def update(self, *args: t.Any, **kwargs: V) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def __ior__(self, other: t.Any) -> t.Self:  # type: ignore[override,misc]
        super().update(other)
        self._changed()
        return self


def group_pairs(pairs: Sequence[tuple[K, V]]) -> dict[K, list[V]]:
    """Return each key's values, in order: a MultiDict's internal form.

    The lists are new, so the result can be handed to a MultiDict as it is.
    """
    # PERF: keys rarely repeat, so one comprehension builds the lists; a
    # repeat (the dict came out shorter) is built again, appending.
    lists = {key: [value] for key, value in pairs}
    if len(lists) != len(pairs):
        lists = {}
        for key, value in pairs:
            values = lists.get(key)
            if values is None:
                lists[key] = [value]
            else:
                values.append(value)
    return lists


def _bad_key(key: object) -> BadRequestKeyError:
    """Return the ``BadRequestKeyError`` (400, and a KeyError) for *key*."""
    return BadRequestKeyError(key)


def iter_multi_items(
    mapping: MultiDict[K, V]
    | Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
    | Iterable[tuple[K, V]],
) -> t.Iterator[tuple[K, V]]:
    """Yield every ``(key, value)`` pair of *mapping*, expanding multi-values.

    A :class:`MultiDict` yields all of its values; a plain mapping whose value
    is a list, tuple or set yields one pair per element; any other iterable is
    taken to already be a sequence of pairs.
    """
    if isinstance(mapping, MultiDict):
        yield from mapping.items(multi=True)
    elif isinstance(mapping, Mapping):
        for key, value in mapping.items():
            if isinstance(value, (list, tuple, set)):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from mapping


class TypeConversionDict(dict[K, V]):
    """A dict whose :meth:`get` can convert the value with a ``type`` callable."""

    @t.overload  # type: ignore[override]
    def get(self, key: K) -> V | None: ...
    @t.overload
    def get(self, key: K, default: V) -> V: ...
    @t.overload
    def get(self, key: K, default: T) -> V | T: ...
    @t.overload
    def get(self, key: K, *, type: Callable[[V], T]) -> T | None: ...
    @t.overload
    def get(self, key: K, default: T, type: Callable[[V], T]) -> T: ...
    def get(
        self,
        key: K,
        default: t.Any = None,
        type: Callable[[V], t.Any] | None = None,
    ) -> t.Any:
        """Return the value for *key*, converted by *type*, else *default*.

        :param key: the key to look up.
        :param default: returned when the key is missing or conversion fails.
        :param type: a callable converting the value; a :exc:`ValueError` or
            :exc:`TypeError` it raises makes ``get`` return *default*.
        """
        try:
            rv = self[key]
        except KeyError:
            return default
        if type is None:
            return rv
        try:
            return type(rv)
        except (ValueError, TypeError):
            return default


class _ImmutableDictMixin(t.Generic[K, V]):
    """Turn every mutator of a dict subclass into a :exc:`TypeError`."""

    _hash_cache: int | None = None

    @classmethod
    def fromkeys(cls, keys: Iterable[t.Any], value: t.Any = None) -> t.Any:
        return cls((k, value) for k in keys)  # type: ignore[call-arg]

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> t.Any:
        return type(self), (dict(self),)  # type: ignore[call-overload]

    def _iter_hashitems(self) -> Iterable[t.Any]:
        return self.items()  # type: ignore[attr-defined,no-any-return]

    def __hash__(self) -> int:
        if self._hash_cache is None:
            self._hash_cache = hash(frozenset(self._iter_hashitems()))
        return self._hash_cache

    def __copy__(self) -> t.Self:
        # NOTE: an immutable object is its own shallow copy, like a tuple.
        return self

    def setdefault(self, key: t.Any, default: t.Any = None) -> t.NoReturn:
        _immutable_error(self)

    def update(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def __ior__(self, other: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def pop(self, key: t.Any, default: t.Any = None) -> t.NoReturn:
        _immutable_error(self)

    def popitem(self) -> t.NoReturn:
        _immutable_error(self)

    def __setitem__(self, key: t.Any, value: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def __delitem__(self, key: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def clear(self) -> t.NoReturn:
        _immutable_error(self)


class _ImmutableMultiDictMixin(_ImmutableDictMixin[K, V]):
    """Also turn the multi-value mutators into a :exc:`TypeError`."""

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> t.Any:
        return type(self), (list(self.items(multi=True)),)  # type: ignore[attr-defined]

    def _iter_hashitems(self) -> Iterable[t.Any]:
        return self.items(multi=True)  # type: ignore[attr-defined,no-any-return]

    def add(self, key: t.Any, value: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def popitemlist(self) -> t.NoReturn:
        _immutable_error(self)

    def poplist(self, key: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def setlist(self, key: t.Any, new_list: t.Any) -> t.NoReturn:
        _immutable_error(self)

    def setlistdefault(self, key: t.Any, default_list: t.Any = None) -> t.NoReturn:
        _immutable_error(self)


class ImmutableDict(_ImmutableDictMixin[K, V], dict[K, V]):  # type: ignore[misc]
    """A hashable dict that raises :exc:`TypeError` on every change."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"

    def copy(self) -> dict[K, V]:
        """Return a mutable shallow copy as a plain :class:`dict`."""
        return dict(self)


class ImmutableTypeConversionDict(  # type: ignore[misc]
    _ImmutableDictMixin[K, V], TypeConversionDict[K, V]
):
    """A :class:`TypeConversionDict` that raises :exc:`TypeError` on change."""

    def copy(self) -> TypeConversionDict[K, V]:
        """Return a mutable shallow copy as a :class:`TypeConversionDict`."""
        return TypeConversionDict(self)


class MultiDict(TypeConversionDict[K, V]):
    """A dict that keeps every value given for a key, in order.

    Indexing, :meth:`get`, :meth:`values` and :meth:`items` see the first
    value of each key; :meth:`getlist`, :meth:`lists` and ``items(multi=True)``
    see them all. A missing key raises
    :exc:`~erlen.exceptions.BadRequestKeyError`, a :exc:`KeyError` that
    renders as a 400 response when left unhandled.

    :param mapping: a :class:`MultiDict`, a mapping (list, tuple and set values
        become several values; empty ones are dropped) or an iterable of pairs.
    """

    # NOTE: the dict underneath maps each key to its non-empty list of values,
    # which is what keeps ``isinstance(md, dict)`` and pickling cheap.

    def __init__(
        self,
        mapping: MultiDict[K, V]
        | Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
        | Iterable[tuple[K, V]]
        | None = None,
    ) -> None:
        if mapping.__class__ is list:
            # PERF: a list of pairs (what the query string, cookie and form
            # parsers produce) is the common case; testing it first skips the
            # isinstance checks, the Mapping one being a slow ABC check.
            _raw.__init__(self, group_pairs(mapping))
        elif mapping is None:
            super().__init__()
        elif isinstance(mapping, MultiDict):
            # lists() copies each list; a CombinedMultiDict only has lists().
            _raw.__init__(self, mapping.lists())
        elif isinstance(mapping, Mapping):
            tmp: dict[t.Any, list[t.Any]] = {}
            for key, value in mapping.items():
                if isinstance(value, (list, tuple, set)):
                    if value:
                        tmp[key] = list(value)
                else:
                    tmp[key] = [value]
            super().__init__(tmp)
        else:
            tmp = {}
            for key, value in mapping:
                if key in tmp:
                    tmp[key].append(value)
                else:
                    tmp[key] = [value]
            super().__init__(tmp)

    def __getstate__(self) -> t.Any:
        return dict(self.lists())

    def __setstate__(self, value: t.Any) -> None:
        _raw.clear(self)
        _raw.update(self, value)

    def __iter__(self) -> t.Iterator[K]:
        # NOTE: defining __iter__ stops CPython's dict(md) fast path, which
        # would copy the internal lists instead of calling __getitem__.
        return _raw.__iter__(self)  # type: ignore[no-any-return]

    def __getitem__(self, key: K) -> V:
        """Return the first value for *key*; raise ``BadRequestKeyError`` if none."""
        try:
            lst = _raw.__getitem__(self, key)
        except KeyError:
            raise _bad_key(key) from None
        if lst:
            return lst[0]  # type: ignore[no-any-return]
        raise _bad_key(key)

    # True while __getitem__ is MultiDict's own: get() then reads the value
    # lists itself (a subclass overriding __getitem__ has it called).
    _plain_getitem: t.ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_getitem = cls.__getitem__ is MultiDict.__getitem__

    @t.overload  # type: ignore[override]
    def get(self, key: K) -> V | None: ...
    @t.overload
    def get(self, key: K, default: V) -> V: ...
    @t.overload
    def get(self, key: K, default: T) -> V | T: ...
    @t.overload
    def get(self, key: K, *, type: Callable[[V], T]) -> T | None: ...
    @t.overload
    def get(self, key: K, default: T, type: Callable[[V], T]) -> T: ...
    def get(
        self,
        key: K,
        default: t.Any = None,
        type: Callable[[V], t.Any] | None = None,
    ) -> t.Any:
        """Return the first value for *key*, converted by *type*, else *default*.

        :param type: a callable converting the value; a :exc:`ValueError` or
            :exc:`TypeError` it raises makes ``get`` return *default*.
        """
        if self._plain_getitem:
            # PERF: what self[key] gives, without its call and the KeyError
            # of a missing key (request.args.get is the common read).
            values = _raw.get(self, key)
            if not values:
                return default
            rv = values[0]
        else:
            try:
                rv = self[key]
            except KeyError:
                return default
        if type is None:
            return rv
        try:
            return type(rv)
        except (ValueError, TypeError):
            return default

    def __setitem__(self, key: K, value: V) -> None:
        """Replace all values of *key* with the single *value*."""
        _raw.__setitem__(self, key, [value])

    def add(self, key: K, value: V) -> None:
        """Append *value* to the values of *key*."""
        lst = _raw.get(self, key)
        if lst is None:
            _raw.__setitem__(self, key, [value])
        else:
            lst.append(value)

    @t.overload
    def getlist(self, key: K) -> list[V]: ...
    @t.overload
    def getlist(self, key: K, type: Callable[[V], T]) -> list[T]: ...
    def getlist(self, key: K, type: Callable[[V], t.Any] | None = None) -> list[t.Any]:
        """Return a new list of all values of *key* (empty if missing).

        :param type: convert each value; values whose conversion raises
            :exc:`ValueError` or :exc:`TypeError` are left out.
        """
        rv: list[V] | None = _raw.get(self, key)
        if rv is None:
            return []
        if type is None:
            return list(rv)
        result = []
        for item in rv:
            try:
                result.append(type(item))
            except (ValueError, TypeError):
                pass
        return result

    def setlist(self, key: K, new_list: Iterable[V]) -> None:
        """Replace the values of *key* with a copy of *new_list*."""
        _raw.__setitem__(self, key, list(new_list))

    @t.overload
    def setdefault(self, key: K) -> V | None: ...
    @t.overload
    def setdefault(self, key: K, default: V) -> V: ...
    def setdefault(self, key: K, default: t.Any = None) -> t.Any:
        """Return the first value of *key*, setting it to *default* if missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def setlistdefault(
        self, key: K, default_list: Iterable[V] | None = None
    ) -> list[V]:
        """Return the internal value list of *key*, creating it if missing.

        The list is the live one: appending to it adds values to the dict.
        """
        if key not in self:
            _raw.__setitem__(self, key, list(default_list or ()))
        return _raw.__getitem__(self, key)  # type: ignore[no-any-return]

    def items(self, multi: bool = False) -> t.Iterator[tuple[K, V]]:  # type: ignore[override]
        """Yield ``(key, value)`` pairs: the first value, or every one if *multi*."""
        values: list[V]
        for key, values in _raw.items(self):
            if multi:
                for value in values:
                    yield key, value
            elif values:
                # NOTE: setlist(k, []) and setlistdefault(k) leave an empty
                # list; such a key has no first value to show.
                yield key, values[0]

    def lists(self) -> t.Iterator[tuple[K, list[V]]]:
        """Yield ``(key, values)`` pairs with a fresh list of all values."""
        values: list[V]
        for key, values in _raw.items(self):
            yield key, list(values)

    def values(self) -> t.Iterator[V]:  # type: ignore[override]
        """Yield the first value of each key."""
        values: list[V]
        for values in _raw.values(self):
            if values:
                yield values[0]

    def listvalues(self) -> Iterable[list[V]]:
        """Return a view of the internal value lists, one per key."""
        return _raw.values(self)  # type: ignore[no-any-return]

    def copy(self) -> t.Self:
        """Return a shallow copy (the value lists are new, the values shared)."""
        return self.__class__(self)

    def deepcopy(self, memo: t.Any = None) -> t.Self:
        """Return a deep copy."""
        import copy  # PERF: imported on first use (import time)

        return self.__class__(copy.deepcopy(self.to_dict(flat=False), memo))

    @t.overload
    def to_dict(self, flat: t.Literal[True] = ...) -> dict[K, V]: ...
    @t.overload
    def to_dict(self, flat: t.Literal[False]) -> dict[K, list[V]]: ...
    def to_dict(self, flat: bool = True) -> dict[K, V] | dict[K, list[V]]:
        """Return a plain dict of first values, or of value lists if not *flat*."""
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def update(  # type: ignore[override]
        self,
        mapping: MultiDict[K, V]
        | Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
        | Iterable[tuple[K, V]],
    ) -> None:
        """Add the values of *mapping*, keeping the existing ones (no replace)."""
        for key, value in iter_multi_items(mapping):
            self.add(key, value)

    def __or__(  # type: ignore[override]
        self, other: Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
    ) -> MultiDict[K, V]:
        if not isinstance(other, Mapping):
            return NotImplemented
        rv = self.copy()
        rv.update(other)
        return rv

    def __ior__(  # type: ignore[override]
        self,
        other: Mapping[K, V | list[V] | tuple[V, ...] | set[V]] | Iterable[tuple[K, V]],
    ) -> t.Self:
        if not isinstance(other, (Mapping, Iterable)):
            return NotImplemented
        self.update(other)
        return self

    @t.overload
    def pop(self, key: K) -> V: ...
    @t.overload
    def pop(self, key: K, default: V) -> V: ...
    @t.overload
    def pop(self, key: K, default: T) -> V | T: ...
    def pop(self, key: K, default: t.Any = _missing) -> t.Any:
        """Remove *key* and return its first value (or *default* if missing)."""
        lst = _raw.pop(self, key, _missing)
        if lst is _missing:
            if default is not _missing:
                return default
            raise _bad_key(key)
        if not lst:
            raise _bad_key(key)
        return lst[0]

    def popitem(self) -> tuple[K, V]:
        """Remove an item and return its key and first value."""
        try:
            key, lst = _raw.popitem(self)
        except KeyError as e:
            # NOTE: the key carries dict's "popitem(): dictionary is empty".
            raise _bad_key(e.args[0]) from None
        if not lst:
            raise _bad_key(key)
        return key, lst[0]

    def poplist(self, key: K) -> list[V]:
        """Remove *key* and return all of its values (empty list if missing)."""
        return _raw.pop(self, key, [])  # type: ignore[no-any-return]

    def popitemlist(self) -> tuple[K, list[V]]:
        """Remove an item and return its key and list of values."""
        try:
            return _raw.popitem(self)  # type: ignore[no-any-return]
        except KeyError as e:
            # NOTE: the key carries dict's "popitem(): dictionary is empty".
            raise _bad_key(e.args[0]) from None

    def __copy__(self) -> t.Self:
        return self.copy()

    def __deepcopy__(self, memo: t.Any) -> t.Self:
        return self.deepcopy(memo=memo)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"


class ImmutableMultiDict(_ImmutableMultiDictMixin[K, V], MultiDict[K, V]):  # type: ignore[misc]
    """A hashable :class:`MultiDict` that raises :exc:`TypeError` on change."""

    def copy(self) -> MultiDict[K, V]:  # type: ignore[override]
        """Return a mutable shallow copy as a :class:`MultiDict`."""
        return MultiDict(self)

    def __copy__(self) -> t.Self:
        return self


_new_dict = dict.__new__


def multidict_from_flat(
    cls: type[MultiDict[str, t.Any]], flat: list[str]
) -> MultiDict[str, t.Any]:
    """Return a ``cls`` of the pairs in ``[key, value, key, value, ...]``.

    The same as ``cls(list_of_pairs)``. ``flat`` must have an even length.
    """
    it = iter(flat)
    if cls is ImmutableMultiDict or cls is MultiDict:
        # PERF: the form parser's result, built without the pairs list and
        # the Python-level __init__: one comprehension makes the internal
        # ``key -> [value]`` form when no key repeats (the usual form).
        lists = {key: [value] for key, value in zip(it, it, strict=False)}
        if len(lists) << 1 == len(flat):
            md = _new_dict(cls)
            _raw.__init__(md, lists)
            return md
        it = iter(flat)
    return cls(list(zip(it, it, strict=False)))


class CombinedMultiDict(_ImmutableMultiDictMixin[K, V], MultiDict[K, V]):
    """A read-only :class:`MultiDict` view over several multi-dicts, in order.

    Lookups return the value from the first dict that has the key; list
    operations concatenate the values of all of them.

    :param dicts: the multi-dicts to combine.
    """

    def __init__(self, dicts: Iterable[MultiDict[K, V]] | None = None) -> None:
        super().__init__()
        #: The combined dicts, searched in order.
        self.dicts: list[MultiDict[K, V]] = list(dicts or ())

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> t.Any:
        return type(self), (self.dicts,)

    @classmethod
    def fromkeys(cls, keys: t.Any, value: t.Any = None) -> t.NoReturn:
        raise TypeError(
            f"cannot create {cls.__name__!r} instances by fromkeys; pass a list"
            " of MultiDict objects to the constructor instead."
        )

    def __getitem__(self, key: K) -> V:
        for d in self.dicts:
            if key in d:
                return d[key]
        raise _bad_key(key)

    def get(
        self,
        key: K,
        default: t.Any = None,
        type: Callable[[V], t.Any] | None = None,
    ) -> t.Any:
        """Return the first convertible value for *key* across the dicts."""
        for d in self.dicts:
            if key in d:
                if type is None:
                    return d[key]
                try:
                    return type(d[key])
                except (ValueError, TypeError):
                    continue
        return default

    def getlist(self, key: K, type: Callable[[V], t.Any] | None = None) -> list[t.Any]:
        """Return the values of *key* from every dict, concatenated."""
        rv: list[t.Any] = []
        for d in self.dicts:
            rv.extend(d.getlist(key, type))  # type: ignore[arg-type]
        return rv

    def _keys_impl(self) -> set[K]:
        return {k for d in self.dicts for k in d}

    def keys(self) -> set[K]:  # type: ignore[override]
        """Return the set of keys of all the dicts."""
        return self._keys_impl()

    def __iter__(self) -> t.Iterator[K]:
        return iter(self._keys_impl())

    def items(self, multi: bool = False) -> t.Iterator[tuple[K, V]]:  # type: ignore[override]
        """Yield ``(key, value)`` pairs: first values, or every one if *multi*."""
        found = set()
        for d in self.dicts:
            for key, value in d.items(multi):
                if multi:
                    yield key, value
                elif key not in found:
                    found.add(key)
                    yield key, value

    def values(self) -> t.Iterator[V]:  # type: ignore[override]
        """Yield the first value of each key."""
        for _, value in self.items():
            yield value

    def lists(self) -> t.Iterator[tuple[K, list[V]]]:
        """Yield ``(key, values)`` with the values of all dicts for each key."""
        rv: dict[K, list[V]] = {}
        for d in self.dicts:
            for key, values in d.lists():
                rv.setdefault(key, []).extend(values)
        return iter(rv.items())

    def listvalues(self) -> Iterable[list[V]]:
        """Yield the combined value list of each key."""
        return (x[1] for x in self.lists())

    def copy(self) -> MultiDict[K, V]:  # type: ignore[override]
        """Return a mutable :class:`MultiDict` snapshot of the combined data."""
        return MultiDict(self)

    def __copy__(self) -> t.Self:
        return self

    def __len__(self) -> int:
        return len(self._keys_impl())

    def __contains__(self, key: object) -> bool:
        for d in self.dicts:
            if key in d:
                return True
        return False

    def __eq__(self, other: object) -> bool:
        return dict(self.lists()) == other if isinstance(other, dict) else False

    def __hash__(self) -> int:  # type: ignore[override]
        # NOTE: not cached: the wrapped dicts may change under the view.
        return hash(frozenset(self.items(multi=True)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dicts!r})"
