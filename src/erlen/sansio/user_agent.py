"""The ``User-Agent`` header as an object that subclasses may teach to parse."""

from __future__ import annotations


class UserAgent:
    """Hold a ``User-Agent`` header value without interpreting it.

    erlen does no browser sniffing, like Werkzeug since 2.1: only :attr:`string`
    is set. A subclass can parse the string and fill in :attr:`platform`,
    :attr:`browser`, :attr:`version` and :attr:`language`; point
    ``Request.user_agent_class`` at it.

    :param string: The header value.
    """

    #: The operating system, if a subclass parsed it.
    platform: str | None = None
    #: The browser name, if a subclass parsed it.
    browser: str | None = None
    #: The browser version, if a subclass parsed it.
    version: str | None = None
    #: The browser language, if a subclass parsed it.
    language: str | None = None

    def __init__(self, string: str) -> None:
        #: The header value as sent.
        self.string: str = string

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.browser}/{self.version}>"

    def __str__(self) -> str:
        return self.string

    def __bool__(self) -> bool:
        # NOTE: true only once a parser found a browser, as in Werkzeug; the
        # base class never does. Test ``.string`` for "was a header sent".
        return bool(self.browser)

    def to_header(self) -> str:
        """Return the value to send as a ``User-Agent`` header."""
        return self.string
