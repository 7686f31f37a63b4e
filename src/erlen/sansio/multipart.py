"""Streaming ``multipart/form-data`` decoding with limits, over python-multipart."""

from __future__ import annotations

import logging
import re
import typing as t
from io import BytesIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser as _PushParser

from .._cache import BoundedCache
from .._parsing import parse_options_header
from .._parsing import parse_plain_int
from ..datastructures import FileStorage
from ..datastructures import Headers
from ..exceptions import BadRequest
from ..exceptions import RequestEntityTooLarge

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    class StreamFactory(t.Protocol):
        """Make the writable, seekable container for one uploaded file."""

        def __call__(
            self,
            total_content_length: int | None,
            content_type: str | None,
            filename: str | None,
            content_length: int | None = None,
        ) -> t.IO[bytes]: ...


# RFC 2046 allows 70 characters; python-multipart refuses more than 256, and
# real clients stay far below either. Printable ASCII only: the boundary is
# matched byte for byte, and a CR, LF or NUL in it has no legitimate use.
_BOUNDARY_RE = re.compile(r"[\x20-\x7e]{1,256}")
# Charsets a text part may declare; anything else is decoded as UTF-8. Python
# codecs such as "zip" or "rot13" must never be reachable from a request.
_SAFE_CHARSETS = frozenset({"ascii", "us-ascii", "utf-8", "iso-8859-1"})
# python-multipart logs every malformed body at WARNING level. erlen reports
# the problem as a 400 instead, so a client cannot flood the logs with them.
_QUIET_LOGGER = logging.Logger("erlen.sansio.multipart.python_multipart")
_QUIET_LOGGER.disabled = True


# Parsed (name, filename) of Content-Disposition values seen recently.
_dispositions: BoundedCache[str, tuple[str | None, str | None]] = BoundedCache(512)
# File data is written to its container in pieces of at least this size.
_FILE_FLUSH_SIZE = 256 * 1024


def _bad(message: str) -> BadRequest:
    return BadRequest(f"The multipart/form-data body is malformed: {message}")


def validate_boundary(boundary: str | None) -> bytes:
    """Return the ``boundary`` content-type parameter as bytes, checked.

    :raise BadRequest: If it is missing, empty, too long or not printable ASCII.
    """
    if not boundary:
        raise BadRequest(
            "The multipart/form-data request has no boundary parameter in its"
            " Content-Type header; send e.g. 'multipart/form-data;"
            " boundary=----xyz'."
        )
    if _BOUNDARY_RE.fullmatch(boundary) is None:
        raise BadRequest(
            f"The multipart/form-data boundary {boundary[:80]!r} is invalid: it"
            " must be 1 to 256 printable ASCII characters."
        )
    return boundary.encode("ascii")


def _part_charset(headers: Headers) -> str:
    content_type = headers.get("Content-Type")
    if content_type:
        charset = parse_options_header(content_type)[1].get("charset", "").lower()
        if charset in _SAFE_CHARSETS:
            return charset
    return "utf-8"


