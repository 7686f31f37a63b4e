"""A binary input stream wrapper that never reads past a byte limit."""

from __future__ import annotations

import io
import typing as t

from ..exceptions import ClientDisconnected
from ..exceptions import RequestEntityTooLarge

if t.TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Buffer

#: Size of one read when the whole remaining body is wanted.
_CHUNK_SIZE = 64 * 1024


def too_large(limit: int, seen: str) -> RequestEntityTooLarge:
    """Return the 413 error for a body over ``max_content_length``.

    :param limit: The configured ``max_content_length``.
    :param seen: What was observed, e.g. ``"Content-Length is 900 bytes"``.
    """
    return RequestEntityTooLarge(
        f"The request body is larger than max_content_length (MAX_CONTENT_LENGTH)"
        f" of {limit} bytes: {seen}."
    )


class LimitedStream(io.RawIOBase):
    """Wrap a readable binary stream so that at most ``limit`` bytes are read.

    Two kinds of limit exist, as in Werkzeug:

    - ``is_max=False``: ``limit`` is the ``Content-Length`` the client announced.
      Reading stops there; if the underlying stream ends (or fails) earlier, the
      client went away mid-body and :exc:`~erlen.exceptions.ClientDisconnected`
      (400) is raised.
    - ``is_max=True``: ``limit`` is ``max_content_length`` applied to a body of
      unknown length that the server terminates (chunked encoding). An early end
      of the stream is the normal end of the body. When ``limit`` bytes have been
      read, one more byte is probed: if the body goes on,
      :exc:`~erlen.exceptions.RequestEntityTooLarge` (413) is raised.

    .. note:: Werkzeug compatibility: Werkzeug raises 413 on any read after a
        maximum limit is reached, even when the body ended exactly at the limit,
        and its ``readall`` silently stops at the limit. erlen probes the
        underlying stream instead, so a body of exactly ``limit`` bytes is
        accepted and a longer one always gives 413.

    :param stream: The stream to read from; it needs a ``read(size)`` method.
    :param limit: The number of bytes not to read past.
    :param is_max: Whether ``limit`` is ``max_content_length`` rather than the
        ``Content-Length`` header value.
    """

    def __init__(self, stream: t.IO[bytes], limit: int, is_max: bool = False) -> None:
        if limit < 0:
            raise ValueError(
                f"LimitedStream needs a limit of 0 or more bytes, got {limit!r}."
                " Pass the Content-Length or max_content_length value."
            )
        self._stream = stream
        self._pos = 0
        #: The byte limit this stream enforces.
        self.limit = limit
        self._limit_is_max = is_max

    @property
    def is_exhausted(self) -> bool:
        """Whether the position has reached the limit."""
        return self._pos >= self.limit

    def on_exhausted(self) -> None:
        """Handle a read attempted at the limit.

        For a ``Content-Length`` limit this does nothing (the body is complete).
        For a maximum it reads one more byte: if the body goes on, it raises
        :exc:`~erlen.exceptions.RequestEntityTooLarge`.
        """
        if self._limit_is_max and self._raw_read(1):
            raise too_large(self.limit, "the streamed body went on past it")

    def on_disconnect(self, error: Exception | None = None) -> None:
        """Handle the underlying stream ending or failing before the limit.

        :param error: The exception raised by the underlying read, if any.
        :raise ClientDisconnected: For a ``Content-Length`` limit, or when the
            read failed.
        """
        if not self._limit_is_max:
            raise ClientDisconnected(
                f"The client sent {self._pos} of the {self.limit} bytes announced"
                " by Content-Length; the request body is incomplete."
            )
        if error is not None:
            raise ClientDisconnected(
                f"Reading the request body failed after {self._pos} bytes:"
                f" {type(error).__name__}: {error}"
            )

    def _raw_read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except (OSError, ValueError) as e:
            self.on_disconnect(error=e)
            return b""

    def readinto(self, buffer: Buffer) -> int:
        """Read up to ``len(buffer)`` bytes into ``buffer``; return the count."""
        view = memoryview(buffer).cast("B")
        remaining = self.limit - self._pos
        if remaining <= 0:
            self.on_exhausted()
            return 0
        data = self._raw_read(min(len(view), remaining))
        size = len(data)
        if not size:
            self.on_disconnect()
            return 0
        view[:size] = data
        self._pos += size
        return size

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining bytes if negative or None)."""
        if size is None or size < 0:
            return self.readall()
        remaining = self.limit - self._pos
        if remaining <= 0:
            self.on_exhausted()
            return b""
        # PERF: read straight into bytes instead of going through readinto's
        # bytearray, which RawIOBase.read would allocate and copy.
        data = self._raw_read(min(size, remaining))
        if not data:
            if size:
                self.on_disconnect()
            return b""
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        """Read until the limit or the end of the body; return the bytes."""
        chunks = []
        while True:
            remaining = self.limit - self._pos
            if remaining <= 0:
                self.on_exhausted()
                break
            # PERF: a body under one chunk arrives in a single read call; bigger
            # ones are read in bounded chunks so a lying Content-Length cannot
            # make the server allocate it up front.
            data = self._raw_read(min(remaining, _CHUNK_SIZE))
            if not data:
                self.on_disconnect()
                break
            self._pos += len(data)
            chunks.append(data)
        return b"".join(chunks)

    def exhaust(self) -> bytes:
        """Read and return whatever is left up to the limit."""
        return self.readall()

    def tell(self) -> int:
        """Return the number of bytes read so far."""
        return self._pos

    def readable(self) -> bool:
        """Return True: this stream can be read."""
        return True
