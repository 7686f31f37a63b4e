"""The development server: uvicorn, restarted by a watchfiles reloader."""

from __future__ import annotations

import fnmatch
import os
import signal
import site
import socket
import subprocess
import sys
import sysconfig
import threading
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    import ssl

    import uvicorn

#: Set to ``"true"`` in the environment of the process the reloader starts.
RUN_MAIN_ENV = "ERLEN_RUN_MAIN"
#: The file descriptor of the listening socket the reloader hands its child.
SERVER_FD_ENV = "ERLEN_SERVER_FD"

# NOTE: directories that never hold the app's own code; a change there (an
# upgrade of a dependency) is not a reason to restart, and watching them
# would cost an inotify watch per directory.
_SKIPPED_DIR_NAMES = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".tox", ".nox", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", "node_modules", "site-packages",
     "dist-packages"}
)  # fmt: skip


#: Seconds a child server gets to shut down before it is killed.
_STOP_TIMEOUT = 5.0


def is_running_from_reloader() -> bool:
    """Return whether this process is the server the reloader started."""
    return os.environ.get(RUN_MAIN_ENV) == "true"


def run_simple(
    host: str,
    port: int,
    app_or_import_path: t.Any,
    use_reloader: bool = False,
    extra_files: t.Iterable[str] | None = None,
    exclude_patterns: t.Iterable[str] | None = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    *,
    ssl_context: ssl.SSLContext | tuple[str, str] | str | None = None,
    log_level: str = "info",
    use_debugger: bool = False,
    **uvicorn_options: t.Any,
) -> None:
    """Serve an app with uvicorn for development, optionally reloading it.

    With ``use_reloader``, this process binds the socket, then runs the same
    command again as a child process (with ``ERLEN_RUN_MAIN=true`` and the
    socket's descriptor in ``ERLEN_SERVER_FD``) and restarts that child when
    a watched file changes: a ``.py`` file of the app's own directory trees,
    a file of its template folders, or one of ``extra_files``. Files under
    the interpreter's prefixes and ``site-packages`` are never watched.
    Because the parent keeps the socket, requests made during a restart wait
    in the listen queue instead of being refused.

    Not for production: serve the app with gunicorn, uvicorn or granian.

    :param host: the interface to bind to.
    :param port: the port to bind to; ``0`` picks a free one.
    :param app_or_import_path: an ASGI/WSGI app or a ``"module:name"`` string.
    :param use_reloader: restart the server when a watched file changes.
    :param extra_files: more files whose change triggers a restart.
    :param exclude_patterns: ``fnmatch`` patterns of paths that never do.
    :param ssl_certfile: a certificate file, to serve HTTPS.
    :param ssl_keyfile: the certificate's key file.
    :param ssl_context: a ready :class:`ssl.SSLContext` instead of the files;
        as with Werkzeug, a ``(certfile, keyfile)`` pair or ``"adhoc"`` (a
        throwaway self-signed certificate, which needs cryptography) too.
    :param log_level: uvicorn's log level.
    :param use_debugger: wrap the app in :class:`erlen.debug.DebuggedApplication`,
        which answers unhandled exceptions with the debug error page (only
        while the app's ``debug`` is on).
    :param uvicorn_options: more :class:`uvicorn.Config` options.
    """
    if isinstance(ssl_context, tuple):
        ssl_certfile, ssl_keyfile = ssl_context
        ssl_context = None
    elif ssl_context == "adhoc":
        ssl_certfile, ssl_keyfile = make_adhoc_ssl_files(host)
        ssl_context = None
    context = t.cast("ssl.SSLContext | None", ssl_context)
    if use_debugger:
        uvicorn_options["_erlen_use_debugger"] = True
    if is_running_from_reloader() and SERVER_FD_ENV in os.environ:
        sock = socket.socket(fileno=int(os.environ[SERVER_FD_ENV]))
        _serve(
            app_or_import_path,
            sock,
            ssl_certfile,
            ssl_keyfile,
            context,
            log_level,
            **uvicorn_options,
        )
        return
    sock = _bind(host, port)
    scheme = "https" if ssl_certfile or context else "http"
    display = f"[{host}]" if ":" in host else host
    print(
        f" * Running on {scheme}://{display}:{sock.getsockname()[1]}"
        " (Press CTRL+C to quit)\n"
        " * This is a development server. Do not use it in production;"
        " serve the app with gunicorn, uvicorn or granian instead.",
        flush=True,
    )
    if not use_reloader:
        _serve(
            app_or_import_path,
            sock,
            ssl_certfile,
            ssl_keyfile,
            context,
            log_level,
            **uvicorn_options,
        )
        return
    extra = [os.path.abspath(name) for name in extra_files or ()]
    print(" * Restarting with watchfiles", flush=True)
    watch_filter = WatchFilter(
        extra_files=extra,
        exclude_patterns=exclude_patterns or (),
        template_dirs=_template_dirs(app_or_import_path),
    )
    roots = watch_roots(
        [
            *_module_dirs(),
            *_app_dirs(app_or_import_path),
            *watch_filter.template_dirs,
            *extra,
        ],
        excluded=watch_filter.excluded_prefixes,
    )
    if threading.current_thread() is threading.main_thread():
        # ``kill <pid>`` of the reloader must stop its child server too.
        signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        run_with_reloader(reloader_args(), sock, roots, watch_filter)
    finally:
        sock.close()


