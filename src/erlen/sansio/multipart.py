"""Streaming ``multipart/form-data`` decoding with limits.

The parser is a push parser: each chunk is searched with ``bytes.find`` for
the next thing that matters (the first delimiter, the blank line ending a
part's headers, the delimiter ending a part's data), so its cost per chunk is
one C-level scan plus a few Python steps per part, never a step per byte.
"""

from __future__ import annotations

import re
import typing as t
from io import BytesIO

from .._cache import cache_put
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


# RFC 2046 allows 70 characters; 256 leaves headroom over every client, as
# python-multipart (which erlen used before) does. Printable ASCII only: the
# boundary is matched byte for byte, and a CR, LF or NUL in it has no
# legitimate use (the parser relies on a delimiter holding one CR only).
_BOUNDARY_RE = re.compile(r"[\x20-\x7e]{1,256}")
# Charsets a text part may declare; anything else is decoded as UTF-8. Python
# codecs such as "zip" or "rot13" must never be reachable from a request.
_SAFE_CHARSETS = frozenset({"ascii", "us-ascii", "utf-8", "iso-8859-1"})
# Part header limits (python-multipart's defaults, kept when erlen replaced
# it): header lines per part, and bytes per line without its CRLF.
_MAX_HEADER_COUNT = 8
_MAX_HEADER_SIZE = 4096 + 128
# The longest header block, its closing blank line included: the parser never
# buffers more than this while it waits for the end of a part's headers.
_MAX_HEADER_BLOCK = _MAX_HEADER_COUNT * (_MAX_HEADER_SIZE + 2) + 2
# RFC 9110 token characters, the only ones allowed in a header name.
_TOKEN_CHARS = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
)
# Transport padding: RFC 2046 allows spaces and tabs after a delimiter.
_NOT_PADDING_RE = re.compile(rb"[^ \t]")

# Parser states.
_PREAMBLE = 0  # Before the first delimiter.
_FIRST = 1  # Just after the first "--boundary": CRLF or "--" must follow.
_HEADERS = 2  # In a part's headers.
_DATA_START = 3  # Just after a part's headers.
_DATA = 4  # In a part's data.
_PADDING = 5  # In the spaces and tabs after a delimiter.
_DONE = 6  # After the closing delimiter: the epilogue is ignored.

# What follows "CRLF--boundary" (see MultipartParser._suffix).
_NOT_DELIMITER = 0
_NEXT_PART = 1
_CLOSE = 2
_PAD = 3
_NEED_MORE = 4

# A part's header block parsed: the header pairs, the name and filename
# parameters of its Content-Disposition, the file's declared Content-Length
# and the charset of a text part.
_Part: t.TypeAlias = tuple[
    tuple[tuple[str, str], ...], str | None, str | None, int | None, str
]
# Header blocks seen recently, parsed; only blocks up to _CACHED_BLOCK_SIZE
# bytes, so the cache holds at most 512 KiB of keys.
_header_blocks: dict[bytes, _Part] = {}
_HEADER_BLOCKS_MAX = 512
_CACHED_BLOCK_SIZE = 1024
# File data is written to its container in pieces of at least this size, or
# once this many pieces are held (APPSEC: a body arriving in tiny chunks would
# otherwise hold an object per chunk, far more memory than its bytes).
_FILE_FLUSH_SIZE = 256 * 1024
_FILE_FLUSH_PIECES = 256


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


def _part_charset(content_type: str | None) -> str:
    if content_type:
        charset = parse_options_header(content_type)[1].get("charset", "").lower()
        if charset in _SAFE_CHARSETS:
            return charset
    return "utf-8"


def _parse_header_block(block: bytes, part: int) -> _Part:
    """Parse and check the header block of the ``part``-th part.

    :raise BadRequest: If a line is malformed or too long, if there are too
        many, or if there is no Content-Disposition header.
    """
    lines = block.split(b"\r\n")
    lines.pop()  # The empty string after the last CRLF.
    if len(lines) > _MAX_HEADER_COUNT:
        raise _bad(f"part {part} has more than {_MAX_HEADER_COUNT} header lines.")
    pairs = []
    for line in lines:
        if len(line) > _MAX_HEADER_SIZE:
            raise _bad(
                f"part {part} has a header line longer than {_MAX_HEADER_SIZE} bytes."
            )
        name, colon, value = line.partition(b":")
        if not colon or not name or name.translate(None, _TOKEN_CHARS):
            raise _bad(
                f"part {part} has a header line with an invalid character in its"
                f" name, or no name and colon: {line[:80]!r}."
            )
        text = value.decode("utf-8", "replace").strip(" \t")
        if "\n" in text or "\x00" in text or "\r" in text:
            # APPSEC: a CR, LF or NUL inside a part header value; Headers
            # refuses such values everywhere, so the part is refused here.
            raise _bad(f"part {part} has a header value with a control character.")
        pairs.append((name.decode("ascii"), text))
    # PERF: names are tokens and values were just checked, so the write checks
    # are not repeated.
    headers = Headers._from_received(pairs)
    disposition = headers.get("Content-Disposition")
    if disposition is None:
        raise _bad(f"part {part} has no Content-Disposition header.")
    options = parse_options_header(disposition)[1]
    filename = options.get("filename")
    length: int | None = 0
    if filename is not None:
        declared = headers.get("Content-Length")
        if declared is not None:
            try:
                length = parse_plain_int(declared)
            except ValueError:
                length = 0
    charset = (
        "utf-8" if filename is not None else _part_charset(headers.get("Content-Type"))
    )
    return tuple(pairs), options.get("name"), filename, length, charset


