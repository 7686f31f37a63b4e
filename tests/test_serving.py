"""Tests for erlen.serving: the uvicorn dev server and the watchfiles reloader."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
import uvicorn

from erlen import Blueprint
from erlen import Flask
from erlen import serving

pytestmark = pytest.mark.servers


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path="/", timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def poll(port, expected, deadline=20.0):
    """Request / until the body contains ``expected``; return the last answer."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        try:
            last = get(port)
        except OSError as e:
            last = e
        else:
            if expected in last[1]:
                return last
        time.sleep(0.1)
    raise AssertionError(f"no answer containing {expected!r}; last: {last!r}")


@pytest.fixture
def running(monkeypatch):
    """Run run_simple in a thread; stop the uvicorn server it started afterwards."""
    servers = []
    original = uvicorn.Server.run

    def run(self, sockets=None):
        servers.append(self)
        return original(self, sockets=sockets)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    threads = []

    def start(*args, **kwargs):
        thread = threading.Thread(target=serving.run_simple, args=args, kwargs=kwargs)
        thread.start()
        threads.append(thread)

    yield start
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


def hello_app():
    app = Flask("served")

    @app.route("/")
    async def index():
        return "async hello"

    return app


def test_run_simple_serves_an_app(running, capsys):
    port = free_port()
    running("127.0.0.1", port, hello_app(), log_level="warning")
    assert poll(port, "async hello") == (200, "async hello")
    out = capsys.readouterr().out
    assert f" * Running on http://127.0.0.1:{port} (Press CTRL+C to quit)" in out
    assert "This is a development server. Do not use it in production" in out


def test_run_simple_in_reloader_child_uses_the_inherited_socket(running, monkeypatch):
    sock = serving._bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    monkeypatch.setenv(serving.RUN_MAIN_ENV, "true")
    monkeypatch.setenv(serving.SERVER_FD_ENV, str(os.dup(sock.fileno())))
    assert serving.is_running_from_reloader()
    try:
        # The host and port given are ignored: the socket is already bound.
        running("127.0.0.1", 1, hello_app(), log_level="warning")
        assert poll(port, "async hello")[0] == 200
    finally:
        sock.close()


def test_bind_error_says_what_to_do():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            OSError, match=f"Could not listen on 127.0.0.1:{port}.*--port"
        ):
            serving._bind("127.0.0.1", port)


def test_make_server_ssl_options(tmp_path):
    sock = serving._bind("127.0.0.1", 0)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        server = serving._make_server(
            hello_app(), sock, None, None, context, "info", timeout_keep_alive=3
        )
        assert server.config.ssl is context
        assert server.config.timeout_keep_alive == 3
        server = serving._make_server(
            "tests.test_serving:hello_app", sock, None, None, None, "info"
        )
        assert server.config.ssl is None
    finally:
        sock.close()


def test_make_server_wraps_the_debugger():
    from erlen.debug import DebuggedApplication

    sock = serving._bind("127.0.0.1", 0)
    try:
        server = serving._make_server(
            hello_app(), sock, None, None, None, "info", _erlen_use_debugger=True
        )
        assert isinstance(server.config.loaded_app, DebuggedApplication)
        plain = serving._make_server(hello_app(), sock, None, None, None, "info")
        assert not isinstance(plain.config.loaded_app, DebuggedApplication)
    finally:
        sock.close()


def test_run_simple_passes_the_debugger_on(monkeypatch):
    seen = {}

    def fake_serve(app, sock, certfile, keyfile, context, log_level, **options):
        seen.update(options)
        sock.close()

    monkeypatch.setattr(serving, "_serve", fake_serve)
    serving.run_simple("127.0.0.1", 0, hello_app(), use_debugger=True)
    assert seen == {"_erlen_use_debugger": True}


