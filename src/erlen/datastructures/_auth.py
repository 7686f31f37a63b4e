"""``Authorization`` request and ``WWW-Authenticate`` response headers."""

from __future__ import annotations

import typing as t

from .._parsing import dump_header
from .._parsing import parse_dict_header
from .._parsing import quote_header_value
from ._multidict import CallbackDict

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

# Digest parameters that RFC 7616 says are always quoted strings.
_DIGEST_QUOTED = frozenset({"realm", "domain", "nonce", "opaque", "qop"})


def _split_scheme(value: str) -> tuple[str, str]:
    scheme, _, rest = value.partition(" ")
    return scheme.lower(), rest.strip(" \t")


def _is_parameters(rest: str) -> bool:
    # A ``=`` that is not base64 padding at the end means ``key=value`` pairs.
    return "=" in rest.rstrip("=")


class Authorization:
    """The parts of an ``Authorization`` request header.

    A scheme carries either :attr:`parameters` (``Digest``) or a :attr:`token`
    (``Bearer``). ``Basic`` credentials are decoded into the ``username`` and
    ``password`` parameters. ``auth["key"]``, ``auth.key`` and ``auth.get("key")``
    read a parameter (``None`` if absent).

    :param auth_type: The scheme, like ``"basic"`` or ``"bearer"``.
    :param data: The parameters.
    :param token: The token.
    """

    def __init__(
        self,
        auth_type: str,
        data: dict[str, str | None] | None = None,
        token: str | None = None,
    ) -> None:
        #: The scheme, lowercase when parsed: ``basic``, ``digest``, ``bearer``...
        self.type = auth_type
        #: The parameters of a parameter-based scheme.
        self.parameters: dict[str, str | None] = {} if data is None else data
        #: The token of a token-based scheme, or ``None``.
        self.token = token

    def __getattr__(self, name: str) -> str | None:
        if name.startswith("__"):
            # NOTE: keep copy/pickle protocol lookups from landing in parameters.
            raise AttributeError(name)

        return self.parameters.get(name)

    def __getitem__(self, name: str) -> str | None:
        return self.parameters.get(name)

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return a parameter, or ``default`` if it is absent."""
        return self.parameters.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.parameters

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Authorization):
            return NotImplemented

        return (
            other.type == self.type
            and other.token == self.token
            and other.parameters == self.parameters
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_header(cls, value: str | None) -> t.Self | None:
        """Return the parsed header, or ``None`` if it is empty or bad Basic.

        :param value: The header value, like ``Basic dXNlcjpwYXNz``.
        """
        if not value:
            return None

        scheme, rest = _split_scheme(value)

        if scheme == "basic":
            # PERF: imported on first use (import time).
            import base64
            import binascii

            try:
                decoded = base64.b64decode(rest, validate=True).decode()
            except (binascii.Error, UnicodeError):
                return None

            username, _, password = decoded.partition(":")
            return cls(scheme, {"username": username, "password": password})

        if _is_parameters(rest):
            return cls(scheme, parse_dict_header(rest), None)

        return cls(scheme, None, rest)

    def to_header(self) -> str:
        """Return the header value."""
        if self.type == "basic":
            credentials = f"{self.username}:{self.password}".encode()
            import base64  # PERF: imported on first use (import time)

            return "Basic " + base64.b64encode(credentials).decode("ascii")

        if self.token is not None:
            return f"{self.type.title()} {self.token}"

        return f"{self.type.title()} {dump_header(self.parameters)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()}>"


class WWWAuthenticate:
    """The parts of a ``WWW-Authenticate`` response header.

    Like :class:`Authorization`, a scheme carries :attr:`parameters` or a
    :attr:`token`. ``auth["realm"]`` and ``auth.realm`` read, set and delete
    parameters; any change calls the ``on_update`` callback a response installs.

    :param auth_type: The scheme, like ``"basic"``; stored lowercase.
    :param values: The parameters, such as ``{"realm": "admin"}``.
    :param token: The token.
    """

    _type: str
    _parameters: CallbackDict[str, str | None]
    _token: str | None
    _on_update: Callable[[WWWAuthenticate], None] | None

    def __init__(
        self,
        auth_type: str,
        values: dict[str, str | None] | None = None,
        token: str | None = None,
    ) -> None:
        object.__setattr__(self, "_type", auth_type.lower())
        object.__setattr__(self, "_parameters", self._watch(values))
        object.__setattr__(self, "_token", token)
        object.__setattr__(self, "_on_update", None)

    def _watch(
        self, values: dict[str, str | None] | None
    ) -> CallbackDict[str, str | None]:
        return CallbackDict(values, lambda _: self._changed())

    def _changed(self) -> None:
        if self._on_update is not None:
            self._on_update(self)

    @property
    def type(self) -> str:
        """The scheme, like ``basic``, ``digest`` or ``bearer``."""
        return self._type

    @type.setter
    def type(self, value: str) -> None:
        object.__setattr__(self, "_type", value)
        self._changed()

    @property
    def parameters(self) -> dict[str, str | None]:
        """The parameters; changing this dict updates the header."""
        return self._parameters

    @parameters.setter
    def parameters(self, value: dict[str, str | None]) -> None:
        object.__setattr__(self, "_parameters", self._watch(value))
        self._changed()

    @property
    def token(self) -> str | None:
        """The token of a token-based scheme, or ``None``."""
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        object.__setattr__(self, "_token", value)
        self._changed()

    def __getitem__(self, key: str) -> str | None:
        return self._parameters.get(key)

    def __setitem__(self, key: str, value: str | None) -> None:
        if value is None:
            # CallbackDict.pop notifies only if something was removed.
            self._parameters.pop(key, None)
        else:
            self._parameters[key] = value

    def __delitem__(self, key: str) -> None:
        self._parameters.pop(key, None)

    def __getattr__(self, name: str) -> str | None:
        if name.startswith("__"):
            raise AttributeError(name)

        return self._parameters.get(name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        if name in {"type", "parameters", "token", "_on_update"}:
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WWWAuthenticate):
            return NotImplemented

        return (
            other.type == self.type
            and other.token == self.token
            and other.parameters == self.parameters
        )

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return a parameter, or ``default`` if it is absent."""
        return self._parameters.get(key, default)

    @classmethod
    def from_header(cls, value: str | None) -> t.Self | None:
        """Return the parsed header, or ``None`` if it is empty.

        :param value: The header value, like ``Basic realm="admin"``.
        """
        if not value:
            return None

        scheme, rest = _split_scheme(value)

        if _is_parameters(rest):
            return cls(scheme, parse_dict_header(rest), None)

        return cls(scheme, None, rest)

    def to_header(self) -> str:
        """Return the header value."""
        if self._token is not None:
            return f"{self._type.title()} {self._token}"

        if not self._parameters:
            return self._type.title()

        if self._type == "digest":
            items = [
                f"{key}={quote_header_value(value, key not in _DIGEST_QUOTED)}"
                for key, value in self._parameters.items()
            ]
            return "Digest " + ", ".join(items)

        return f"{self._type.title()} {dump_header(self._parameters)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()}>"