def _header_block_error(block: bytes, part: int) -> BadRequest:
    """Explain why a header block with no end in sight is refused."""
    if block.count(b"\r\n") >= _MAX_HEADER_COUNT:
        return _bad(f"part {part} has more than {_MAX_HEADER_COUNT} header lines.")
    return _bad(f"part {part} has a header line longer than {_MAX_HEADER_SIZE} bytes.")


class MultipartParser:
    """Decode a ``multipart/form-data`` body fed to it in chunks of any size.

    Text parts are collected in memory and decoded (UTF-8, or a safe charset
    the part declares, with ``errors="replace"``); file parts (those with a
    ``filename`` parameter) are written to a container from ``stream_factory``
    as they arrive, so their size is bounded only by ``max_content_length``.
    The parser itself holds back at most one part's header block (bounded by
    the header limits) or a delimiter's length of data.

    Feed chunks with :meth:`receive_data`, then call :meth:`close` for the
    result. Error contract: these two methods raise only
    :exc:`~erlen.exceptions.BadRequest` (malformed body, 400) and
    :exc:`~erlen.exceptions.RequestEntityTooLarge` (a limit, 413); any other
    exception is a bug (or comes from ``stream_factory`` or a container).
    After an error, the file containers created so far are closed.

    Syntax accepted: an optional preamble, ended by the first line that starts
    with ``--boundary``; each delimiter is ``CRLF--boundary`` followed by CRLF
    (another part), ``--`` (the end; the epilogue after it is ignored) or
    spaces and tabs then CRLF. ``CRLF--boundary`` followed by anything else is
    part data. A part with empty data may also omit the CRLF before its
    delimiter (``<headers>CRLF CRLF--boundary``), as Werkzeug's test client
    writes empty files. Header lines are ``name: value`` with a token name.

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
        #: "--boundary": a line starting with it ends the preamble.
        self._dash_boundary = b"--" + boundary
        #: The delimiter that ends a part's data.
        self._delimiter = b"\r\n--" + boundary
        self._state = _PREAMBLE
        # Bytes held back from the previous chunk: the start of something that
        # needs the next chunk to be recognised (see _feed).
        self._carry = b""
        # How far the held-back header block was searched already.
        self._scanned = 0
        # Chunks that followed an unfinished header block and cannot end it,
        # their total size, and the last 3 bytes held (see _hold_header_chunk).
        self._more: list[bytes] = []
        self._more_size = 0
        self._tail = b""
        self._at_start = True
        self._seen_data = False
        self._stream_factory = stream_factory
        self._defer_container = defer_container
        self._file_length: int | None = 0
        self._total_content_length = total_content_length
        self._max_memory = max_form_memory_size
        self._max_parts = max_form_parts
        self._parts = 0
        self._name: str | None = None
        self._filename: str | None = None
        self._headers = Headers()
        self._charset = "utf-8"
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

        :param final: No more data follows. Accepted for compatibility; the
            body must still be finished with :meth:`close`.
        """
        if not data or self._state == _DONE:
            # NOTE: the epilogue after the closing delimiter is ignored.
            return
        self._seen_data = True
        if self._carry:
            if self._state == _HEADERS and self._hold_header_chunk(data):
                return
            # PERF: only a chunk that follows a held-back tail is copied; the
            # tail is short except in the rare chunk that ends a header block.
            data = self._carry + data
            self._carry = b""
        try:
            self._feed(data)
        except BaseException:
            self._cleanup()
            raise

    def _hold_header_chunk(self, data: bytes) -> bool:
        """Set ``data`` aside if it cannot end the unfinished header block.

        APPSEC: joining each small chunk to a long unfinished block would copy
        the block every time, a cost quadratic in the number of chunks; the
        chunks are joined once instead, when the block can end or gets too
        long.
        """
        carry = self._carry
        held = len(carry) + self._more_size
        tail = self._tail if self._more else carry[-3:]
        if (
            # Too short to rule out a block that starts with its blank line.
            len(carry) < 2
            or held + len(data) >= _MAX_HEADER_BLOCK
            or b"\r\n\r\n" in tail + data[:3]
            or data.find(b"\r\n\r\n") != -1
        ):
            if self._more:
                self._carry = b"".join([carry, *self._more])
                self._scanned = held
                self._more = []
                self._more_size = 0
            return False
        self._more.append(data)
        self._more_size += len(data)
        self._tail = (tail + data)[-3:]
        return True

    def _feed(self, buf: bytes) -> None:
        # Each step handles the input from ``pos`` in the current state and
        # returns where the next step starts, or -1 once it has consumed or
        # held back the rest of ``buf``.
        steps = self._steps
        size = len(buf)
        pos = 0
        while 0 <= pos < size:
            pos = steps[self._state](self, buf, pos)

    def _step_data(self, buf: bytes, pos: int) -> int:
        delimiter = self._delimiter
        search = pos
        while True:
            # PERF: the one scan of a part's data per chunk.
            index = buf.find(delimiter, search)
            if index == -1:
                # Hold back a tail that could start a delimiter split across
                # chunks. A delimiter holds a single CR (its first byte), so
                # only the last CR can start one.
                size = len(buf)
                end = size
                cr = buf.rfind(b"\r", max(search, size - len(delimiter) + 1))
                if cr != -1 and delimiter.startswith(buf[cr:]):
                    end = cr
                    self._carry = buf[cr:]
                if end > pos:
                    self._on_data(buf, pos, end)
                return -1
            after = index + len(delimiter)
            # PERF: the usual delimiter, followed by CRLF, without a call.
            kind = (
                _NEXT_PART
                if buf.startswith(b"\r\n", after)
                else self._suffix(buf, after)
            )
            if kind != _NOT_DELIMITER:
                break
            # RFC 2046 forbids this in data, but it is not a delimiter.
            search = index + 1
        if index > pos:
            self._on_data(buf, pos, index)
        if kind == _NEED_MORE:
            self._carry = buf[index:]
            return -1
        self._end_part()
        if kind == _NEXT_PART:
            self._state = _HEADERS
            return after + 2
        return self._after_delimiter(kind, after)

    def _step_headers(self, buf: bytes, pos: int) -> int:
        if buf.startswith(b"\r\n", pos):
            # A part without headers (refused below: it has no
            # Content-Disposition).
            end = pos
        else:
            # PERF: resume where the previous chunk's search stopped.
            scanned = self._scanned
            start = pos + scanned - 3 if scanned > 3 else pos
            end = buf.find(b"\r\n\r\n", start, pos + _MAX_HEADER_BLOCK)
            if end == -1:
                if len(buf) - pos >= _MAX_HEADER_BLOCK:
                    raise _header_block_error(
                        buf[pos : pos + _MAX_HEADER_BLOCK], self._parts + 1
                    )
                self._carry = buf[pos:]
                self._scanned = len(buf) - pos
                return -1
            end += 2
        self._scanned = 0
        self._on_headers(buf[pos:end])
        self._state = _DATA_START
        return self._step_data_start(buf, end + 2)

    def _step_data_start(self, buf: bytes, pos: int) -> int:
        # Werkzeug's test client writes an empty part without the CRLF that
        # ends its data: "<headers>CRLF CRLF--boundary". So "--boundary" right
        # after the headers can be a delimiter.
        dash_boundary = self._dash_boundary
        if buf.startswith(dash_boundary, pos):
            after = pos + len(dash_boundary)
            kind = self._suffix(buf, after)
            if kind == _NEED_MORE:
                self._carry = buf[pos:]
                return -1
            if kind != _NOT_DELIMITER:
                self._end_part()
                return self._after_delimiter(kind, after)
        elif len(buf) - pos < len(dash_boundary) and dash_boundary.startswith(
            buf[pos:]
        ):
            self._carry = buf[pos:]
            return -1
        self._state = _DATA
        return pos

    def _step_padding(self, buf: bytes, pos: int) -> int:
        padding_end = _NOT_PADDING_RE.search(buf, pos)
        if padding_end is None:
            return -1
        pos = padding_end.start()
        if buf.startswith(b"\r\n", pos):
            self._state = _HEADERS
            return pos + 2
        if pos == len(buf) - 1 and buf[pos] == 13:  # CR
            self._carry = buf[pos:]
            return -1
        raise _bad(
            f"the delimiter after part {self._parts} is followed by something"
            " other than spaces, tabs and CRLF."
        )

    def _step_preamble(self, buf: bytes, pos: int) -> int:
        dash_boundary = self._dash_boundary
        if self._at_start:
            # The usual body starts with its first delimiter.
            if len(buf) < len(dash_boundary) and dash_boundary.startswith(buf):
                self._carry = buf
                return -1
            self._at_start = False
            if buf.startswith(dash_boundary):
                self._state = _FIRST
                return len(dash_boundary)
        # RFC 2046 allows text before the first delimiter, which starts a line.
        line_start = b"\n" + dash_boundary
        index = buf.find(line_start, pos)
        if index == -1:
            # Keep only a tail that could start a split delimiter.
            self._carry = buf[max(pos, len(buf) - len(line_start) + 1) :]
            return -1
        self._state = _FIRST
        return index + len(line_start)

    def _step_first(self, buf: bytes, pos: int) -> int:
        follow = buf[pos : pos + 2]
        if follow == b"\r\n":
            self._state = _HEADERS
            return pos + 2
        if follow == b"--":
            self._state = _DONE
            return -1
        if follow == b"\r" or follow == b"-":
            self._carry = follow
            return -1
        raise _bad(
            "the first boundary is not followed by CRLF (the boundary parameter"
            " may not match the body)."
        )

    def _suffix(self, buf: bytes, after: int) -> int:
        """Tell what the bytes after a possible delimiter at ``after`` make it."""
        follow = buf[after : after + 2]
        if follow == b"\r\n":
            return _NEXT_PART
        if follow == b"--":
            return _CLOSE
        if not follow:
            return _NEED_MORE
        first = follow[0]
        if first == 32 or first == 9:  # space, tab
            return _PAD
        if len(follow) == 1 and (first == 13 or first == 45):  # CR, "-"
            return _NEED_MORE
        return _NOT_DELIMITER

    def _after_delimiter(self, kind: int, after: int) -> int:
        """Enter the state after a delimiter of ``kind``; return the position."""
        if kind == _NEXT_PART:
            self._state = _HEADERS
            return after + 2
        if kind == _CLOSE:
            self._state = _DONE
            return -1
        self._state = _PADDING
        return after

    # The step for each state, indexed by state (_DONE never reaches _feed).
    _steps: t.ClassVar[tuple[Callable[[MultipartParser, bytes, int], int], ...]] = (
        _step_preamble,
        _step_first,
        _step_headers,
        _step_data_start,
        _step_data,
        _step_padding,
    )

    def close(
        self,
    ) -> tuple[list[tuple[str | None, str]], list[tuple[str | None, FileStorage]]]:
        """Finish parsing; return the ``(fields, files)`` pairs.

        :raise BadRequest: If the body ended before the closing delimiter.
        """
        if self._state != _DONE and self._seen_data:
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
        while data := read(buffer_size):
            self.receive_data(data)
        return self.close()

    def _cleanup(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        for _, storage in self.files:
            storage.close()

    # Parts -----------------------------------------------------------------

    def _on_headers(self, block: bytes) -> None:
        """Start a part from its header block (the lines, each with its CRLF)."""
        self._parts += 1
        if self._max_parts is not None and self._parts > self._max_parts:
            raise RequestEntityTooLarge(
                f"The multipart/form-data body has more than max_form_parts"
                f" (MAX_FORM_PARTS) of {self._max_parts} parts."
            )
        # PERF: a form sends the same few header blocks on every request;
        # what they parse to is kept in a bounded cache (small blocks only).
        part = _header_blocks.get(block)
        if part is None:
            part = _parse_header_block(block, self._parts)
            if len(block) <= _CACHED_BLOCK_SIZE:
                cache_put(_header_blocks, _HEADER_BLOCKS_MAX, block, part)
        pairs, self._name, self._filename, self._file_length, self._charset = part
        # A new list: the part's Headers can be changed by the application.
        self._headers = Headers._from_received(list(pairs))
        if self._filename is None:
            self._chunks = []
            self._size = 0
        else:
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

    def _on_data(self, data: bytes, start: int, end: int) -> None:
        if self._filename is not None:
            # PERF: file data is collected as memoryview slices (no copy) and
            # written in one call per _FILE_FLUSH_SIZE bytes and at the part's
            # end: growing the container by several small writes reallocates
            # (and copies) its buffer each time. The bounds keep large files
            # streaming to the container as they arrive.
            chunks = self._file_chunks
            chunks.append(memoryview(data)[start:end])
            self._file_buffered += end - start
            if (
                self._file_buffered >= _FILE_FLUSH_SIZE
                or len(chunks) >= _FILE_FLUSH_PIECES
            ):
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

    def _end_part(self) -> None:
        if self._filename is None:
            value = b"".join(self._chunks).decode(self._charset, "replace")
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
