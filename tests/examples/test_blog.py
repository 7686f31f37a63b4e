"""The demo blog in examples/blog: every page, under WSGI and under ASGI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import examples.blog as blog_package
import pytest
from examples.blog import create_app
from examples.blog.db import get_db

from erlen.security import check_password_hash
from erlen.security import generate_password_hash

REPO = Path(__file__).resolve().parents[2]

# PERF: the seeded users get cheap hashes; accounts made through the
# register form get the real default (scrypt), as a user's would.
FAST = "pbkdf2:sha256:1000"
SEED = """
INSERT INTO user (username, password) VALUES
  ('alice', '{alice}'),
  ('bob', '{bob}');
INSERT INTO post (title, body, author_id, created) VALUES
  ('First post', 'Hello from alice.', 1, '2024-05-01 10:00:00');
""".format(
    alice=generate_password_hash("alice-pw", FAST),
    bob=generate_password_hash("bob-pw", FAST),
)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "blog.sqlite")})
    with app.app_context():
        get_db().executescript(SEED)
    return app


@pytest.fixture(params=["wsgi", "asgi"])
def client(app, request: pytest.FixtureRequest) -> Iterator:
    with app.test_client(asgi=request.param == "asgi") as client:
        yield client


def query(app, sql: str, *args: object) -> list[sqlite3.Row]:
    with app.app_context():
        return get_db().execute(sql, args).fetchall()


def login(client, username: str = "alice", password: str | None = None):
    if password is None:
        password = f"{username}-pw"
    return client.post("/auth/login", data={"username": username, "password": password})


# -- the factory and the database ---------------------------------------------


def test_factory_defaults_to_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "somewhere" / "instance"
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(instance))
    app = create_app()
    assert not app.testing
    assert app.instance_path == str(instance)
    assert app.config["DATABASE"] == str(instance / "blog.sqlite")
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    # The first start creates the folder and an empty database.
    assert (instance / "blog.sqlite").is_file()
    with app.app_context():
        tables = {
            row[0]
            for row in get_db().execute(
                "SELECT name FROM sqlite_master WHERE type='table'"
            )
        }
        assert {"user", "post"} <= tables
        assert get_db().execute("SELECT COUNT(*) FROM user").fetchone()[0] == 0


def test_factory_reads_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        f"SECRET_KEY = 'from-instance'\nDATABASE = {str(tmp_path / 'other.db')!r}\n"
    )
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(instance))
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-instance"
    assert (tmp_path / "other.db").is_file()
    assert not (instance / "blog.sqlite").exists()


def test_factory_without_environment_uses_the_package_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert blog_package.DEFAULT_INSTANCE_PATH == str(
        REPO / "examples" / "blog" / "instance"
    )
    # Point the default elsewhere so that the test writes nothing in the repo.
    monkeypatch.setattr(blog_package, "DEFAULT_INSTANCE_PATH", str(tmp_path / "i"))
    monkeypatch.delenv("BLOG_INSTANCE_PATH", raising=False)
    app = create_app()
    assert app.instance_path == str(tmp_path / "i")
    assert (tmp_path / "i" / "blog.sqlite").is_file()


def test_existing_database_is_kept(app, tmp_path: Path) -> None:
    again = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"]})
    assert [r["username"] for r in query(again, "SELECT username FROM user")] == [
        "alice",
        "bob",
    ]


def test_get_db_is_one_connection_per_app_context(app) -> None:
    with app.app_context():
        db = get_db()
        assert get_db() is db
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_get_db_from_an_async_view(app, client) -> None:
    # With an async view in the app, ASGI runs each sync step (the
    # before_request hook that loads g.user, teardown) on a worker thread
    # and the view on the event loop: one connection serves them all.
    @app.get("/count")
    async def count() -> str:
        return str(get_db().execute("SELECT COUNT(*) FROM post").fetchone()[0])

    login(client)
    assert client.get("/count").get_data(as_text=True) == "1"
    assert "Logged in as" in client.get("/").get_data(as_text=True)


def test_init_db_command_empties_the_database(app) -> None:
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"Initialized the database at {app.config['DATABASE']}." in result.output
    assert query(app, "SELECT * FROM user") == []
    assert query(app, "SELECT * FROM post") == []


def test_init_db_from_the_erlen_command(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(instance), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", "examples/blog", "init-db"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Initialized the database at" in proc.stdout
    db = sqlite3.connect(instance / "blog.sqlite")
    try:
        assert db.execute("SELECT COUNT(*) FROM post").fetchone()[0] == 0
    finally:
        db.close()


# -- pages that anyone may see ------------------------------------------------


def test_index_for_visitors(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "First post" in html
    assert "by alice on 2024-05-01" in html
    assert 'href="/auth/register"' in html
    assert 'href="/auth/login"' in html
    assert 'href="/static/style.css"' in html
    assert "Write a post" not in html
    assert "/1/update" not in html


def test_stylesheet_is_served(client) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert b".post" in response.get_data()


def test_index_when_empty(app, client) -> None:
    with app.app_context():
        get_db().execute("DELETE FROM post")
        get_db().commit()
    assert "Nothing here yet." in client.get("/").get_data(as_text=True)


def test_index_for_the_author(client) -> None:
    login(client)
    html = client.get("/").get_data(as_text=True)
    assert "Logged in as <strong>alice</strong>" in html
    assert 'href="/create"' in html
    assert 'href="/1/update"' in html
    assert 'action="/auth/logout"' in html
    assert 'href="/auth/login"' not in html


def test_index_for_another_user(client) -> None:
    login(client, "bob")
    html = client.get("/").get_data(as_text=True)
    assert "First post" in html
    assert "/1/update" not in html


def test_unknown_page_is_404(client) -> None:
    assert client.get("/no/such/page").status_code == 404


# -- register -------------------------------------------------------------------


def test_register_form(client) -> None:
    response = client.get("/auth/register")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="username"' in html
    assert 'type="password"' in html


def test_register_creates_a_hashed_account(app, client) -> None:
    response = client.post(
        "/auth/register", data={"username": "  carol ", "password": "s3cret"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    (row,) = query(app, "SELECT * FROM user WHERE username = 'carol'")
    assert row["password"] != "s3cret"
    assert row["password"].startswith("scrypt:")
    assert check_password_hash(row["password"], "s3cret")
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Your account is ready. Please log in." in page
    # ... and the new account works.
    assert login(client, "carol", "s3cret").headers["Location"] == "/"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "pw", "Please choose a username."),
        ("   ", "pw", "Please choose a username."),
        ("x" * 41, "pw", "Usernames are at most 40 characters long."),
        ("dave", "", "Please choose a password."),
        ("alice", "pw", "The username alice is already taken."),
        (" alice ", "pw", "The username alice is already taken."),
    ],
)
def test_register_refuses_bad_input(
    app, client, username: str, password: str, message: str
) -> None:
    response = client.post(
        "/auth/register", data={"username": username, "password": password}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert len(query(app, "SELECT * FROM user")) == 2


def test_register_accepts_the_longest_username(app, client) -> None:
    response = client.post(
        "/auth/register", data={"username": "x" * 40, "password": "pw"}
    )
    assert response.status_code == 302
    assert len(query(app, "SELECT * FROM user")) == 3


def test_register_with_missing_fields(app, client) -> None:
    response = client.post("/auth/register", data={})
    assert response.status_code == 200
    assert "Please choose a username." in response.get_data(as_text=True)


def test_register_keeps_the_username_escaped(client) -> None:
    response = client.post(
        "/auth/register", data={"username": "<b>x</b>", "password": ""}
    )
    html = response.get_data(as_text=True)
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in html
    assert "<b>x</b>" not in html


# -- log in and out ---------------------------------------------------------------


def test_login_form(client) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert 'type="password"' in response.get_data(as_text=True)


def test_login_sets_the_session(client) -> None:
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session["user_id"] == 1
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert "Welcome back, alice!" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", "alice-pw"), ("alice", "wrong"), ("alice", ""), ("", "")],
)
def test_login_refuses_wrong_credentials(client, username: str, password: str) -> None:
    response = login(client, username, password)
    assert response.status_code == 200
    assert "Incorrect username or password." in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_login_drops_the_previous_session(client) -> None:
    with client.session_transaction() as session:
        session["stale"] = "value"
    login(client)
    with client.session_transaction() as session:
        assert "stale" not in session
        assert session["user_id"] == 1


def test_logout(client) -> None:
    login(client)
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "You are logged out." in html
    assert 'href="/auth/login"' in html
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_logout_is_post_only(client) -> None:
    login(client)
    assert client.get("/auth/logout").status_code == 405
    with client.session_transaction() as session:
        assert session["user_id"] == 1


def test_session_of_a_deleted_user_counts_as_logged_out(app, client) -> None:
    with client.session_transaction() as session:
        session["user_id"] = 99
    response = client.get("/create")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


# -- writing posts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/create"),
        ("POST", "/create"),
        ("GET", "/1/update"),
        ("POST", "/1/update"),
        ("POST", "/1/delete"),
    ],
)
def test_login_required(client, method: str, path: str) -> None:
    response = client.open(path, method=method, data={"title": "t"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


def test_login_required_leaves_data_alone(app, client) -> None:
    client.post("/create", data={"title": "sneaky"})
    client.post("/1/delete")
    assert [r["title"] for r in query(app, "SELECT title FROM post")] == ["First post"]


def test_create_form(client) -> None:
    login(client)
    response = client.get("/create")
    assert response.status_code == 200
    assert 'name="title"' in response.get_data(as_text=True)


def test_create_publishes(app, client) -> None:
    login(client)
    response = client.post(
        "/create", data={"title": " Second ", "body": "More words.\n"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    (row,) = query(app, "SELECT * FROM post WHERE id = 2")
    assert (row["title"], row["body"], row["author_id"]) == ("Second", "More words.", 1)
    html = client.get("/").get_data(as_text=True)
    assert "Your post is published." in html
    # Newest first.
    assert html.index("Second") < html.index("First post")


def test_create_escapes_html(client) -> None:
    login(client)
    client.post(
        "/create", data={"title": "<script>alert(1)</script>", "body": "<i>hi</i>"}
    )
    html = client.get("/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;hi&lt;/i&gt;" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Every post needs a title."),
        ("  ", "Every post needs a title."),
        ("t" * 121, "Titles are at most 120 characters long."),
    ],
)
def test_create_refuses_bad_input(app, client, title: str, message: str) -> None:
    login(client)
    response = client.post("/create", data={"title": title, "body": "kept body"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    # The form comes back filled in.
    assert ">kept body</textarea>" in html
    assert len(query(app, "SELECT * FROM post")) == 1


def test_update_form_shows_the_post(client) -> None:
    login(client)
    response = client.get("/1/update")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="First post"' in html
    assert ">Hello from alice.</textarea>" in html
    assert 'action="/1/delete"' in html


def test_update_saves(app, client) -> None:
    login(client)
    response = client.post("/1/update", data={"title": "Renamed", "body": "New body"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    (row,) = query(app, "SELECT * FROM post WHERE id = 1")
    assert (row["title"], row["body"]) == ("Renamed", "New body")
    assert "Your post is updated." in client.get("/").get_data(as_text=True)


def test_update_refuses_bad_input(app, client) -> None:
    login(client)
    response = client.post("/1/update", data={"title": "", "body": "draft"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Every post needs a title." in html
    assert ">draft</textarea>" in html
    (row,) = query(app, "SELECT * FROM post WHERE id = 1")
    assert row["title"] == "First post"


def test_delete(app, client) -> None:
    login(client)
    response = client.post("/1/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert query(app, "SELECT * FROM post") == []
    assert "Your post is deleted." in client.get("/").get_data(as_text=True)


def test_delete_is_post_only(app, client) -> None:
    login(client)
    assert client.get("/1/delete").status_code == 405
    assert len(query(app, "SELECT * FROM post")) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/1/update"), ("POST", "/1/update"), ("POST", "/1/delete")],
)
def test_only_the_author_may_change_a_post(app, client, method: str, path: str) -> None:
    login(client, "bob")
    response = client.open(path, method=method, data={"title": "mine now"})
    assert response.status_code == 403
    assert "Only the author of a post may change it." in response.get_data(as_text=True)
    (row,) = query(app, "SELECT * FROM post WHERE id = 1")
    assert row["title"] == "First post"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/2/update"), ("POST", "/2/update"), ("POST", "/2/delete")],
)
def test_missing_post_is_404(client, method: str, path: str) -> None:
    login(client)
    response = client.open(path, method=method, data={"title": "t"})
    assert response.status_code == 404
    assert "There is no post 2." in response.get_data(as_text=True)


def test_oversized_post_is_413(app, client) -> None:
    login(client)
    response = client.post(
        "/create", data={"title": "big", "body": "x" * (1024 * 1024)}
    )
    assert response.status_code == 413
    assert len(query(app, "SELECT * FROM post")) == 1