def test_ssl_context_forms(monkeypatch, capsys):
    seen = []

    def fake_serve(app, sock, *rest):
        sock.close()
        seen.append(rest[:3])

    monkeypatch.setattr(serving, "_serve", fake_serve)
    monkeypatch.setattr(serving, "make_adhoc_ssl_files", lambda host: ("ac", "ak"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.run_simple("127.0.0.1", 0, None, ssl_context=("c", "k"))
    serving.run_simple("127.0.0.1", 0, None, ssl_context="adhoc")
    serving.run_simple("::1", 0, None, ssl_context=context)
    assert seen == [("c", "k", None), ("ac", "ak", None), (None, None, context)]
    out = capsys.readouterr().out
    assert out.count(" * Running on https://") == 3
    assert "https://[::1]:" in out


def test_adhoc_needs_cryptography(monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(RuntimeError, match="needs the cryptography library"):
        serving.make_adhoc_ssl_files("localhost")


def test_run_simple_with_reloader_watches_the_app(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(serving, "run_with_reloader", lambda *args: calls.append(args))
    signals = []
    monkeypatch.setattr(signal, "signal", lambda *args: signals.append(args))
    (tmp_path / "templates").mkdir()
    app = Flask("watched", root_path=str(tmp_path))
    bp = Blueprint(
        "bp", "watched_bp", root_path=str(tmp_path / "bp"), template_folder="t"
    )
    app.register_blueprint(bp)
    extra = tmp_path / "extra.cfg"
    serving.run_simple(
        "127.0.0.1",
        0,
        app,
        use_reloader=True,
        extra_files=[str(extra)],
        exclude_patterns=["*.tmp"],
    )
    ((args, sock, roots, watch_filter),) = calls
    assert sock.fileno() == -1  # closed once the reloader returned
    assert args[0] == sys.executable
    assert str(tmp_path) in roots
    assert not any(root.startswith(sys.prefix + os.sep) for root in roots)
    assert watch_filter.extra_files == {str(extra)}
    assert watch_filter.exclude_patterns == ("*.tmp",)
    assert str(tmp_path / "bp" / "t") in watch_filter.template_dirs
    assert signals == [(signal.SIGTERM, serving._exit_on_signal)]
    assert " * Restarting with watchfiles" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        serving._exit_on_signal(signal.SIGTERM, None)
    assert info.value.code == 128 + signal.SIGTERM


def test_run_simple_with_reloader_off_the_main_thread(monkeypatch):
    calls = []
    monkeypatch.setattr(serving, "run_with_reloader", lambda *args: calls.append(args))
    thread = threading.Thread(
        target=serving.run_simple,
        args=("127.0.0.1", 0, "pkg:app"),
        kwargs={"use_reloader": True},
    )
    thread.start()
    thread.join(10)
    assert len(calls) == 1


def test_reloader_args(monkeypatch):
    monkeypatch.setattr(sys, "warnoptions", ["error"])
    monkeypatch.setattr(sys, "argv", ["/bin/erlen", "run", "--reload"])
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert serving.reloader_args() == [
        sys.executable,
        "-Werror",
        "/bin/erlen",
        "run",
        "--reload",
    ]
    main.__spec__ = types.SimpleNamespace(name="erlen.__main__")
    assert serving.reloader_args() == [
        sys.executable,
        "-Werror",
        "-m",
        "erlen",
        "run",
        "--reload",
    ]
    main.__spec__ = types.SimpleNamespace(name="tool")
    assert serving.reloader_args()[:4] == [sys.executable, "-Werror", "-m", "tool"]


# -- the reloader loop ----------------------------------------------------------


CHILD = """
import os, sys, time
with open(sys.argv[1], "a") as f:
    f.write(os.environ["ERLEN_RUN_MAIN"] + " " + os.environ["ERLEN_SERVER_FD"] + "\\n")
if len(sys.argv) > 2:
    sys.exit(int(sys.argv[2]))
time.sleep(60)
"""


def wait_for(condition, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def start_reloader(tmp_path, args, **kwargs):
    sock = serving._bind("127.0.0.1", 0)
    stop = threading.Event()
    watch_filter = serving.WatchFilter(**kwargs)
    thread = threading.Thread(
        target=serving.run_with_reloader,
        args=(args, sock, [str(tmp_path)], watch_filter, stop),
    )
    thread.start()
    return sock, stop, thread


def test_run_with_reloader_restarts_on_change(tmp_path, capsys):
    log = tmp_path / "starts.log"
    (tmp_path / "view.py").write_text("x = 1\n")
    sock, stop, thread = start_reloader(
        tmp_path, [sys.executable, "-c", CHILD, str(log)]
    )
    try:
        wait_for(lambda: log.exists() and len(log.read_text().splitlines()) == 1)
        assert log.read_text() == f"true {sock.fileno()}\n"
        time.sleep(0.3)  # let the watcher settle
        (tmp_path / "notes.txt").write_text("ignored\n")
        (tmp_path / "view.py").write_text("x = 2\n")
        wait_for(lambda: len(log.read_text().splitlines()) == 2)
    finally:
        stop.set()
        thread.join(10)
        sock.close()
    assert not thread.is_alive()
    out = capsys.readouterr().out
    assert f" * Detected change in {str(tmp_path / 'view.py')!r}, reloading" in out
    assert "notes.txt" not in out


def test_run_with_reloader_survives_a_dead_child(tmp_path, capsys):
    log = tmp_path / "starts.log"
    sock, stop, thread = start_reloader(
        tmp_path, [sys.executable, "-c", CHILD, str(log), "3"]
    )
    try:
        wait_for(
            lambda: "exited with code 3" in capsys.readouterr().err or None, deadline=15
        )
        # Reported once; the reloader keeps waiting for a change.
        time.sleep(1.5)
        assert "exited with code" not in capsys.readouterr().err
        (tmp_path / "fix.py").write_text("")
        wait_for(lambda: len(log.read_text().splitlines()) == 2)
        wait_for(
            lambda: "exited with code 3" in capsys.readouterr().err or None, deadline=15
        )
    finally:
        stop.set()
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def test_run_with_reloader_stops_its_child_on_ctrl_c(monkeypatch, tmp_path):
    import watchfiles

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
        yield  # pragma: no cover - makes this a generator

    monkeypatch.setattr(watchfiles, "watch", interrupted)
    sock = serving._bind("127.0.0.1", 0)
    children = []
    real_spawn = serving._spawn
    monkeypatch.setattr(
        serving,
        "_spawn",
        lambda *args: children.append(real_spawn(*args)) or children[-1],
    )
    try:
        serving.run_with_reloader(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            sock,
            [str(tmp_path)],
            serving.WatchFilter(),
        )
    finally:
        sock.close()
    assert children[0].returncode is not None


def test_stop_kills_a_child_that_ignores_sigterm(monkeypatch):
    monkeypatch.setattr(serving, "_STOP_TIMEOUT", 0.5)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout.readline() == b"ready\n"
        serving._stop(child)
        assert child.returncode == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


# -- what is watched ------------------------------------------------------------


def test_watch_filter(tmp_path):
    extra = tmp_path / "conf.toml"
    templates = tmp_path / "templates"
    watch = serving.WatchFilter(
        extra_files=[str(extra)],
        exclude_patterns=["*/skip_*"],
        template_dirs=[str(templates)],
    )
    assert watch(None, str(extra))
    assert watch(None, str(tmp_path / "views.py"))
    assert watch(None, str(templates / "page.html"))
    assert not watch(None, str(tmp_path / "notes.txt"))
    assert not watch(None, str(tmp_path / "skip_me.py"))
    assert not watch(None, str(tmp_path / "__pycache__" / "views.py"))
    assert not watch(None, str(tmp_path / "lib" / "site-packages" / "dep.py"))
    assert not watch(None, os.path.join(sys.prefix, "lib", "thing.py"))
    assert not watch(None, os.__file__)


def test_excluded_prefixes_cover_the_environment():
    prefixes = serving.excluded_prefixes()
    assert os.path.realpath(sys.prefix) in prefixes
    assert os.path.realpath(sys.base_prefix) in prefixes


def test_watch_roots(tmp_path):
    project = tmp_path / "project"
    venv = project / ".venv"
    (venv / "lib").mkdir(parents=True)
    (project / "pkg" / "sub").mkdir(parents=True)
    (project / "node_modules").mkdir()
    (project / "app.py").write_text("")
    other = tmp_path / "other"
    other.mkdir()
    roots = serving.watch_roots(
        [
            str(project / "pkg" / "sub"),
            str(project),
            str(project / "pkg"),
            str(other),
            str(tmp_path / "missing"),
            str(venv / "lib"),
        ],
        excluded=[str(venv)],
    )
    assert roots == [str(other), str(project / "app.py"), str(project / "pkg")]


def test_app_and_module_dirs(tmp_path):
    app = Flask("dirs", root_path=str(tmp_path), template_folder=None)
    assert serving._app_dirs(app) == [str(tmp_path)]
    assert serving._template_dirs(app) == []
    assert serving._app_dirs("module:app") == []
    assert os.path.dirname(serving.__file__) in serving._module_dirs()


# -- end to end: erlen run --reload in a subprocess -------------------------------


def test_erlen_run_reload_end_to_end(tmp_path):
    view = tmp_path / "reload_view.py"
    view.write_text(
        "from erlen import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/')\ndef index():\n    return 'version one'\n"
    )
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ERLEN_", "FLASK_"))
    }
    erlen = Path(sys.executable).with_name("erlen")
    proc = subprocess.Popen(
        [str(erlen), "--app", "reload_view", "run", "--reload", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert poll(port, "version one") == (200, "version one")
        time.sleep(0.3)
        view.write_text(view.read_text().replace("version one", "version two"))
        assert poll(port, "version two")[0] == 200
        # A syntax error is shown, and the server survives it.
        view.write_text(view.read_text().replace("return 'version two'", "return ("))
        status, body = poll(port, "SyntaxError")
        assert status == 500
        assert "erlen could not load the app" in body
        view.write_text(view.read_text().replace("return (", "return 'version three'"))
        assert poll(port, "version three")[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            output = proc.communicate(timeout=15)[0].decode()
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0].decode()
    assert " * Serving erlen app 'reload_view'" in output
    assert " * Restarting with watchfiles" in output
    assert "reload_view.py', reloading" in output
