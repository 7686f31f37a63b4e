from __future__ import annotations

import typing as t

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware as WzDispatcher

from erlen.middleware import DispatcherMiddleware


class NamedApp:
    """WSGI app that answers with its name and records SCRIPT_NAME/PATH_INFO."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: tuple[str, str] | None = None

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> list[bytes]:
        self.seen = (environ["SCRIPT_NAME"], environ["PATH_INFO"])
        start_response("200 OK", [])
        return [self.name.encode()]


def dispatch(
    middleware: type[t.Any],
    mounts: dict[str, str],
    path: str | None,
    script_name: str | None = "",
) -> tuple[str, str, str]:
    default = NamedApp("default")
    apps = {prefix: NamedApp(name) for prefix, name in mounts.items()}
    environ: dict[str, t.Any] = {}
    if path is not None:
        environ["PATH_INFO"] = path
    if script_name is not None:
        environ["SCRIPT_NAME"] = script_name
    statuses: list[str] = []
    body = middleware(default, dict(apps))(
        environ, lambda status, headers: statuses.append(status)
    )
    assert statuses == ["200 OK"]
    name = b"".join(body).decode()
    target = (
        default
        if name == "default"
        else next(a for a in apps.values() if a.name == name)
    )
    assert target.seen is not None
    return name, *target.seen


MOUNTS = {"/api": "api", "/api/v2": "v2", "/static": "static"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", ("default", "", "/")),
        ("/index", ("default", "", "/index")),
        ("/api", ("api", "/api", "")),
        ("/api/", ("api", "/api", "/")),
        ("/api/users/7", ("api", "/api", "/users/7")),
        ("/api/v2", ("v2", "/api/v2", "")),
        ("/api/v2/users", ("v2", "/api/v2", "/users")),
        ("/api/v3/users", ("api", "/api", "/v3/users")),
        ("/apix", ("default", "", "/apix")),
        ("/static//css", ("static", "/static", "//css")),
        ("//api", ("default", "", "//api")),
        ("", ("default", "", "")),
        # No "/" at all: the whole path moves into SCRIPT_NAME, as in Werkzeug.
        ("api", ("default", "api", "")),
    ],
)
def test_dispatch_cases(path: str, expected: tuple[str, str, str]) -> None:
    assert dispatch(DispatcherMiddleware, MOUNTS, path) == expected
    assert dispatch(WzDispatcher, MOUNTS, path) == expected


def test_script_name_is_extended() -> None:
    assert dispatch(DispatcherMiddleware, MOUNTS, "/api/x", "/root") == (
        "api",
        "/root/api",
        "/x",
    )


def test_missing_keys() -> None:
    assert dispatch(DispatcherMiddleware, MOUNTS, None, None) == ("default", "", "")


def test_relative_mount_and_root_mount() -> None:
    # A PATH_INFO without a leading "/" can still hit a mount named by its
    # first segment, and a "" mount replaces the default app, as in Werkzeug.
    mounts = {"api": "rel", "": "root"}
    for middleware in (DispatcherMiddleware, WzDispatcher):
        assert dispatch(middleware, mounts, "api/x") == ("rel", "api", "/x")
        assert dispatch(middleware, mounts, "/other") == ("root", "", "/other")


def test_mounts_attribute_and_late_mounting() -> None:
    default = NamedApp("default")
    middleware = DispatcherMiddleware(default)
    assert middleware.app is default
    assert middleware.mounts == {}
    late = NamedApp("late")
    middleware.mounts["/late"] = late
    environ = {"PATH_INFO": "/late/x", "SCRIPT_NAME": ""}
    assert list(middleware(environ, lambda s, h: None)) == [b"late"]
    assert late.seen == ("/late", "/x")


SEGMENTS = st.sampled_from(["a", "b", "api", "", "v1", ".", "x y", "é"])
paths = st.lists(SEGMENTS, max_size=5).map(lambda segs: "".join("/" + s for s in segs))
mount_keys = st.lists(SEGMENTS, min_size=1, max_size=3).map(
    lambda segs: "".join("/" + s for s in segs)
)


@example(mounts=["/a"], path="/a/", script_name="")
@example(mounts=["/a/"], path="/a/", script_name="/s")
@given(
    mounts=st.lists(st.one_of(mount_keys, st.sampled_from(["", "a", "/"])), max_size=4),
    path=st.one_of(paths, st.sampled_from(["", "a", "a/b", "//", "/a//b/"])),
    script_name=st.sampled_from(["", "/root", "/root/"]),
)
def test_dispatch_matches_werkzeug(
    mounts: list[str], path: str, script_name: str
) -> None:
    named = {prefix: f"app{i}" for i, prefix in enumerate(dict.fromkeys(mounts))}
    ours = dispatch(DispatcherMiddleware, named, path, script_name)
    theirs = dispatch(WzDispatcher, named, path, script_name)
    assert ours == theirs