def _exit_on_signal(signum: int, frame: t.Any) -> None:
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks stop the child."""
    raise SystemExit(128 + signum)


def _bind(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket bound to ``host:port``."""
    info = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, kind, proto, _, address = info[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise OSError(
            e.errno,
            f"Could not listen on {host}:{port}: {e.strerror}. Is another"
            " server running there? Pick another port with '--port'.",
        ) from None
    return sock


def _serve(
    app: t.Any,
    sock: socket.socket,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    ssl_context: ssl.SSLContext | None,
    log_level: str,
    **options: t.Any,
) -> None:
    """Run uvicorn on the listening socket ``sock`` until it is stopped."""
    server = _make_server(
        app, sock, ssl_certfile, ssl_keyfile, ssl_context, log_level, **options
    )
    server.run(sockets=[sock])


def _make_server(
    app: t.Any,
    sock: socket.socket,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    ssl_context: ssl.SSLContext | None,
    log_level: str,
    **options: t.Any,
) -> uvicorn.Server:
    """Return a configured, loaded uvicorn server for ``app``."""
    import uvicorn

    use_debugger = options.pop("_erlen_use_debugger", False)
    # WebSocket routes are served with wsproto (a runtime dependency), so
    # they behave the same whether or not `websockets` is installed too.
    options.setdefault("ws", "wsproto")
    name = sock.getsockname()
    config = uvicorn.Config(
        app,
        host=name[0],
        port=name[1],
        log_level=log_level,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        **options,
    )
    config.load()
    if use_debugger:
        from .debug import DebuggedApplication

        # NOTE: wrapped after loading, so an import string works too; the
        # page finds the erlen app through uvicorn's middleware (``.app``).
        config.loaded_app = DebuggedApplication(config.loaded_app)
    if ssl_context is not None:
        # NOTE: uvicorn builds its context from files only; a ready context
        # (``--cert module:context``) replaces it after loading.
        config.ssl = ssl_context
    return uvicorn.Server(config)


def reloader_args() -> list[str]:
    """Return the command line that runs this program again."""
    args = [sys.executable, *(f"-W{option}" for option in sys.warnoptions)]
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is not None and spec.name:
        # Started as ``python -m package``: run the package again.
        name = spec.name.removesuffix(".__main__")
        return [*args, "-m", name, *sys.argv[1:]]
    return [*args, *sys.argv]


def run_with_reloader(
    args: t.Sequence[str],
    sock: socket.socket,
    roots: t.Sequence[str],
    watch_filter: WatchFilter,
    stop_event: threading.Event | None = None,
) -> None:
    """Run ``args`` as a child server, restarting it when a watched file changes.

    The child gets the socket ``sock`` and ``ERLEN_RUN_MAIN=true``. If it
    exits on its own (say, a syntax error in the app), the reloader says so
    and waits for the next change, so fixing the file brings the server
    back. Returns when ``stop_event`` is set or on Ctrl+C.
    """
    import watchfiles

    env = {
        **os.environ,
        RUN_MAIN_ENV: "true",
        SERVER_FD_ENV: str(sock.fileno()),
    }
    child = _spawn(args, env, sock)
    reported_exit = False
    try:
        # PERF: one wakeup a second to notice a dead child; the watcher
        # itself sleeps in the kernel (inotify), so idle CPU stays near zero.
        for changes in watchfiles.watch(
            *roots,
            watch_filter=watch_filter,
            stop_event=stop_event,
            rust_timeout=1000,
            yield_on_timeout=True,
            debounce=1000,
            step=50,
        ):
            if not changes:
                code = child.poll()
                if code is not None and not reported_exit:
                    reported_exit = True
                    print(
                        f" * The server process exited with code {code}; fix"
                        " the error and save a file to restart it.",
                        file=sys.stderr,
                        flush=True,
                    )
                continue
            path = sorted(path for _, path in changes)[0]
            print(f" * Detected change in {path!r}, reloading", flush=True)
            _stop(child)
            child = _spawn(args, env, sock)
            reported_exit = False
    except KeyboardInterrupt:
        pass
    finally:
        _stop(child)


def _spawn(
    args: t.Sequence[str], env: dict[str, str], sock: socket.socket
) -> subprocess.Popen[bytes]:
    """Start the child server process, passing it the listening socket."""
    return subprocess.Popen(args, env=env, pass_fds=(sock.fileno(),))


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the child server: SIGTERM first, SIGKILL after five seconds."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def excluded_prefixes() -> tuple[str, ...]:
    """Return the directories whose files never trigger a reload."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    paths.update(site.getsitepackages())
    paths.add(site.getusersitepackages())
    return tuple(sorted(os.path.realpath(path) for path in paths))


def _is_under(path: str, prefixes: t.Iterable[str]) -> bool:
    """Return whether ``path`` is one of ``prefixes`` or inside one of them."""
    return any(
        path == p or path.startswith(p.rstrip(os.sep) + os.sep) for p in prefixes
    )


class WatchFilter:
    """Decide which file changes restart the server (a watchfiles filter).

    A change counts when it is one of ``extra_files``, or a ``.py`` file or a
    file inside one of ``template_dirs``, unless it is under the interpreter's
    prefixes or ``site-packages``, in a cache or VCS directory, or matches one
    of ``exclude_patterns``.
    """

    def __init__(
        self,
        extra_files: t.Iterable[str] = (),
        exclude_patterns: t.Iterable[str] = (),
        template_dirs: t.Iterable[str] = (),
    ) -> None:
        self.extra_files = frozenset(os.path.realpath(p) for p in extra_files)
        self.exclude_patterns = tuple(exclude_patterns)
        self.template_dirs = tuple(os.path.realpath(p) for p in template_dirs)
        self.excluded_prefixes = excluded_prefixes()

    def __call__(self, change: t.Any, path: str) -> bool:
        """Return whether the change of ``path`` should restart the server."""
        path = os.path.realpath(path)
        if path in self.extra_files:
            return True
        if any(fnmatch.fnmatch(path, pattern) for pattern in self.exclude_patterns):
            return False
        if _is_under(path, self.excluded_prefixes):
            return False
        if _SKIPPED_DIR_NAMES.intersection(path.split(os.sep)):
            return False
        return path.endswith(".py") or _is_under(path, self.template_dirs)


def watch_roots(candidates: t.Iterable[str], excluded: t.Sequence[str]) -> list[str]:
    """Return the paths to watch for ``candidates`` (directories or files).

    Nested candidates collapse into their ancestor. A candidate directory
    that holds an excluded prefix (a virtualenv inside the project) is
    watched as its files plus its other subdirectories, so the virtualenv
    is never walked.
    """
    paths: list[str] = []
    for candidate in sorted({os.path.realpath(c) for c in candidates}):
        if not os.path.exists(candidate) or _is_under(candidate, excluded):
            continue
        if _is_under(candidate, paths):
            continue
        paths.append(candidate)
    roots: list[str] = []
    for path in paths:
        _expand(path, excluded, roots)
    return roots


def _expand(path: str, excluded: t.Sequence[str], out: list[str]) -> None:
    """Append ``path`` to ``out``, or its parts if it holds an excluded prefix."""
    if not any(_is_under(prefix, [path]) for prefix in excluded):
        out.append(path)
        return
    with os.scandir(path) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_dir():
                if entry.name not in _SKIPPED_DIR_NAMES and not _is_under(
                    entry.path, excluded
                ):
                    _expand(entry.path, excluded, out)
            else:
                out.append(entry.path)


def _module_dirs() -> list[str]:
    """Return the directories of the loaded modules' files."""
    dirs = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str):
            dirs.add(os.path.dirname(os.path.abspath(filename)))
    return sorted(dirs)


