"""WSGI middleware that dispatches to applications mounted under path prefixes."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment


class DispatcherMiddleware:
    """Combine WSGI applications into one, each mounted under a path prefix.

    A request goes to the application mounted at the longest prefix of its
    ``PATH_INFO`` that ends at a ``/`` boundary (``/api`` serves ``/api`` and
    ``/api/users`` but not ``/apix``), otherwise to ``app``. The prefix moves
    from ``PATH_INFO`` to the end of ``SCRIPT_NAME``, so the mounted app builds
    its URLs under it.

    .. code-block:: python

        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/api": api_app})

    Mount keys start with ``/`` and have no trailing ``/``. ``mounts`` may be
    changed after creation through :attr:`mounts`.

    :param app: The WSGI application for paths under no mount.
    :param mounts: Maps path prefixes to WSGI applications.
    """

    def __init__(
        self,
        app: WSGIApplication,
        mounts: dict[str, WSGIApplication] | None = None,
    ) -> None:
        #: The WSGI application for paths under no mount.
        self.app = app
        #: Maps path prefixes to WSGI applications.
        self.mounts: dict[str, WSGIApplication] = mounts or {}

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Move the matched prefix into ``SCRIPT_NAME`` and call its app."""
        path: str = environ.get("PATH_INFO", "")
        mounts = self.mounts
        # Try the whole path, then drop one "/segment" from the end at a time.
        # PERF: slicing by index, with PATH_INFO rebuilt once at the end.
        script = path
        while "/" in script:
            if script in mounts:
                app = mounts[script]
                break
            script = script[: script.rindex("/")]
        else:
            # Every "/" is gone; what is left ("" for an absolute path) may
            # still name a mount.
            app = mounts.get(script, self.app)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + script
        environ["PATH_INFO"] = path[len(script) :]
        return app(environ, start_response)
