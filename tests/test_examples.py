"""The examples run as a user runs them: ``python app.py``, then a browser's GET."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.servers.conftest import free_port
from tests.servers.conftest import port_is_free
from tests.servers.conftest import run_server

HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello"

pytestmark = pytest.mark.servers


def test_hello_world_answers_on_the_default_port() -> None:
    # app.run() serves on 127.0.0.1:5000. If something else holds 5000 on
    # this machine, ERLEN_RUN_PORT moves it, so the test never depends on a
    # free 5000 (and still exercises the real default whenever it can).
    if port_is_free(5000):
        port, env = 5000, {}
    else:
        port = free_port()
        env = {"ERLEN_RUN_PORT": str(port)}
    with run_server(
        "examples/hello",
        [sys.executable, "app.py"],
        "asgi",
        port=port,
        cwd=HELLO,
        env=env,
    ) as server:
        reply = server.request("GET", "/")
        assert reply.status == 200, server.log()
        assert reply.body == b"Hello, World!"
        assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        assert server.request("GET", "/missing").status == 404
        log = server.log()
    assert f"Serving erlen app 'app' on http://127.0.0.1:{port}" in log
    assert "development server" in log


def test_run_port_from_environment() -> None:
    port = free_port()
    with run_server(
        "examples/hello",
        [sys.executable, "app.py"],
        "asgi",
        port=port,
        cwd=HELLO,
        env={"ERLEN_RUN_PORT": str(port)},
    ) as server:
        assert server.request("GET", "/").body == b"Hello, World!"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """Replace the dev server's run_simple with a recorder of its arguments."""
    import erlen.serving

    calls: list[dict[str, object]] = []

    def fake_run_simple(host: str, port: int, app: object, **kwargs: object) -> None:
        calls.append({"app": app, "host": host, "port": port, **kwargs})

    monkeypatch.setattr(erlen.serving, "run_simple", fake_run_simple)
    monkeypatch.delenv("ERLEN_RUN_PORT", raising=False)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("ERLEN_RUN_FROM_CLI", raising=False)
    return calls


def test_run_defaults(
    served: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    from erlen import Flask

    app = Flask("hello")
    app.run()
    assert served == [
        {
            "app": app,
            "host": "127.0.0.1",
            "port": 5000,
            "use_reloader": False,
            "use_debugger": False,
        }
    ]
    assert "http://127.0.0.1:5000" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "port", "expected"),
    [
        ("8123", None, 8123),
        (" 8124 ", None, 8124),
        ("", None, 5000),
        ("8123", 9000, 9000),  # an explicit argument wins
        ("8123", "9001", 9001),  # and is converted as Flask does
        (None, 0, 0),  # 0 asks the OS for a free port, as in Flask
    ],
)
def test_run_port_choice(
    served: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    port: object,
    expected: int,
) -> None:
    from erlen import Flask

    if env is not None:
        monkeypatch.setenv("ERLEN_RUN_PORT", env)
    Flask("hello").run(host="127.0.0.2", port=port)  # type: ignore[arg-type]
    assert served[0]["port"] == expected
    assert served[0]["host"] == "127.0.0.2"


@pytest.mark.parametrize("bad", ["http", "-1", "65536", "80.5"])
def test_run_port_from_environment_must_be_a_port(
    served: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    from erlen import Flask

    monkeypatch.setenv("ERLEN_RUN_PORT", bad)
    with pytest.raises(
        ValueError, match=r"ERLEN_RUN_PORT must be a TCP port number"
    ) as info:
        Flask("hello").run()
    assert repr(bad) in str(info.value)
    assert served == []


@pytest.mark.parametrize("var", ["FLASK_RUN_FROM_CLI", "ERLEN_RUN_FROM_CLI"])
def test_run_does_nothing_under_the_cli(
    served: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch, var: str
) -> None:
    from erlen import Flask

    monkeypatch.setenv(var, "true")
    with pytest.warns(UserWarning, match="does nothing under the 'erlen run'"):
        Flask("hello").run()
    assert served == []


def test_run_debug_argument(served: list[dict[str, object]]) -> None:
    from erlen import Flask

    app = Flask("hello")
    app.run(debug=True)
    assert app.debug is True
    assert len(served) == 1
