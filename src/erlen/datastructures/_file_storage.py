"""Uploaded files: FileStorage and the FileMultiDict that holds them."""

from __future__ import annotations

import os
import typing as t
from io import BytesIO

from .._parsing import parse_options_header
from .._parsing import parse_plain_int
from ._headers import Headers
from ._multidict import MultiDict


class FileStorage:
    """A file uploaded with a request (or built by hand for tests).

    Attributes that FileStorage does not define are looked up on
    :attr:`stream`, so ``storage.read()`` works like ``storage.stream.read()``.

    :param stream: the file's binary stream; an empty :class:`io.BytesIO` if
        not given.
    :param filename: the client's file name; if not given, the stream's
        ``name`` is used unless it looks like ``<stdin>``.
    :param name: the form field name.
    :param content_type: sets the ``Content-Type`` in :attr:`headers`.
    :param content_length: sets the ``Content-Length`` in :attr:`headers`.
    :param headers: the part's headers; a new :class:`Headers` if not given.
    """

    def __init__(
        self,
        stream: t.IO[bytes] | None = None,
        filename: str | os.PathLike[str] | bytes | None = None,
        name: str | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        #: The form field name.
        self.name = name
        #: The binary stream holding the file's data.
        self.stream: t.IO[bytes] = stream or BytesIO()
        if filename is None:
            filename = getattr(stream, "name", None)
            if isinstance(filename, int):
                # NOTE: a file opened from a descriptor is named by its number.
                filename = None
            if filename is not None:
                filename = os.fsdecode(filename)
                if filename.startswith("<") and filename.endswith(">"):
                    filename = None
        else:
            filename = os.fsdecode(filename)
        #: The file name the client sent, or ``None``.
        self.filename: str | None = filename
        if headers is None:
            headers = Headers()
        #: The headers of the multipart part (or the ones given).
        self.headers = headers
        if content_type is not None:
            headers["Content-Type"] = content_type
        if content_length is not None:
            headers["Content-Length"] = str(content_length)
        self._parsed: tuple[str | None, tuple[str, dict[str, str]]] | None = None

    def _content_type_parts(self) -> tuple[str, dict[str, str]]:
        value = self.content_type
        # NOTE: cache by value so a later change to the headers is seen.
        if self._parsed is None or self._parsed[0] != value:
            self._parsed = (value, parse_options_header(value))
        return self._parsed[1]

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header of the part, if sent."""
        return self.headers.get("Content-Type")

    @property
    def content_length(self) -> int:
        """The ``Content-Length`` header of the part as an int, else ``0``."""
        value = self.headers.get("Content-Length")
        if value is not None:
            try:
                return parse_plain_int(value)
            except ValueError:
                pass
        return 0

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lowercased (``text/html``)."""
        return self._content_type_parts()[0].lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters, e.g. ``{"charset": "utf-8"}``."""
        return self._content_type_parts()[1]

    def save(
        self, dst: str | os.PathLike[str] | t.IO[bytes], buffer_size: int = 16384
    ) -> None:
        """Copy the file's data to a path or a writable binary file object.

        A path is opened, written and closed; a file object is written to and
        left open for the caller to close. Use
        :func:`~erlen.utils.secure_filename` before building a path from
        :attr:`filename`.

        :param dst: a path (str or :class:`os.PathLike`) or a file object.
        :param buffer_size: bytes copied per read.
        """
        import shutil  # PERF: imported on first use (import time)

        if isinstance(dst, (str, os.PathLike)):
            with open(dst, "wb") as f:
                shutil.copyfileobj(self.stream, f, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def close(self) -> None:
        """Close the stream, ignoring errors from an already broken stream."""
        try:
            self.stream.close()
        except Exception:
            pass

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __getattr__(self, name: str) -> t.Any:
        # NOTE: only called for missing attributes. Looking up "stream" here
        # would recurse on a half-built object (copy, unpickling), so refuse.
        if name == "stream" or name.startswith("__"):
            raise AttributeError(name)
        stream = self.stream
        try:
            return getattr(stream, name)
        except AttributeError:
            # A SpooledTemporaryFile keeps its real file in ``_file``.
            inner = getattr(stream, "_file", None)
            if inner is None:
                raise
            return getattr(inner, name)

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(self.stream)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"


class FileMultiDict(MultiDict[str, FileStorage]):
    """A :class:`MultiDict` of :class:`FileStorage` with :meth:`add_file`."""

    def add_file(
        self,
        name: str,
        file: str | os.PathLike[str] | t.IO[bytes] | FileStorage,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Add a file under the field *name*.

        :param file: a :class:`FileStorage` (added as is), a path (opened for
            reading) or a binary file object.
        :param filename: the file name; defaults to the path when given one.
        :param content_type: defaults to a guess from *filename*, else
            ``application/octet-stream``.
        """
        if isinstance(file, FileStorage):
            self.add(name, file)
            return
        if isinstance(file, (str, os.PathLike)):
            if filename is None:
                filename = os.fspath(file)
            stream: t.IO[bytes] = open(file, "rb")
        else:
            stream = t.cast("t.IO[bytes]", file)
        if filename and content_type is None:
            import mimetypes  # PERF: imported on first use (import time)

            content_type = (
                mimetypes.guess_type(filename)[0] or "application/octet-stream"
            )
        self.add(name, FileStorage(stream, filename, name, content_type))
