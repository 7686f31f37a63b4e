"""Tagged JSON: lossless JSON for tuples, bytes, Markup, UUIDs and datetimes.

The session cookie uses this format, and erlen writes it byte for byte as
Flask does, so a cookie set by either framework can be read by the other.
A non-JSON value ``v`` is written as a one-key object ``{tag_key: json(v)}``;
the keys start with a space so they cannot clash with ordinary identifiers,
and a real one-key dict whose key equals a tag key is escaped with ``" di"``.

To support another type, subclass :class:`JSONTag` and register it::

    class TagFrozenSet(JSONTag):
        __slots__ = ()
        key = " fs"

        def check(self, value):
            return isinstance(value, frozenset)

        def to_json(self, value):
            return [self.serializer.tag(item) for item in value]

        def to_python(self, value):
            return frozenset(value)

    serializer.register(TagFrozenSet)

Pass ``index=0`` when the new type is a special case of a type an existing
tag already matches (an ``OrderedDict`` before plain dicts, for example).
"""

from __future__ import annotations

import json
import sys
import typing as t
from datetime import datetime

from .._parsing import parse_date
from .provider import _default
from .provider import _http_date


def _parse_http_date(value: t.Any) -> datetime | None:
    """Return an HTTP date string as an aware datetime, or ``None`` if invalid."""
    return parse_date(value) if isinstance(value, str) else None


class JSONTag:
    """Base class of the type tags used by :class:`TaggedJSONSerializer`."""

    __slots__ = ("serializer",)

    #: The key marking a tagged value. An empty key means the tag only
    #: transforms values on the way out (like :class:`PassDict`) and is not
    #: looked up when loading.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        #: The serializer this tag belongs to, for tagging nested values.
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Return whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """Return a JSON-serializable form of ``value`` (without the tag)."""
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """Return the Python object for the JSON form (the tag already removed)."""
        raise NotImplementedError

    def tag(self, value: t.Any) -> t.Any:
        """Return ``value`` converted by :meth:`to_json`, wrapped in its tag."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """Escape a one-key dict whose key is a registered tag key.

    The key gets a ``__`` suffix so that loading does not mistake the dict for
    a tagged value; the suffix is removed again on load.
    """

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is a one-key dict whose key is a tag key."""
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: t.Any) -> t.Any:
        """Return the dict with ``__`` appended to its key, value tagged."""
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: t.Any) -> t.Any:
        """Return the dict with the ``__`` suffix removed from its key.

        :raise ValueError: If ``value`` is not a one-key object.
        """
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(
                "Malformed tagged JSON: the ' di' tag expects an object with"
                f" exactly one key, got {value!r} (type {type(value).__name__})."
            )

        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Tag the values of a dict; the dict itself needs no tag in JSON."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is a dict."""
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        """Return the dict with every value tagged."""
        # NOTE: JSON object keys can only be strings, so keys are not tagged.
        tag = self.serializer.tag
        return {k: tag(v) for k, v in value.items()}

    # PERF: no wrapping object, so skip the extra call through JSONTag.tag.
    tag = to_json


class TagTuple(JSONTag):
    """Tag a tuple, written as a JSON array of tagged items."""

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is a tuple."""
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        """Return a list of the tagged items."""
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        """Return the items as a tuple."""
        return tuple(value)


class PassList(JSONTag):
    """Tag the items of a list; the list itself needs no tag in JSON."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is a list."""
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        """Return a list of the tagged items."""
        tag = self.serializer.tag
        return [tag(item) for item in value]

    # PERF: no wrapping object, so skip the extra call through JSONTag.tag.
    tag = to_json


class TagBytes(JSONTag):
    """Tag ``bytes``, written as standard base64 text."""

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is ``bytes``."""
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        """Return the base64 text of the bytes."""
        from base64 import b64encode  # PERF: imported on first use (import time)

        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        """Return the bytes decoded from base64.

        :raise ValueError: If the text is not valid base64.
        """
        from base64 import b64decode  # PERF: imported on first use (import time)

        return b64decode(value)


class TagMarkup(JSONTag):
    """Tag anything with an ``__html__`` method; it loads as ``Markup``."""

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` has a callable ``__html__``."""
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        """Return the string given by ``__html__()``."""
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        """Return the text as :class:`~markupsafe.Markup`."""
        # PERF: imported on first use (import time).
        from markupsafe import Markup

        return Markup(value)


