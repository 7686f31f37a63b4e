"""Form body parsing: urlencoded and multipart, with memory and part limits."""

from __future__ import annotations

import typing as t
from binascii import a2b_qp

from ..datastructures import MultiDict
from ..datastructures import multidict_from_flat
from ..exceptions import RequestEntityTooLarge
from ..urls import parse_qsl
from ..urls import URL_QUOTE_ERRORS
from ._stream import too_large

if t.TYPE_CHECKING:  # pragma: no cover
    from ..datastructures import FileStorage
    from .multipart import StreamFactory

    ParseResult: t.TypeAlias = tuple[
        t.IO[bytes], MultiDict[str, t.Any], MultiDict[str, t.Any]
    ]

#: File parts up to this size stay in memory; bigger ones go to a temp file.
SPOOL_MAX_SIZE = 500 * 1024
_READ_SIZE = 64 * 1024
#: Largest multipart body read in a single call (see _parse_multipart).
_ONE_READ_MAX = 256 * 1024

# The bulk urlencoded decoding (see _decode_form_fields): every byte that is
# not a separator, deleted to leave the separators alone.
_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b"&=")
# The separators of a form whose every field has one "=": a prefix of this,
# of odd length. Longer forms take the general parser.
_SEPARATOR_RUN = b"=&" * 4096
# Both separators become NUL, "+" a space, "%" the "=" that a2b_qp decodes.
# CR and LF become NUL too: after a "=" they would be a quoted-printable
# soft line break, and as NULs they make the check on the count of parts
# fail instead.
_FORM_TABLE = bytes.maketrans(b"&=+%\r\n", b"\x00\x00 =\x00\x00")


def default_stream_factory(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> t.IO[bytes]:
    """Return a container for one uploaded file.

    PERF: a :class:`~tempfile.SpooledTemporaryFile` keeps small files in memory
    and moves to disk past :data:`SPOOL_MAX_SIZE` (500 KiB).
    """
    from tempfile import SpooledTemporaryFile  # PERF: imported on first use

    return t.cast("t.IO[bytes]", SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE))


