"""Entity-tag sets (``If-Match``, ``If-None-Match``) and ``If-Range``."""

from __future__ import annotations

import typing as t

from .._parsing import generate_etag
from .._parsing import http_date
from .._parsing import quote_etag
from .._parsing import unquote_etag

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable
    from collections.abc import Iterator
    from datetime import datetime


class ETags:
    """A set of entity tags, strong and weak, or the ``*`` wildcard.

    ``in``, :meth:`contains`, iteration and ``len()`` use the strong tags only
    (the strong comparison of RFC 9110 13.1.1); :meth:`contains_weak` uses both.

    :param strong_etags: Unquoted strong tags.
    :param weak_etags: Unquoted weak tags.
    :param star_tag: The header was ``*``, which matches any tag.
    """

    __slots__ = ("_strong", "_weak", "star_tag")

    def __init__(
        self,
        strong_etags: Iterable[str] | None = None,
        weak_etags: Iterable[str] | None = None,
        star_tag: bool = False,
    ) -> None:
        self._strong = frozenset(strong_etags or ()) if not star_tag else frozenset()
        self._weak = frozenset(weak_etags or ())
        #: Whether the header was ``*``.
        self.star_tag = star_tag

    def as_set(self, include_weak: bool = False) -> set[str]:
        """Return the strong tags (and the weak ones if asked) as a new set."""
        if include_weak:
            return set(self._strong | self._weak)

        return set(self._strong)

    def is_weak(self, etag: str) -> bool:
        """Return whether ``etag`` is one of the weak tags."""
        return etag in self._weak

    def is_strong(self, etag: str) -> bool:
        """Return whether ``etag`` is one of the strong tags."""
        return etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """Return whether ``etag`` matches with the weak comparison."""
        return etag in self._weak or self.contains(etag)

    def contains(self, etag: str) -> bool:
        """Return whether ``etag`` matches with the strong comparison (or ``*``)."""
        return self.star_tag or etag in self._strong

    def contains_raw(self, etag: str) -> bool:
        """Return whether a quoted tag (``"x"`` or ``W/"x"``) is in the set.

        A weak tag is compared weakly, a strong one strongly.
        """
        if not etag:
            return self.star_tag

        tag, weak = unquote_etag(etag)

        if weak:
            return self.contains_weak(tag)

        return self.contains(tag)

    def to_header(self) -> str:
        """Return the header value: ``*``, or the quoted tags joined by commas."""
        if self.star_tag:
            return "*"

        return ", ".join(
            [f'"{tag}"' for tag in self._strong] + [f'W/"{tag}"' for tag in self._weak]
        )

    def __call__(
        self,
        etag: str | None = None,
        data: bytes | None = None,
        include_weak: bool = False,
    ) -> bool:
        """Return whether ``etag`` (or the tag generated for ``data``) is in the set.

        :raise TypeError: If neither ``etag`` nor ``data`` is given.
        """
        if etag is None:
            if data is None:
                raise TypeError(
                    "ETags() needs an 'etag' or the 'data' to generate one from;"
                    " neither was given."
                )

            etag = generate_etag(data)

        if include_weak and etag in self._weak:
            return True

        return etag in self._strong

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def __str__(self) -> str:
        return self.to_header()

    def __len__(self) -> int:
        return len(self._strong)

    def __iter__(self) -> Iterator[str]:
        return iter(self._strong)

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ETags):
            return NotImplemented

        return (
            self.star_tag == other.star_tag
            and self._strong == other._strong
            and self._weak == other._weak
        )

    def __hash__(self) -> int:
        return hash((self.star_tag, self._strong, self._weak))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


class IfRange:
    """A parsed ``If-Range`` header: an entity tag, a date, or neither.

    :param etag: The unquoted tag (ranges always compare strongly).
    :param date: The aware datetime.
    """

    __slots__ = ("date", "etag")

    def __init__(self, etag: str | None = None, date: datetime | None = None) -> None:
        #: The unquoted entity tag, or ``None``.
        self.etag = etag
        #: The date, or ``None``.
        self.date = date

    def to_header(self) -> str:
        """Return the header value, or ``""`` if there is neither tag nor date."""
        if self.date is not None:
            return http_date(self.date)

        if self.etag is not None:
            if '"' in self.etag:
                # A client's If-Range that is no entity tag (one has no
                # double quote inside): as sent, not a ValueError (a 500 in
                # any view that prints it). It still matches no ETag.
                return self.etag
            return quote_etag(self.etag)

        return ""

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"