def _scaffolds(app: t.Any) -> list[t.Any]:
    """Return ``app`` and its blueprints (duck-typed: any object with a root_path)."""
    if not hasattr(app, "root_path"):
        return []
    return [app, *getattr(app, "blueprints", {}).values()]


def _app_dirs(app: t.Any) -> list[str]:
    """Return the root folders of ``app`` and its blueprints."""
    return [s.root_path for s in _scaffolds(app)]


def _template_dirs(app: t.Any) -> list[str]:
    """Return the template folders of ``app`` and its blueprints."""
    return [
        os.path.join(s.root_path, s.template_folder)
        for s in _scaffolds(app)
        if getattr(s, "template_folder", None)
    ]


def make_adhoc_ssl_files(host: str) -> tuple[str, str]:
    """Create a throwaway self-signed certificate for ``host``: (cert, key) paths.

    Needs the cryptography library; the files live in a temporary directory.
    """
    import datetime
    import ipaddress
    import tempfile

    try:
        from cryptography import x509  # type: ignore[import-not-found,unused-ignore]
        from cryptography.hazmat.primitives import hashes  # type: ignore[import-not-found,unused-ignore]
        from cryptography.hazmat.primitives import serialization  # type: ignore[import-not-found,unused-ignore]
        from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found,unused-ignore]
        from cryptography.x509.oid import NameOID  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise RuntimeError(
            "An ad-hoc certificate needs the cryptography library; install it"
            " with 'pip install cryptography', or pass a certificate file and"
            " its key."
        ) from None
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="erlen-adhoc-")
    cert_path = os.path.join(folder, "cert.pem")
    key_path = os.path.join(folder, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path