class FormDataParser:
    """Parse ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

    Other mimetypes are left alone: :meth:`parse` returns the stream unread and
    empty dicts, so the body stays available as raw data.

    Limits are checked while reading and raise
    :exc:`~erlen.exceptions.RequestEntityTooLarge` (413), naming the limit;
    a malformed multipart body raises :exc:`~erlen.exceptions.BadRequest` (400).

    .. note:: Werkzeug compatibility: Werkzeug 3.1.9 no longer applies
        ``max_form_memory_size`` to urlencoded bodies, and it does not count
        their fields against ``max_form_parts``. erlen does both: an urlencoded
        body is read into memory whole, so it is the body that needs the bound.
        Werkzeug also turns a malformed multipart body into an empty form;
        erlen answers 400.

    :param stream_factory: Makes the container for each uploaded file; see
        :func:`default_stream_factory`.
    :param max_form_memory_size: Largest text part (multipart) or whole body
        (urlencoded), in bytes; None for no limit.
    :param max_content_length: Largest body announced by ``Content-Length``.
        The stream passed to :meth:`parse` must already be limited (the
        request's :attr:`~erlen.sansio.request.Request.stream` is).
    :param cls: The multi-dict class for the results (default
        :class:`~erlen.datastructures.MultiDict`).
    :param silent: Turn a :exc:`ValueError` raised by a parse method into
        empty results, as Werkzeug does. erlen's own parsers raise HTTP errors,
        which are never silenced; this matters for subclasses.
    :param max_form_parts: Largest number of multipart parts or urlencoded
        fields.
    """

    def __init__(
        self,
        stream_factory: StreamFactory | None = None,
        max_form_memory_size: int | None = None,
        max_content_length: int | None = None,
        cls: type[MultiDict[str, t.Any]] | None = None,
        silent: bool = True,
        *,
        max_form_parts: int | None = None,
    ) -> None:
        #: Makes the container for each uploaded file.
        self.stream_factory: StreamFactory = (
            default_stream_factory if stream_factory is None else stream_factory
        )
        #: Largest text part or urlencoded body, in bytes.
        self.max_form_memory_size = max_form_memory_size
        #: Largest body announced by ``Content-Length``, in bytes.
        self.max_content_length = max_content_length
        #: Largest number of parts or fields.
        self.max_form_parts = max_form_parts
        #: The multi-dict class for the results.
        self.cls: type[MultiDict[str, t.Any]] = MultiDict if cls is None else cls
        #: Whether a ValueError from a parse method gives empty results.
        self.silent = silent

    def parse(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> ParseResult:
        """Parse the body in ``stream`` according to ``mimetype``.

        :param stream: The body, already limited to its length.
        :param mimetype: The lowercase mimetype, without parameters.
        :param content_length: The ``Content-Length``, if known.
        :param options: The content-type parameters (``boundary``...).
        :return: ``(stream, form, files)``.
        """
        if mimetype == "multipart/form-data":
            parse_func = self._parse_multipart
        elif mimetype == "application/x-www-form-urlencoded":
            parse_func = self._parse_urlencoded
        else:
            return stream, self.cls(), self.cls()
        if (
            content_length is not None
            and self.max_content_length is not None
            and content_length > self.max_content_length
        ):
            raise too_large(
                self.max_content_length, f"Content-Length is {content_length} bytes"
            )
        try:
            return parse_func(stream, mimetype, content_length, options or {})
        except ValueError:
            if not self.silent:
                raise
        return stream, self.cls(), self.cls()

    def _parse_multipart(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> ParseResult:
        # PERF: imported on first use (import time): the multipart parser is
        # only needed for multipart bodies.
        from .multipart import MultipartParser
        from .multipart import validate_boundary

        parser = MultipartParser(
            validate_boundary(options.get("boundary")),
            self.stream_factory,
            total_content_length=content_length,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            # PERF: the default factory keeps small files in memory; the parser
            # does the same without creating a SpooledTemporaryFile.
            defer_container=self.stream_factory is default_stream_factory,
        )
        # PERF: a body that fits in one small-file buffer is read in one call:
        # one allocation instead of several (large ones also cost page faults
        # each time the allocator hands memory back), and a stream over bytes
        # can return them without a copy. Bigger bodies stream in chunks.
        size = _READ_SIZE
        if content_length is not None and _READ_SIZE < content_length <= _ONE_READ_MAX:
            size = content_length
        fields, files = parser.parse(stream.read, size)
        # NOTE: a part without a name parameter is keyed None, as in Werkzeug.
        return (
            stream,
            self.cls(t.cast("list[tuple[str, str]]", fields)),
            self.cls(t.cast("list[tuple[str, FileStorage]]", files)),
        )

    def _parse_urlencoded(
        self,
        stream: t.IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> ParseResult:
        body = _read_bounded(stream, self.max_form_memory_size, content_length)
        return stream, parse_urlencoded(body, self.max_form_parts, self.cls), self.cls()


def _too_many_fields(limit: int | None) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        "The application/x-www-form-urlencoded body has more fields than"
        f" max_form_parts (MAX_FORM_PARTS) of {limit}."
    )


def parse_urlencoded(
    body: bytes, limit: int | None, cls: type[MultiDict[str, t.Any]]
) -> MultiDict[str, t.Any]:
    """Return the fields of an urlencoded body as a ``cls``.

    Decoded as :func:`~erlen.urls.parse_qsl` decodes query strings.

    :param body: The whole body.
    :param limit: The most fields allowed (``max_form_parts``), or None.
    :param cls: The multi-dict class of the result.
    :raise RequestEntityTooLarge: If there are more than ``limit`` fields (413).
    """
    flat = _decode_form_fields(body) if body.isascii() else None
    if flat is None:
        try:
            items = parse_qsl(body, keep_blank_values=True, max_fields=limit)
        except ValueError:
            raise _too_many_fields(limit) from None
        return cls(items)
    if limit is not None and len(flat) > limit << 1:
        raise _too_many_fields(limit)
    return multidict_from_flat(cls, flat)


def _decode_form_fields(body: bytes) -> list[str] | None:
    """Return ``[name, value, name, value, ...]`` of an ASCII urlencoded body.

    PERF: the usual form (every field has one ``=``, no field is empty) is
    decoded at once by C code instead of field by field: both separators
    become NUL, ``%`` becomes ``=`` and :func:`binascii.a2b_qp` (the
    quoted-printable decoder) decodes the ``=XX`` escapes; splitting the
    UTF-8 text on NUL then gives the names and values in turn. UTF-8 errors
    cannot span a NUL (ASCII), so each part decodes as it would alone.

    Returns None, for :func:`~erlen.urls.parse_qsl`, for any other shape, a
    malformed escape (which a2b_qp would read differently), or a NUL, CR or
    LF in the data (an extra part).
    """
    separators = body.translate(None, _NOT_SEPARATORS)
    if not len(separators) & 1 or not _SEPARATOR_RUN.startswith(separators):
        return None
    raw = a2b_qp(body.translate(_FORM_TABLE))
    # A "%" that does not start an escape stays a "=" in a2b_qp's output,
    # except at the very end, where it is dropped. Without either, every
    # escape was well-formed; with one (or a decoded "%3D"), the lengths
    # tell: a well-formed escape turns 3 bytes into 1, a malformed "%" (a
    # trailing one, "%%", "%zz") loses at most one byte.
    if (body[-1] == 37 or raw.find(b"=") >= 0) and len(raw) + (
        body.count(b"%") << 1
    ) != len(body):
        return None
    parts = raw.decode("utf-8", URL_QUOTE_ERRORS).split("\x00")
    if len(parts) != len(separators) + 1:
        return None
    return parts


def _read_bounded(
    stream: t.IO[bytes], limit: int | None, length: int | None = None
) -> bytes:
    """Read all of ``stream``, raising 413 as soon as it passes ``limit`` bytes.

    ``length`` is the announced body length (the stream is limited to it).
    """
    if limit is None:
        return stream.read()
    chunks = []
    size = 0
    if length is not None and 0 < length <= limit:
        # PERF: the usual form, its whole announced length in one read: no
        # second read to find the end, no join. A short read goes on below.
        data = stream.read(length)
        if len(data) == length:
            return data
        chunks.append(data)
        size = len(data)
    while data := stream.read(_READ_SIZE):
        size += len(data)
        if size > limit:
            raise RequestEntityTooLarge(
                f"The application/x-www-form-urlencoded body is larger than"
                f" max_form_memory_size (MAX_FORM_MEMORY_SIZE) of {limit} bytes."
                " Send large data as multipart/form-data files or as a raw body."
            )
        chunks.append(data)
    return b"".join(chunks)
