"""File responses: ``send_file`` and ``send_from_directory``, with a lazy file body."""

from __future__ import annotations

import io
import os
import typing as t
from time import time
from urllib.parse import quote
from zlib import adler32

from ..datastructures import Headers
from ..exceptions import NotFound
from ..exceptions import RequestedRangeNotSatisfiable
from ..http import dump_options_header
from ..http import http_date
from ..http import quote_etag
from ..security import safe_join
from .response import _RangeIterator
from .response import Response

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Iterator
    from datetime import datetime

#: How many bytes a :class:`FileBody` reads at a time.
CHUNK_SIZE = 64 * 1024

# RFC 5987 attr-char, less the alphanumerics quote() always keeps.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


class FileBody:
    """A response body that streams an open binary file, chunk by chunk.

    The file is never read as a whole: iterating yields blocks of
    :attr:`chunk_size` bytes. Drivers that can do better read the attributes
    instead: with :attr:`path` the server may send the file itself (ASGI
    ``http.response.pathsend``, ``X-Sendfile``), with a real file behind
    :attr:`fileobj` a WSGI server's ``wsgi.file_wrapper`` may use
    ``sendfile(2)``. A range request narrows the body (:meth:`narrow`), so
    the bytes before the range are never read.

    :param fileobj: the open binary file.
    :param path: the file's path when it was opened by erlen from a path,
        else None.
    :param offset: the absolute position to start at; None to start wherever
        ``fileobj`` is positioned (a caller's file object).
    :param length: how many bytes to send; None to send until the end of file.
    :param chunk_size: how many bytes to read at a time.
    """

    __slots__ = ("fileobj", "path", "offset", "length", "chunk_size")

    def __init__(
        self,
        fileobj: t.IO[bytes],
        path: str | None = None,
        offset: int | None = None,
        length: int | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(
                f"FileBody needs a chunk_size of at least 1, but got {chunk_size!r}."
            )
        self.fileobj = fileobj
        self.path = path
        self.offset = offset
        self.length = length
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        source = self.path if self.path is not None else type(self.fileobj).__name__
        return (
            f"<{type(self).__name__} {source!r} offset={self.offset}"
            f" length={self.length}>"
        )

    def __iter__(self) -> Iterator[bytes]:
        # PERF: a generator with locals bound once; one read() per chunk.
        read = self.fileobj.read
        size = self.chunk_size
        if self.offset is not None:
            self.fileobj.seek(self.offset)
        remaining = self.length
        if remaining is None:
            while chunk := read(size):
                yield chunk
        else:
            while remaining > 0:
                chunk = read(min(size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        # NOTE: the descriptor is released as soon as the body is sent, even
        # if a server or test client never calls close(); close() is then a
        # no-op.
        self.fileobj.close()

    def narrow(self, start: int, length: int) -> FileBody:
        """Return a body for bytes ``[start, start + length)`` of the same file."""
        return FileBody(self.fileobj, self.path, start, length, self.chunk_size)

    def close(self) -> None:
        """Close the file."""
        self.fileobj.close()

    # The file-object face below lets Response._RangeIterator slice this body
    # by seeking (a make_conditional() call made after send_file()).

    def seekable(self) -> bool:
        """Return whether the underlying file can seek."""
        return bool(self.fileobj.seekable())

    def seek(self, position: int) -> int:
        """Move ``position`` bytes past the body's start; return the file position."""
        return self.fileobj.seek((self.offset or 0) + position)

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes from the file's current position."""
        return self.fileobj.read(size)

    def whole_file_rest(self) -> bool:
        """Return whether the body is exactly the file from :attr:`offset` to its end.

        True only for a real file (one with a descriptor) whose current size
        matches; then a server may hand the rest of the descriptor to
        ``sendfile(2)``.
        """
        try:
            size = os.fstat(self.fileobj.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            # No descriptor (BytesIO), or the file is closed.
            return False
        offset = self.offset
        if offset is None:
            try:
                offset = self.fileobj.tell()
            except OSError:
                return False
        if self.length is None:
            return True
        return offset + self.length == size


def _content_disposition(download_name: str, as_attachment: bool) -> str:
    """Return the ``Content-Disposition`` value naming ``download_name``."""
    kind = "attachment" if as_attachment else "inline"
    if download_name.isascii():
        return dump_options_header(kind, {"filename": download_name})
    # RFC 6266: an ASCII approximation for old clients, and the exact name as
    # UTF-8 in the RFC 5987 extended parameter.
    import unicodedata  # PERF: imported on first use (import time)

    simple = unicodedata.normalize("NFKD", download_name)
    simple = simple.encode("ascii", "ignore").decode("ascii")
    quoted = quote(download_name, safe=_ATTR_CHAR_SAFE)
    return dump_options_header(
        kind, {"filename": simple, "filename*": f"UTF-8''{quoted}"}
    )


def _cache_headers(headers: Headers, max_age: float | None) -> None:
    """Set ``Cache-Control`` (and ``Expires``) for ``max_age`` seconds."""
    if max_age is None:
        headers["Cache-Control"] = "no-cache"
        return
    if isinstance(max_age, bool) or not isinstance(max_age, (int, float)):
        raise TypeError(
            "max_age must be a number of seconds or None, but got a"
            f" {type(max_age).__name__} ({max_age!r}); convert a timedelta with"
            " int(td.total_seconds())."
        )
    # NOTE: a positive age lets shared caches keep the file; 0 or less keeps
    # "no-cache" so clients revalidate, as Werkzeug does.
    seconds = int(max_age)
    if max_age > 0:
        headers["Cache-Control"] = f"public, max-age={seconds}"
    else:
        headers["Cache-Control"] = f"no-cache, max-age={seconds}"
    headers["Expires"] = http_date(int(time() + max_age))


def _open_source(
    path_or_file: t.Any, root_path: os.PathLike[str] | str | None
) -> tuple[str | None, t.IO[bytes] | None, int | None, float | None]:
    """Return ``(path, file, size, mtime)`` for send_file's first argument."""
    if isinstance(path_or_file, (str, os.PathLike)):
        if root_path is not None:
            path = os.path.join(root_path, path_or_file)
        else:
            path = os.path.abspath(path_or_file)
        stat = os.stat(path)
        return path, None, stat.st_size, stat.st_mtime
    if isinstance(path_or_file, io.TextIOBase):
        raise ValueError(
            f"send_file() received a text-mode file ({type(path_or_file).__name__});"
            " files must be opened in binary mode ('rb') or be a BytesIO."
        )
    if callable(getattr(path_or_file, "read", None)):
        return None, path_or_file, None, None
    raise TypeError(
        "send_file() expected a path (str or os.PathLike) or a binary file"
        f" object with read(), but received a {type(path_or_file).__name__}"
        f" ({path_or_file!r})."
    )


def _name_headers(
    headers: Headers,
    mimetype: str | None,
    download_name: str | None,
    as_attachment: bool,
) -> str:
    """Set ``Content-Disposition`` (and ``Content-Encoding``); return the mimetype."""
    if mimetype is None:
        if download_name is None:
            raise TypeError(
                "send_file() cannot guess the MIME type: no file name is known."
                " Pass download_name=, pass a path instead of a file object,"
                " or pass mimetype=."
            )
        import mimetypes  # PERF: imported on first use (import time)

        mimetype, encoding = mimetypes.guess_type(download_name)
        if mimetype is None:
            mimetype = "application/octet-stream"
        # NOTE: a Content-Encoding on an attachment makes browsers save a
        # ".tar.gz" decompressed; only inline files get it.
        if encoding is not None and not as_attachment:
            headers["Content-Encoding"] = encoding
    if download_name is not None:
        headers["Content-Disposition"] = _content_disposition(
            download_name, as_attachment
        )
    elif as_attachment:
        raise TypeError(
            "send_file() has no name for the attachment: pass download_name="
            " or pass a path instead of a file object."
        )
    return mimetype


def _validator_headers(
    headers: Headers,
    path: str | None,
    size: int | None,
    mtime: float | None,
    last_modified: datetime | int | float | None,
    etag: bool | str,
) -> None:
    """Set ``Last-Modified`` and ``ETag``."""
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    elif mtime is not None:
        headers["Last-Modified"] = http_date(mtime)
    if isinstance(etag, str):
        headers["ETag"] = quote_etag(etag)
    elif etag and path is not None:
        # The shape of Werkzeug's ETag, so caches primed by a Flask app agree.
        check = adler32(path.encode()) & 0xFFFFFFFF
        headers["ETag"] = quote_etag(f"{mtime}-{size}-{check}")


def send_file(
    path_or_file: os.PathLike[str] | str | t.IO[bytes],
    request: t.Any,
    *,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: float | Callable[[str | None], float | None] | None = None,
    use_x_sendfile: bool = False,
    response_class: type[Response] | None = None,
    _root_path: os.PathLike[str] | str | None = None,
) -> Response:
    """Return a response that sends a file, answering conditional and range requests.

    Prefer a path: it gives the size, modification time and ETag, allows
    ranges and zero-copy sending. A file object must be binary and positioned
    at the start of the data; a ``BytesIO`` is sized from its buffer, other
    file objects are streamed without ``Content-Length`` or ranges. The path
    is trusted: never pass one taken from the request (use
    :func:`send_from_directory`).

    :param path_or_file: a path (relative to the working directory, or to
        ``_root_path``) or a binary file object; the response closes it.
    :param request: the request (with ``.method`` and ``.headers``) or its
        WSGI-shaped environ; read by the conditional handling.
    :param mimetype: the media type; guessed from the name if None.
    :param as_attachment: ask the browser to save the file
        (``Content-Disposition: attachment``).
    :param download_name: the name given in ``Content-Disposition``; defaults
        to the path's base name.
    :param conditional: answer ``If-*`` and ``Range`` headers (304, 206, 416).
    :param etag: compute an ETag from the path's stat (True), use this string,
        or send none (False).
    :param last_modified: the modification time to send (a datetime or a Unix
        timestamp); defaults to the path's mtime.
    :param max_age: seconds a client may cache the file, or a callable given
        the path; None sends ``Cache-Control: no-cache``.
    :param use_x_sendfile: send an empty body with ``X-Sendfile: <path>``
        for the front server to fill in.
    :param response_class: the response class to build (default
        :class:`~erlen.sansio.response.Response`).
    :raises TypeError: without a name to guess the mimetype from, for an
        attachment without a name, or for an argument of the wrong type.
    :raises ValueError: for a text-mode file object.
    :raises OSError: if the path cannot be read (``FileNotFoundError``...).
    :raises RequestedRangeNotSatisfiable: for an unsatisfiable ``Range``.
    """
    if response_class is None:
        response_class = Response
    path, file, size, mtime = _open_source(path_or_file, _root_path)
    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    headers = Headers()
    mimetype = _name_headers(headers, mimetype, download_name, as_attachment)
    if callable(max_age):
        max_age = max_age(path)
    # Every header that can fail is set before the file is opened, so an
    # error leaves no file open.
    _cache_headers(headers, max_age)
    _validator_headers(headers, path, size, mtime, last_modified, etag)

    data: FileBody | None
    if use_x_sendfile and path is not None:
        headers["X-Sendfile"] = path
        data = None
    else:
        if file is None:
            file = open(t.cast(str, path), "rb")  # closed by the response
        elif isinstance(file, io.BytesIO):
            size = file.getbuffer().nbytes
        data = FileBody(file, path)

    rv = response_class(
        data, mimetype=mimetype, headers=headers, direct_passthrough=True
    )
    if size is not None:
        rv.headers["Content-Length"] = str(size)
    if conditional:
        try:
            rv = rv.make_conditional(request, accept_ranges=True, complete_length=size)
        except RequestedRangeNotSatisfiable:
            if file is not None:
                file.close()
            raise
        body = rv.response
        if isinstance(body, _RangeIterator) and isinstance(body.body, FileBody):
            # PERF: a range becomes a narrowed FileBody, which still reads only
            # its slice and stays visible to the drivers' zero-copy paths.
            rv.response = body.body.narrow(body.start, body.length)
        if rv.status_code == 304:
            # NOTE: some X-Sendfile front servers send the file even on a 304.
            rv.headers.remove("X-Sendfile")
    return rv


def send_from_directory(
    directory: os.PathLike[str] | str,
    path: os.PathLike[str] | str,
    request: t.Any,
    **kwargs: t.Any,
) -> Response:
    """Send the file at an untrusted ``path`` inside a trusted ``directory``.

    ``path`` (say, from the URL) is joined with
    :func:`erlen.security.safe_join`: one that is absolute, climbs out with
    ``..``, or holds a backslash, a drive letter or a NUL byte gives 404, as
    does one that is not an existing regular file. The check is on the text:
    a symlink inside ``directory`` is followed.

    :param directory: the trusted base folder (never from the request).
    :param path: the untrusted path relative to ``directory``.
    :param request: the request or its environ, as for :func:`send_file`.
    :param kwargs: the other arguments of :func:`send_file`.
    :raises NotFound: if the path is unsafe or not a file.
    """
    joined = safe_join(os.fspath(directory), os.fspath(path))
    if joined is None:
        raise NotFound()
    root_path = kwargs.get("_root_path")
    if root_path is not None:
        joined = os.path.join(root_path, joined)
    if not os.path.isfile(joined):
        raise NotFound()
    return send_file(joined, request, **kwargs)
