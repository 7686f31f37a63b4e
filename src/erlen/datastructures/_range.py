"""``Range`` request headers and ``Content-Range`` response headers."""

from __future__ import annotations

import typing as t

from .._parsing import is_byte_range_valid

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Sequence


class Range:
    """A parsed ``Range`` header: a unit and half-open ``(start, stop)`` ranges.

    ``stop`` is ``None`` for an open range (``500-``); a suffix range (``-500``)
    is stored as ``(-500, None)``. The helper methods serve ``bytes`` and a
    single range only, as most servers do.

    :param units: The range unit, usually ``"bytes"``.
    :param ranges: The ``(start, stop)`` pairs, ``stop`` exclusive.
    :raise ValueError: If a range is empty or reversed.
    """

    __slots__ = ("ranges", "units")

    def __init__(self, units: str, ranges: Sequence[tuple[int, int | None]]) -> None:
        for start, stop in ranges:
            if start is None or (stop is not None and (start < 0 or start >= stop)):
                raise ValueError(
                    f"Invalid range {(start, stop)!r}: expected (start, stop) with"
                    " 0 <= start < stop, (start, None) or (-suffix_length, None)."
                )

        #: The unit, usually ``"bytes"``.
        self.units = units
        #: The ``(start, stop)`` pairs; ``stop`` is exclusive or ``None``.
        self.ranges = ranges

    def range_for_length(self, length: int | None) -> tuple[int, int] | None:
        """Return the satisfiable ``(start, stop)`` for a resource of ``length``.

        :return: ``None`` unless the unit is bytes, the length is known, there is
            exactly one range and it overlaps the resource.
        """
        if self.units != "bytes" or length is None or len(self.ranges) != 1:
            return None

        start, stop = self.ranges[0]

        if stop is None:
            stop = length

            if start < 0:
                start += length

        if is_byte_range_valid(start, stop, length):
            return start, min(stop, length)

        return None

    def make_content_range(self, length: int | None) -> ContentRange | None:
        """Return the :class:`ContentRange` answering this range, or ``None``."""
        found = self.range_for_length(length)

        if found is None:
            return None

        return ContentRange(self.units, found[0], found[1], length)

    def to_header(self) -> str:
        """Return the ``Range`` header value, with inclusive ends."""
        specs = []

        for start, stop in self.ranges:
            if stop is not None:
                specs.append(f"{start}-{stop - 1}")
            elif start >= 0:
                specs.append(f"{start}-")
            else:
                specs.append(str(start))

        return f"{self.units}={','.join(specs)}"

    def to_content_range_header(self, length: int | None) -> str | None:
        """Return the ``Content-Range`` value for ``length``, or ``None``."""
        found = self.range_for_length(length)

        if found is None:
            return None

        return f"{self.units} {found[0]}-{found[1] - 1}/{length}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


class ContentRange:
    """A ``Content-Range`` header; ``on_update`` is called after each change.

    :param units: The unit, usually ``"bytes"``; ``None`` means no header.
    :param start: The first byte, or ``None`` for an unsatisfied range (``*/N``).
    :param stop: The byte after the last one (exclusive), or ``None``.
    :param length: The complete length, or ``None`` if unknown (``*``).
    :param on_update: Called with the object after each change.
    :raise ValueError: If the range is not valid for the length.
    """

    def __init__(
        self,
        units: str | None,
        start: int | None,
        stop: int | None,
        length: int | None = None,
        on_update: Callable[[ContentRange], None] | None = None,
    ) -> None:
        #: Called with the object after each change, or ``None``.
        self.on_update = on_update
        self.set(start, stop, length, units)

    @property
    def units(self) -> str | None:
        """The unit, usually ``"bytes"``; ``None`` if the header is unset."""
        return self._units

    @units.setter
    def units(self, value: str | None) -> None:
        self._units = value
        self._changed()

    @property
    def start(self) -> int | None:
        """The first byte of the range, or ``None``."""
        return self._start

    @start.setter
    def start(self, value: int | None) -> None:
        self._start = value
        self._changed()

    @property
    def stop(self) -> int | None:
        """The byte after the last byte of the range, or ``None``."""
        return self._stop

    @stop.setter
    def stop(self, value: int | None) -> None:
        self._stop = value
        self._changed()

    @property
    def length(self) -> int | None:
        """The complete length of the resource, or ``None`` if unknown."""
        return self._length

    @length.setter
    def length(self, value: int | None) -> None:
        self._length = value
        self._changed()

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def set(
        self,
        start: int | None,
        stop: int | None,
        length: int | None = None,
        units: str | None = "bytes",
    ) -> None:
        """Replace the range, then call ``on_update``.

        :raise ValueError: If the range is not valid for the length.
        """
        if not is_byte_range_valid(start, stop, length):
            raise ValueError(
                f"Invalid content range start={start!r}, stop={stop!r},"
                f" length={length!r}: expected 0 <= start < stop (exclusive) and"
                " start < length, or start and stop both None."
            )

        self._units = units
        self._start = start
        self._stop = stop
        self._length = length
        self._changed()

    def unset(self) -> None:
        """Clear the range and the unit, so that no header is sent."""
        self.set(None, None, units=None)

    def to_header(self) -> str:
        """Return the header value, or ``""`` if the unit is ``None``."""
        if self._units is None:
            return ""

        length = "*" if self._length is None else self._length

        if self._start is None or self._stop is None:
            return f"{self._units} */{length}"

        return f"{self._units} {self._start}-{self._stop - 1}/{length}"

    def __bool__(self) -> bool:
        return self._units is not None

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"
