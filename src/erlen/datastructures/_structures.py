"""Case-insensitive header sets (``Vary``, ``Allow``) and CSP directives."""

from __future__ import annotations

import typing as t
from collections.abc import MutableSet

from .._parsing import quote_header_value
from ._multidict import CallbackDict

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Mapping


class HeaderSet(MutableSet[str]):
    """An ordered, case-insensitive set of header items, like ``Vary`` or ``Allow``.

    Items keep the case and order they were added in; membership ignores case.

    :param headers: The initial items.
    :param on_update: Called with the set after each change.
    """

    def __init__(
        self,
        headers: Iterable[str] | None = None,
        on_update: Callable[[HeaderSet], None] | None = None,
    ) -> None:
        self._headers: list[str] = []
        self._set: set[str] = set()

        for header in headers or ():
            key = header.lower()

            # NOTE: a case-insensitive duplicate is kept out, so that ``len``,
            # iteration and the header agree.
            if key not in self._set:
                self._set.add(key)
                self._headers.append(header)

        #: Called with the set after each change, or ``None``.
        self.on_update = on_update

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def add(self, header: str) -> None:
        """Add ``header`` unless an item equal to it ignoring case is present."""
        self.update((header,))

    def update(self, iterable: Iterable[str]) -> None:
        """Add every item of ``iterable`` that is not present yet."""
        added = False

        for header in iterable:
            key = header.lower()

            if key not in self._set:
                self._set.add(key)
                self._headers.append(header)
                added = True

        if added:
            self._changed()

    def remove(self, header: str) -> None:
        """Remove ``header`` (ignoring case).

        :raise KeyError: If it is not in the set.
        """
        key = header.lower()

        if key not in self._set:
            raise KeyError(header)

        self._set.remove(key)
        del self._headers[self.find(header)]
        self._changed()

    def discard(self, header: str) -> None:
        """Remove ``header`` (ignoring case) if present."""
        if header.lower() in self._set:
            self.remove(header)

    def find(self, header: str) -> int:
        """Return the position of ``header`` (ignoring case), or ``-1``."""
        key = header.lower()

        for position, item in enumerate(self._headers):
            if item.lower() == key:
                return position

        return -1

    def index(self, header: str) -> int:
        """Return the position of ``header`` (ignoring case).

        :raise IndexError: If it is not in the set.
        """
        position = self.find(header)

        if position < 0:
            raise IndexError(f"{header!r} is not in {self!r}.")

        return position

    def clear(self) -> None:
        """Remove every item."""
        self._set.clear()
        self._headers.clear()
        self._changed()

    def as_set(self, preserve_casing: bool = False) -> set[str]:
        """Return the items as a plain set, lowercased unless ``preserve_casing``."""
        if preserve_casing:
            return set(self._headers)

        return set(self._set)

    def to_header(self) -> str:
        """Return the header value: the items, quoted where needed, joined by commas."""
        return ", ".join([quote_header_value(header) for header in self._headers])

    def __getitem__(self, index: t.SupportsIndex) -> str:
        return self._headers[index]

    def __delitem__(self, index: t.SupportsIndex) -> None:
        removed = self._headers.pop(index)
        self._set.discard(removed.lower())
        self._changed()

    def __setitem__(self, index: t.SupportsIndex, value: str) -> None:
        key = value.lower()
        old = self._headers[index]

        if key != old.lower() and key in self._set:
            raise ValueError(
                f"Cannot set item {index} to {value!r}: an item equal to it ignoring"
                f" case is already in {self!r}. Remove that one first."
            )

        self._set.discard(old.lower())
        self._headers[index] = value
        self._set.add(key)
        self._changed()

    def __contains__(self, header: object) -> bool:
        return isinstance(header, str) and header.lower() in self._set

    def __len__(self) -> int:
        return len(self._headers)

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __bool__(self) -> bool:
        return bool(self._headers)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._headers!r})"


def csp_property(key: str) -> t.Any:
    """Return a property reading and writing one CSP directive.

    Subclasses use it to support a directive this class does not know.

    :param key: The directive name, like ``"script-src"``.
    """

    def fget(self: ContentSecurityPolicy) -> str | None:
        return self.get(key)

    def fset(self: ContentSecurityPolicy, value: str | None) -> None:
        if value is None:
            self.pop(key, None)
        else:
            self[key] = value

    def fdel(self: ContentSecurityPolicy) -> None:
        if key in self:
            del self[key]

    return property(fget, fset, fdel, doc=f"The ``{key}`` directive, or ``None``.")


class ContentSecurityPolicy(CallbackDict[str, str]):
    """``Content-Security-Policy`` directives as a dict, with typed properties.

    Directive names use dashes in the dict and underscores in the properties.

    :param values: The ``(directive, value)`` pairs or a mapping.
    :param on_update: Called with the policy after each change.
    """

    base_uri: str | None = csp_property("base-uri")
    child_src: str | None = csp_property("child-src")
    connect_src: str | None = csp_property("connect-src")
    default_src: str | None = csp_property("default-src")
    font_src: str | None = csp_property("font-src")
    form_action: str | None = csp_property("form-action")
    frame_ancestors: str | None = csp_property("frame-ancestors")
    frame_src: str | None = csp_property("frame-src")
    img_src: str | None = csp_property("img-src")
    manifest_src: str | None = csp_property("manifest-src")
    media_src: str | None = csp_property("media-src")
    navigate_to: str | None = csp_property("navigate-to")
    object_src: str | None = csp_property("object-src")
    prefetch_src: str | None = csp_property("prefetch-src")
    plugin_types: str | None = csp_property("plugin-types")
    report_to: str | None = csp_property("report-to")
    report_uri: str | None = csp_property("report-uri")
    sandbox: str | None = csp_property("sandbox")
    script_src: str | None = csp_property("script-src")
    script_src_attr: str | None = csp_property("script-src-attr")
    script_src_elem: str | None = csp_property("script-src-elem")
    style_src: str | None = csp_property("style-src")
    style_src_attr: str | None = csp_property("style-src-attr")
    style_src_elem: str | None = csp_property("style-src-elem")
    upgrade_insecure_requests: str | None = csp_property("upgrade-insecure-requests")
    worker_src: str | None = csp_property("worker-src")

    #: Whether the header was sent (``False`` when built from ``None``).
    provided: bool

    def __init__(
        self,
        values: Mapping[str, str] | Iterable[tuple[str, str]] | None = (),
        on_update: Callable[[ContentSecurityPolicy], None] | None = None,
    ) -> None:
        super().__init__(values, on_update)
        self.provided = values is not None

    def to_header(self) -> str:
        """Return the header value: ``directive value`` pairs joined by ``; ``."""
        return "; ".join([f"{key} {value}" for key, value in self.items()])

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        pairs = " ".join(f"{key}={value!r}" for key, value in sorted(self.items()))
        return f"<{type(self).__name__} {pairs}>"
