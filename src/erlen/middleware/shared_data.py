"""WSGI middleware that serves static files from folders, single files or packages."""

from __future__ import annotations

import fnmatch
import importlib.resources
import mimetypes
import os
import posixpath
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime
from datetime import UTC
from io import BytesIO
from time import time
from zlib import adler32

from .._parsing import http_date
from .._parsing import quote_etag
from ..http import is_resource_modified
from ..sansio.files import FileBody
from ..sansio.response import get_content_type
from ..security import safe_join

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

#: What a loader's opener gives: the open file, its modification time, its size.
Opened = tuple[t.IO[bytes], datetime, int]
#: A loader maps the path below its export (None: the export itself) to the
#: file's name and an opener, or to ``(None, None)`` when there is no file.
Loader = t.Callable[[str | None], tuple[str | None, t.Callable[[], Opened] | None]]

#: Bytes read per chunk when the server has no ``wsgi.file_wrapper``.
CHUNK_SIZE = 64 * 1024


class SharedDataMiddleware:
    """Serve static files under URL prefixes, passing every other request on.

    For development and simple deployments, without a separate static file
    server:

    .. code-block:: python

        app.wsgi_app = SharedDataMiddleware(app.wsgi_app, {
            "/shared": os.path.join(os.path.dirname(__file__), "shared"),
            "/assets": ("mypackage", "static"),
            "/robots.txt": "/srv/site/robots.txt",
        })

    An export's value is a folder (its files are served below the prefix), a
    single file (served at the prefix itself), or a ``(package, folder)``
    pair naming package data. A request whose path names no file under any
    export, or a file :meth:`is_allowed` refuses, goes to ``app``, so an app
    can still answer paths below a shared folder. Paths that would leave an
    export's folder (``..``, absolute parts, backslashes) never match.

    Responses carry ``Last-Modified``, ``Content-Length``, a ``Content-Type``
    guessed from the file name (``fallback_mimetype`` when unknown; text
    types get ``charset=utf-8``), and with ``cache`` an ``ETag``,
    ``Cache-Control: max-age=<cache_timeout>, public`` and ``Expires``; a
    conditional request for an unchanged file is answered 304.

    Under ASGI, a ``wsgi_app`` wrapped like this is served too (the app runs
    the wrapped callable in a worker thread).

    :param app: The WSGI application for everything else.
    :param exports: Maps URL prefixes to folders, files or
        ``(package, folder)`` pairs; a mapping or an iterable of pairs,
        tried in order.
    :param disallow: :func:`fnmatch.fnmatch` patterns (one string or
        several) of file names never served; replaces :meth:`is_allowed`.
    :param cache: Send the caching headers and answer conditional requests.
    :param cache_timeout: Seconds for ``max-age`` and ``Expires``.
    :param fallback_mimetype: The type of files whose name tells none.
    """

    def __init__(
        self,
        app: WSGIApplication,
        exports: Mapping[str, str | tuple[str, str]]
        | Iterable[tuple[str, str | tuple[str, str]]],
        disallow: str | Iterable[str] | None = None,
        cache: bool = True,
        cache_timeout: int = 60 * 60 * 12,
        fallback_mimetype: str = "application/octet-stream",
    ) -> None:
        #: The WSGI application for paths that name no shared file.
        self.app = app
        #: ``(prefix, loader)`` pairs, tried in order.
        self.exports: list[tuple[str, Loader]] = []
        self.cache = cache
        self.cache_timeout = cache_timeout
        self.fallback_mimetype = fallback_mimetype
        pairs = exports.items() if isinstance(exports, Mapping) else exports
        for prefix, value in pairs:
            if isinstance(value, tuple):
                loader = self.get_package_loader(*value)
            elif isinstance(value, str):
                if os.path.isfile(value):
                    loader = self.get_file_loader(value)
                else:
                    loader = self.get_directory_loader(value)
            else:
                raise TypeError(
                    f"SharedDataMiddleware cannot export {value!r} at {prefix!r}:"
                    " give a folder or file path (str) or a (package, folder) tuple."
                )
            self.exports.append((prefix, loader))
        if disallow is not None:
            patterns = [disallow] if isinstance(disallow, str) else list(disallow)

            def not_disallowed(filename: str) -> bool:
                return not any(fnmatch.fnmatch(filename, p) for p in patterns)

            # An instance attribute, so it shadows the method (as documented).
            self.is_allowed = not_disallowed  # type: ignore[method-assign]

    def is_allowed(self, filename: str) -> bool:
        """Return whether the file named ``filename`` may be served.

        Everything is, by default; override it in a subclass, or pass
        ``disallow``.
        """
        return True

    def _opener(self, path: str) -> t.Callable[[], Opened]:
        def open_file() -> Opened:
            f = open(path, "rb")
            stat = os.fstat(f.fileno())
            return (
                f,
                datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                stat.st_size,
            )

        return open_file

    def get_file_loader(self, filename: str) -> Loader:
        """Return the loader of an export that is one file, served at its prefix.

        .. note:: Flask compatibility: Werkzeug serves the file below its
           prefix too (``/robots.txt/anything``); erlen only at the prefix.
        """
        name = os.path.basename(filename)
        opener = self._opener(filename)

        def load(path: str | None) -> tuple[str | None, t.Callable[[], Opened] | None]:
            return (name, opener) if path is None else (None, None)

        return load

    def get_directory_loader(self, directory: str) -> Loader:
        """Return the loader of an export that is a folder."""

        def load(path: str | None) -> tuple[str | None, t.Callable[[], Opened] | None]:
            if path is None:
                return None, None  # the folder itself is no file
            joined = safe_join(directory, path)
            if joined is None or not os.path.isfile(joined):
                return None, None
            return os.path.basename(joined), self._opener(joined)

        return load

    def get_package_loader(self, package: str, package_path: str) -> Loader:
        """Return the loader of an export that is a folder of a package's data.

        Files inside a zipped package are read whole, with the time the
        loader was made as their modification time.
        """
        root = importlib.resources.files(package)
        made = datetime.now(UTC)

        def load(path: str | None) -> tuple[str | None, t.Callable[[], Opened] | None]:
            if path is None:
                return None, None
            joined = safe_join(package_path, path)
            if joined is None:
                return None, None
            resource = root.joinpath(*[part for part in joined.split("/") if part])
            try:
                if not resource.is_file():
                    return None, None
            except OSError:
                return None, None
            name = posixpath.basename(joined)
            if isinstance(resource, os.PathLike):
                return name, self._opener(os.fspath(resource))

            def open_resource() -> Opened:
                data = resource.read_bytes()
                return BytesIO(data), made, len(data)

            return name, open_resource

        return load

    def generate_etag(self, mtime: datetime, file_size: int, real_filename: str) -> str:
        """Return the (unquoted) entity tag of a file: its time, size and name."""
        checksum = adler32(os.fsencode(real_filename)) & 0xFFFFFFFF
        return f"erlen-sdm-{mtime.timestamp()}-{file_size}-{checksum}"

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Serve the file the path names, or call the wrapped application."""
        # WSGI carries the path as latin-1 text of the raw bytes; file names
        # are UTF-8.
        raw_path: str = environ.get("PATH_INFO", "")
        path = raw_path.encode("latin-1", "replace").decode("utf-8", "replace")
        name: str | None = None
        opener: t.Callable[[], Opened] | None = None
        for prefix, loader in self.exports:
            if path == prefix:
                name, opener = loader(None)
                if opener is not None:
                    break
            folder = prefix if prefix.endswith("/") else prefix + "/"
            if path.startswith(folder):
                name, opener = loader(path[len(folder) :])
                if opener is not None:
                    break
        if opener is None or name is None or not self.is_allowed(name):
            return self.app(environ, start_response)

        guessed = mimetypes.guess_type(name)[0]
        mimetype = get_content_type(guessed or self.fallback_mimetype, "utf-8")
        try:
            f, mtime, size = opener()
        except OSError:
            # Gone or unreadable since it was found: as if it never existed.
            return self.app(environ, start_response)
        headers = [("Date", http_date())]
        if self.cache:
            etag = quote_etag(self.generate_etag(mtime, size, name))
            headers.append(("ETag", etag))
            headers.append(("Cache-Control", f"max-age={self.cache_timeout}, public"))
            if not is_resource_modified(
                http_range=environ.get("HTTP_RANGE"),
                http_if_range=environ.get("HTTP_IF_RANGE"),
                http_if_modified_since=environ.get("HTTP_IF_MODIFIED_SINCE"),
                http_if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                http_if_match=environ.get("HTTP_IF_MATCH"),
                etag=etag,
                last_modified=mtime,
            ):
                f.close()
                start_response("304 Not Modified", headers)
                return []
            headers.append(("Expires", http_date(time() + self.cache_timeout)))
        else:
            headers.append(("Cache-Control", "public"))
        headers.append(("Content-Type", mimetype))
        headers.append(("Content-Length", str(size)))
        headers.append(("Last-Modified", http_date(mtime)))
        start_response("200 OK", headers)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None:
            return t.cast("t.Iterable[bytes]", file_wrapper(f, CHUNK_SIZE))
        return FileBody(f, chunk_size=CHUNK_SIZE)