class TagUUID(JSONTag):
    """Tag a :class:`~uuid.UUID`, written as 32 hex digits."""

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is a UUID."""
        # PERF: uuid is imported on first use (import time); a UUID instance
        # means the module is loaded, so an unloaded module answers False.
        uuid = sys.modules.get("uuid")
        return uuid is not None and isinstance(value, uuid.UUID)

    def to_json(self, value: t.Any) -> t.Any:
        """Return the UUID's hex digits."""
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        """Return the UUID for the hex text.

        :raise ValueError: If the text is not a UUID.
        """
        if not isinstance(value, str):
            raise ValueError(
                "Malformed tagged JSON: the ' u' tag expects a string of hex"
                f" digits, got {value!r} (type {type(value).__name__})."
            )

        # PERF: imported on first use (import time).
        from uuid import UUID

        return UUID(value)


class TagDateTime(JSONTag):
    """Tag a :class:`~datetime.datetime`, written as an HTTP date in UTC.

    The precision is one second, and naive datetimes are taken to be UTC;
    loading gives an aware UTC datetime, or ``None`` if the text is not a date.
    """

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        """Return whether ``value`` is a datetime."""
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        """Return the HTTP date text."""
        return _http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        """Return the aware datetime, or ``None`` if the text is not a date."""
        return _parse_http_date(value)


class TaggedJSONSerializer:
    """Serialize to compact JSON that keeps tuples, bytes, Markup, UUIDs and datetimes.

    It is the intermediate serializer handed to :mod:`itsdangerous` for the
    session cookie. Tags are tried in :attr:`order`, first match wins;
    :meth:`register` adds more.

    .. note:: Flask compatibility: output is always the compact, key-sorted,
       ASCII-only JSON that Flask writes inside an application context with
       its default JSON provider.
    """

    __slots__ = ("order", "tags")

    #: The tag classes registered, in this order, on a new serializer.
    default_tags: t.ClassVar[list[type[JSONTag]]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        #: Tags by key, used when loading.
        self.tags: dict[str, JSONTag] = {}
        #: Tags in the order they are tried when dumping.
        self.order: list[JSONTag] = []

        for cls in self.default_tags:
            self.register(cls)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Instantiate ``tag_class`` with this serializer and add it.

        :param tag_class: The tag class.
        :param force: Replace a tag already registered under the same key.
        :param index: Where to insert the tag in :attr:`order`; by default it
            is appended, so it is tried last.
        :raise KeyError: If the key is taken and ``force`` is false.
        """
        tag = tag_class(self)
        key = tag.key

        if key:
            if not force and key in self.tags:
                raise KeyError(
                    f"The tag key {key!r} is already registered (by"
                    f" {type(self.tags[key]).__name__}). Choose another key for"
                    f" {tag_class.__name__}, or pass force=True to replace it."
                )

            self.tags[key] = tag

        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: t.Any) -> t.Any:
        """Return ``value`` in its tagged JSON form (unchanged for JSON types)."""
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)

        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """Return the object a one-key tagged dict stands for, else the dict."""
        if len(value) != 1:
            return value

        key = next(iter(value))
        tag = self.tags.get(key)

        if tag is None:
            return value

        return tag.to_python(value[key])

    def _untag_scan(self, value: t.Any) -> t.Any:
        """Untag ``value`` and, depth first, everything inside it."""
        if isinstance(value, dict):
            scan = self._untag_scan
            return self.untag({k: scan(v) for k, v in value.items()})

        if isinstance(value, list):
            scan = self._untag_scan
            return [scan(item) for item in value]

        return value

    def dumps(self, value: t.Any) -> str:
        """Return ``value`` tagged and dumped to compact JSON.

        :raise TypeError: If a value has no tag and is not JSON serializable,
            or a dict has keys that cannot be sorted.
        """
        return json.dumps(
            self.tag(value),
            default=_default,
            ensure_ascii=True,
            sort_keys=True,
            separators=(",", ":"),
        )

    def loads(self, value: str | bytes) -> t.Any:
        """Return the object for a JSON document written by :meth:`dumps`.

        :raise ValueError: If the document is not valid JSON, or a tagged
            value is malformed.
        """
        return self._untag_scan(json.loads(value))
