"""URL converters: turn one matched piece of a path into a Python value and back."""

from __future__ import annotations

import math
import re
import typing as t
from urllib.parse import quote

from .exceptions import ValidationError

if t.TYPE_CHECKING:  # pragma: no cover
    import uuid

    from .map import Map

#: Characters left unquoted in a path segment (WHATWG "path-percent-encode set").
_SEGMENT_SAFE = "!$&'()*+,/:;=@"

# APPSEC: ASCII digits only. ``\d`` would accept fullwidth or Arabic-Indic
# digits, which ``int()`` and ``float()`` then happily convert, so two very
# different-looking URLs would reach the same resource.
_INT_RE = "[0-9]+"
_FLOAT_RE = r"[0-9]+\.[0-9]+"
_FLOAT_VALUE = re.compile(r"-?[0-9]+\.[0-9]+")


def quote_segment(value: str) -> str:
    """Return *value* percent-encoded for use inside a URL path.

    :param value: the text to encode; ``/`` and the sub-delimiters stay as is.
    """
    return quote(value, safe=_SEGMENT_SAFE)


class BaseConverter:
    """Base class for URL converters.

    Subclasses set :attr:`regex` (what one variable matches),
    :attr:`weight` (lower sorts first when several rules could match) and
    override :meth:`to_python` / :meth:`to_url`. A ``regex`` containing ``/``
    makes the converter non part-isolating unless the subclass says otherwise.
    """

    #: The regular expression a value must match (no anchors, no flags).
    regex = "[^/]+"
    #: Sort weight among dynamic parts: lower is tried first.
    weight = 100
    #: Whether a value stays inside one path segment (cannot contain ``/``).
    part_isolating = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # NOTE: a subclass defining its own regex but not part_isolating gets
        # part_isolating derived from the regex, as Werkzeug 2.3+ does.
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
        #: The :class:`~erlen.routing.Map` this converter belongs to.
        self.map = map

    def to_python(self, value: str) -> t.Any:
        """Return the Python value for the matched URL text *value*.

        Raise :exc:`~erlen.routing.ValidationError` to reject the match.
        """
        return value

    def to_url(self, value: t.Any) -> str:
        """Return *value* as percent-encoded URL text."""
        return quote(str(value), safe=_SEGMENT_SAFE)


class UnicodeConverter(BaseConverter):
    """Match any text inside one path segment (the ``default``/``string`` converter).

    :param minlength: the minimum length, at least 1.
    :param maxlength: the maximum length, or ``None`` for no limit.
    :param length: an exact length; overrides the other two.
    """

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            quantifier = f"{{{int(length)}}}"
        else:
            upper = "" if maxlength is None else str(int(maxlength))
            quantifier = f"{{{int(minlength)},{upper}}}"
        self.regex = f"[^/]{quantifier}"


class AnyConverter(BaseConverter):
    """Match one of a fixed set of strings: ``<any(about, help, "a,b"):page>``.

    :param items: the accepted values.
    """

    def __init__(self, map: Map, *items: str) -> None:
        super().__init__(map)
        self.items = set(items)
        self.regex = f"(?:{'|'.join([re.escape(x) for x in items])})"

    def to_url(self, value: t.Any) -> str:
        """Return *value* unchanged if it is one of the items, else raise ValueError."""
        if value in self.items:
            return str(value)
        valid = ", ".join(f"'{item}'" for item in sorted(self.items))
        raise ValueError(
            f"{value!r} is not one of {valid}: pass one of the values listed in"
            " the rule's any(...) converter."
        )


class PathConverter(BaseConverter):
    """Like the default converter, but also matches ``/`` (``<path:name>``)."""

    part_isolating = False
    regex = "[^/].*?"
    weight = 200


class NumberConverter(BaseConverter):
    """Shared base of :class:`IntegerConverter` and :class:`FloatConverter`."""

    weight = 50
    num_convert: t.Callable[[t.Any], t.Any] = int

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        if signed:
            self.regex = self.signed_regex
        super().__init__(map)
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed

    def _check_text(self, value: str) -> None:
        """Raise ValidationError unless *value* is plain ASCII digits (and sign)."""
        digits = value[1:] if self.signed and value[:1] == "-" else value
        if not (digits.isascii() and digits.isdigit()):
            raise ValidationError()

    def to_python(self, value: str) -> t.Any:
        """Return the number in *value*, or raise ValidationError if out of range."""
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        self._check_text(value)
        try:
            number = self.num_convert(value)
        except ValueError as e:
            # NOTE: int() refuses more than sys.get_int_max_str_digits() digits.
            raise ValidationError() from e
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValidationError()
        return number

    def to_url(self, value: t.Any) -> str:
        """Return *value* as a number string, zero-padded to ``fixed_digits``."""
        text = str(self.num_convert(value))
        if self.fixed_digits:
            text = text.zfill(self.fixed_digits)
        return text

    @property
    def signed_regex(self) -> str:
        """Return :attr:`regex` with an optional leading minus sign."""
        return f"-?{self.regex}"


class IntegerConverter(NumberConverter):
    """Match a non-negative integer (``<int:n>``); ``signed=True`` allows ``-``.

    :param fixed_digits: exact number of digits (``4`` matches ``0001``).
    :param min: the smallest accepted value.
    :param max: the largest accepted value.
    :param signed: accept negative values.
    """

    regex = _INT_RE


class FloatConverter(NumberConverter):
    """Match a decimal number with a dot, like ``1.5`` (``<float:x>``).

    :param min: the smallest accepted value.
    :param max: the largest accepted value.
    :param signed: accept negative values.
    """

    regex = _FLOAT_RE
    num_convert = float

    def __init__(
        self,
        map: Map,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)  # type: ignore[arg-type]

    def _check_text(self, value: str) -> None:
        """Raise ValidationError unless *value* is ASCII ``digits.digits``."""
        if (
            not value.isascii()
            or _FLOAT_VALUE.fullmatch(value) is None
            or (value[0] == "-" and not self.signed)
        ):
            raise ValidationError()

    def to_python(self, value: str) -> t.Any:
        """Return the float in *value*; a value overflowing to infinity is rejected."""
        number = super().to_python(value)
        # APPSEC: "1" * 400 + ".0" parses to inf; never hand that to a view.
        if not math.isfinite(number):
            raise ValidationError()
        return number


class UUIDConverter(BaseConverter):
    """Match a UUID in its canonical 8-4-4-4-12 hex form (``<uuid:id>``)."""

    regex = (
        r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-"
        r"[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"
    )

    def to_python(self, value: str) -> uuid.UUID:
        """Return a :class:`uuid.UUID` for *value*."""
        import uuid  # PERF: imported on first use (import time)

        try:
            return uuid.UUID(value)
        except ValueError as e:
            raise ValidationError() from e

    def to_url(self, value: uuid.UUID) -> str:
        """Return the canonical text of *value*."""
        return str(value)


#: The converters every map starts with, by name.
DEFAULT_CONVERTERS: t.Mapping[str, type[BaseConverter]] = {
    "default": UnicodeConverter,
    "string": UnicodeConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