class MultipartParser:
    """Decode a ``multipart/form-data`` body fed to it in chunks of any size.

    Text parts are collected in memory and decoded (UTF-8, or a safe charset
    the part declares, with ``errors="replace"``); file parts (those with a
    ``filename`` parameter) are written to a container from ``stream_factory``
    as they arrive, so their size is bounded only by ``max_content_length``.

    Feed chunks with :meth:`receive_data`, then call :meth:`close` for the
    result. Error contract: these two methods raise only
    :exc:`~erlen.exceptions.BadRequest` (malformed body, 400) and
    :exc:`~erlen.exceptions.RequestEntityTooLarge` (a limit, 413); any other
    exception is a bug. After an error, the file containers created so far
    are closed.

    .. note:: Werkzeug compatibility: Werkzeug's parser silently yields an
        empty form for a malformed body; erlen answers 400 with the reason. A
        completely empty body still gives an empty form. Line breaks must be
        CRLF, as RFC 7578 requires (Werkzeug also accepts a bare CR or LF), and
        a part may carry at most 8 header lines of at most 4224 bytes each.

    :param boundary: The boundary, from :func:`validate_boundary`.
    :param stream_factory: Makes the container for each file part.
    :param total_content_length: The request's ``Content-Length``, passed to
        ``stream_factory``.
    :param max_form_memory_size: Largest size of one text part, in bytes.
    :param max_form_parts: Largest number of parts.
    :param defer_container: Call ``stream_factory`` only once a file part
        reaches 256 KiB; a smaller file is returned in a :class:`io.BytesIO`.
        For factories that keep small files in memory anyway (the default).
    """

    def __init__(
        self,
        boundary: bytes,
        stream_factory: StreamFactory,
        *,
        total_content_length: int | None = None,
        max_form_memory_size: int | None = None,
        max_form_parts: int | None = None,
        defer_container: bool = False,
    ) -> None:
        self._delimiter = b"\n--" + boundary
        # An empty part written without the CRLF that should end its (empty)
        # content: "<headers>\r\n\r\n--boundary". Werkzeug's (and so Flask's)
        # test client writes empty files like this, and Werkzeug's parser
        # accepts it; python-multipart would not see the delimiter.
        self._bare_delimiter = b"\r\n\r\n--" + boundary
        self._carry = b""
        self._headers_finished = 0
        self._stream_factory = stream_factory
        self._defer_container = defer_container
        self._file_length: int | None = 0
        self._total_content_length = total_content_length
        self._max_memory = max_form_memory_size
        self._max_parts = max_form_parts
        self._parser = _PushParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )
        self._parser.logger = _QUIET_LOGGER
        # Until the first delimiter is found, input is preamble (RFC 2046
        # allows text before it). The leading LF lets a delimiter at the very
        # start of the body match the same "LF--boundary" pattern.
        self._preamble: bytearray | None = bytearray(b"\n")
        self._seen_data = False
        self._complete = False
        self._parts = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._raw_headers: list[tuple[str, str]] = []
        self._name: str | None = None
        self._filename: str | None = None
        self._headers = Headers()
        self._chunks: list[bytes] = []
        self._size = 0
        self._file_chunks: list[memoryview] = []
        self._file_buffered = 0
        self._container: t.IO[bytes] | None = None
        #: The text parts decoded so far, as ``(name, value)`` pairs.
        self.fields: list[tuple[str | None, str]] = []
        #: The file parts decoded so far, as ``(name, FileStorage)`` pairs.
        self.files: list[tuple[str | None, FileStorage]] = []

    # Feeding ---------------------------------------------------------------

    def receive_data(self, data: bytes, final: bool = False) -> None:
        """Parse the next chunk of the body.

        :param final: No more data follows (an optimisation only: the
            body must still be finished with :meth:`close`).
        """
        if not data or self._complete:
            # NOTE: the epilogue after the closing delimiter is ignored.
            return
        self._seen_data = True
        try:
            if self._preamble is not None:
                data = self._skip_preamble(self._preamble, data)
                if not data:
                    return
            self._write(data, final)
        except FormParserError as e:
            self._cleanup()
            raise _bad(str(e)) from None
        except BaseException:
            self._cleanup()
            raise

    def _write(self, data: bytes, final: bool = False) -> None:
        buffer = self._carry + data if self._carry else data
        write = self._parser.write
        pattern = self._bare_delimiter
        start = 0
        # PERF: one C-level find per chunk; the pattern is rare in real data.
        while (index := buffer.find(pattern, start)) != -1:
            write(buffer[start : index + 2])
            seen = self._headers_finished
            write(buffer[index + 2 : index + 4])
            if self._headers_finished != seen:
                # The CRLF just written ended the part headers, so the
                # delimiter follows with no content and no CRLF: supply it.
                write(b"\r\n")
            start = index + 4
        # Hold back a tail that could be the start of the pattern. The pattern
        # starts with CR, so only a CR near the end can start one. PERF: not
        # for the last chunk (nothing can complete it), whose tail is usually
        # the closing delimiter's CRLF: holding that back would copy the chunk.
        size = len(buffer)
        end = size
        cr = -1 if final else buffer.find(b"\r", max(start, size - len(pattern) + 1))
        while cr != -1:
            if pattern.startswith(buffer[cr:]):
                end = cr
                break
            cr = buffer.find(b"\r", cr + 1)
        # PERF: the usual chunk has no such tail and is written without a copy.
        write(buffer if start == 0 and end == size else buffer[start:end])
        self._carry = buffer[end:] if end != size else b""

    def _skip_preamble(self, buffer: bytearray, data: bytes) -> bytes:
        if buffer == b"\n" and data.startswith(self._delimiter[1:]):
            # PERF: the usual body starts with its delimiter (no preamble):
            # hand it on as it is instead of copying it twice.
            self._preamble = None
            return data
        buffer += data
        index = buffer.find(self._delimiter)
        if index == -1:
            # Keep only a tail that could hold the start of a split delimiter.
            del buffer[: max(0, len(buffer) - len(self._delimiter) + 1)]
            return b""
        self._preamble = None
        return bytes(buffer[index + 1 :])

    def close(
        self,
    ) -> tuple[list[tuple[str | None, str]], list[tuple[str | None, FileStorage]]]:
        """Finish parsing; return the ``(fields, files)`` pairs.

        :raise BadRequest: If the body ended before the closing delimiter.
        """
        if self._carry and not self._complete:
            carry, self._carry = self._carry, b""
            try:
                self._parser.write(carry)
            except FormParserError as e:
                self._cleanup()
                raise _bad(str(e)) from None
        if not self._complete and self._seen_data:
            self._cleanup()
            raise _bad(
                "the body ended before the closing boundary (the request was"
                " truncated, or the boundary parameter does not match the body)."
            )
        return self.fields, self.files

    def parse(
        self, read: Callable[[int], bytes], buffer_size: int = 64 * 1024
    ) -> tuple[list[tuple[str | None, str]], list[tuple[str | None, FileStorage]]]:
        """Read the body with ``read(buffer_size)`` until it returns empty bytes.

        :return: The ``(fields, files)`` pairs, as :meth:`close` returns them.
        """
        data = read(buffer_size)
        while data:
            # PERF: one chunk of look-ahead tells receive_data which chunk is
            # the last one (see _write).
            following = read(buffer_size)
            self.receive_data(data, not following)
            data = following
        return self.close()

    def _cleanup(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        for _, storage in self.files:
            storage.close()

    # python-multipart callbacks --------------------------------------------

    def _on_part_begin(self) -> None:
        self._raw_headers = []

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        # NOTE: python-multipart admits only token characters in the name.
        name = self._header_name.decode("latin-1")
        value = self._header_value.decode("utf-8", "replace").strip(" \t")
        self._raw_headers.append((name, value))
        self._header_name = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        self._headers_finished += 1
        self._parts += 1
        if self._max_parts is not None and self._parts > self._max_parts:
            raise RequestEntityTooLarge(
                f"The multipart/form-data body has more than max_form_parts"
                f" (MAX_FORM_PARTS) of {self._max_parts} parts."
            )
        raw_headers = self._raw_headers
        for _, value in raw_headers:
            if "\n" in value or "\x00" in value or "\r" in value:
                # APPSEC: a NUL or LF inside a part header value; Headers
                # refuses such values everywhere, so the part is refused here.
                raise _bad(
                    f"part {self._parts} has a header value with a control character."
                )
        # PERF: the values were just checked and python-multipart admits only
        # token characters in names, so the write checks are not repeated.
        headers = Headers._from_received(raw_headers)
        disposition = headers.get("Content-Disposition")
        if disposition is None:
            raise _bad(f"part {self._parts} has no Content-Disposition header.")
        self._headers = headers
        # PERF: a form sends the same few Content-Disposition values on every
        # request; their parsed name and filename are kept in a bounded cache.
        parsed = _dispositions.get(disposition)
        if parsed is None:
            options = parse_options_header(disposition)[1]
            parsed = _dispositions.put(
                disposition, (options.get("name"), options.get("filename"))
            )
        self._name, self._filename = parsed
        if self._filename is None:
            self._chunks = []
            self._size = 0
        else:
            declared = headers.get("Content-Length")
            length: int | None = 0
            if declared is not None:
                try:
                    length = parse_plain_int(declared)
                except ValueError:
                    length = 0
            self._file_length = length
            self._file_chunks = []
            self._file_buffered = 0
            if not self._defer_container:
                self._container = self._new_container()

    def _new_container(self) -> t.IO[bytes]:
        return self._stream_factory(
            total_content_length=self._total_content_length,
            content_type=self._headers.get("Content-Type"),
            filename=self._filename,
            content_length=self._file_length,
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._filename is not None:
            # PERF: file data is collected as memoryview slices (no copy) and
            # written in one call per _FILE_FLUSH_SIZE bytes and at the part's
            # end: growing the container by several small writes reallocates
            # (and copies) its buffer each time. The bound keeps large files
            # streaming to the container as they arrive.
            self._file_chunks.append(memoryview(data)[start:end])
            self._file_buffered += end - start
            if self._file_buffered >= _FILE_FLUSH_SIZE:
                self._flush_file()
            return
        self._size += end - start
        if self._max_memory is not None and self._size > self._max_memory:
            raise RequestEntityTooLarge(
                f"The multipart/form-data field {self._name!r} is larger than"
                f" max_form_memory_size (MAX_FORM_MEMORY_SIZE) of"
                f" {self._max_memory} bytes. Send large values as a file part."
            )
        self._chunks.append(data[start:end])

    def _flush_file(self) -> None:
        container = self._container
        if container is None:
            container = self._container = self._new_container()
        chunks = self._file_chunks
        if chunks:
            container.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
            self._file_chunks = []
            self._file_buffered = 0

    def _on_part_end(self) -> None:
        if self._filename is None:
            value = b"".join(self._chunks).decode(
                _part_charset(self._headers), "replace"
            )
            self.fields.append((self._name, value))
            self._chunks = []
            return
        container = self._container
        if container is None:
            # PERF: a file smaller than _FILE_FLUSH_SIZE, with the default
            # factory: a BytesIO over the joined bytes shares them (no second
            # copy, no temporary-file object), as Werkzeug keeps small
            # uploads in a BytesIO.
            container = BytesIO(b"".join(self._file_chunks))
            self._file_chunks = []
            self._file_buffered = 0
        else:
            self._flush_file()
            container.seek(0)
        self._container = None
        self.files.append(
            (
                self._name,
                FileStorage(
                    container, self._filename, self._name, headers=self._headers
                ),
            )
        )

    def _on_end(self) -> None:
        self._complete = True
