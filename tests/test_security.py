from __future__ import annotations

import hmac
import ntpath
import posixpath
import re
import types

import pytest
import werkzeug.security as wz
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from erlen import security
from erlen.security import check_password_hash
from erlen.security import DEFAULT_PBKDF2_ITERATIONS
from erlen.security import gen_salt
from erlen.security import generate_password_hash
from erlen.security import safe_join
from erlen.security import SALT_CHARS

# Cheap parameters keep the many generated cases fast; the defaults get
# their own tests below.
CHEAP_METHODS = [
    "scrypt:256:1:1",
    "scrypt:1024:2:2",
    "pbkdf2:sha256:1",
    "pbkdf2:sha512:3",
    "pbkdf2:sha1:2",
]

passwords = st.text(max_size=40)
salts = st.text(alphabet=SALT_CHARS + "é", min_size=0, max_size=20)


# -- gen_salt -----------------------------------------------------------------


def test_gen_salt_length_and_alphabet() -> None:
    for length in (1, 2, 16, 100):
        salt = gen_salt(length)
        assert len(salt) == length
        assert set(salt) <= set(SALT_CHARS)


def test_gen_salt_is_random() -> None:
    assert len({gen_salt(16) for _ in range(20)}) == 20


@pytest.mark.parametrize("length", [0, -1, -100])
def test_gen_salt_rejects_non_positive(length: int) -> None:
    with pytest.raises(ValueError, match=rf"at least 1, but got {length}"):
        gen_salt(length)


@pytest.mark.parametrize("length", ["16", 1.5, None])
def test_gen_salt_rejects_non_int(length: object) -> None:
    with pytest.raises(TypeError, match="needs an int length"):
        gen_salt(length)  # type: ignore[arg-type]


# -- generate_password_hash / check_password_hash ------------------------------


def test_default_method_is_werkzeug_scrypt() -> None:
    pwhash = generate_password_hash("correct horse")
    method, salt, digest = pwhash.split("$")
    assert method == "scrypt:32768:8:1"
    assert len(salt) == 16
    assert set(salt) <= set(SALT_CHARS)
    assert re.fullmatch("[0-9a-f]{128}", digest)
    assert check_password_hash(pwhash, "correct horse")
    assert not check_password_hash(pwhash, "correct horse ")
    # Werkzeug verifies it, and its default hash verifies under erlen.
    assert wz.check_password_hash(pwhash, "correct horse")
    assert check_password_hash(wz.generate_password_hash("battery"), "battery")


def test_default_pbkdf2_matches_werkzeug() -> None:
    assert DEFAULT_PBKDF2_ITERATIONS == wz.DEFAULT_PBKDF2_ITERATIONS == 1_000_000
    pwhash = generate_password_hash("staple", method="pbkdf2", salt_length=8)
    method, salt, digest = pwhash.split("$")
    assert method == "pbkdf2:sha256:1000000"
    assert len(salt) == 8
    assert re.fullmatch("[0-9a-f]{64}", digest)
    assert wz.check_password_hash(pwhash, "staple")
    assert not wz.check_password_hash(pwhash, "stapler")


@pytest.mark.parametrize(
    ("method", "expected_prefix"),
    [
        ("scrypt:256:1:1", "scrypt:256:1:1$"),
        ("pbkdf2:sha256:1", "pbkdf2:sha256:1$"),
        ("pbkdf2:sha512:3", "pbkdf2:sha512:3$"),
    ],
)
def test_method_is_spelled_out(method: str, expected_prefix: str) -> None:
    pwhash = generate_password_hash("pw", method=method, salt_length=4)
    assert pwhash.startswith(expected_prefix)
    assert len(pwhash.split("$")[1]) == 4


def test_pbkdf2_hash_name_only_keeps_default_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Lower the default (in both libraries) so the test stays fast.
    monkeypatch.setattr(security, "DEFAULT_PBKDF2_ITERATIONS", 7)
    monkeypatch.setattr(wz, "DEFAULT_PBKDF2_ITERATIONS", 7)
    pwhash = generate_password_hash("pw", method="pbkdf2:sha512")
    assert pwhash.startswith("pbkdf2:sha512:7$")
    assert wz.check_password_hash(pwhash, "pw")
    assert check_password_hash(wz.generate_password_hash("pw", "pbkdf2:sha1"), "pw")


@pytest.mark.parametrize("method", CHEAP_METHODS)
def test_erlen_and_werkzeug_verify_each_other(method: str) -> None:
    ours = generate_password_hash("pässwörd 🔑", method=method)
    theirs = wz.generate_password_hash("pässwörd 🔑", method=method)
    assert ours.split("$")[0] == theirs.split("$")[0]
    for pwhash in (ours, theirs):
        assert check_password_hash(pwhash, "pässwörd 🔑")
        assert wz.check_password_hash(pwhash, "pässwörd 🔑")
        assert not check_password_hash(pwhash, "passwörd 🔑")


@given(
    password=passwords,
    other=passwords,
    method=st.sampled_from(CHEAP_METHODS),
    salt_length=st.integers(1, 24),
)
def test_cross_verification_generated(
    password: str, other: str, method: str, salt_length: int
) -> None:
    ours = generate_password_hash(password, method, salt_length)
    theirs = wz.generate_password_hash(password, method, salt_length)
    assert wz.check_password_hash(ours, password)
    assert check_password_hash(theirs, password)
    # HMAC pads a short key with zero bytes, so scrypt and PBKDF2 cannot tell
    # a password from itself with trailing NULs ("" and "\x00"): the verdict
    # is Werkzeug's, and a plain mismatch otherwise.
    for pwhash in (ours, theirs):
        verdict = check_password_hash(pwhash, other)
        assert verdict == wz.check_password_hash(pwhash, other)
        if other.rstrip("\x00") != password.rstrip("\x00"):
            assert not verdict
        elif other == password:
            assert verdict


@given(password=passwords, salt=salts, method=st.sampled_from(CHEAP_METHODS))
def test_same_salt_gives_werkzeug_digest(password: str, salt: str, method: str) -> None:
    # Any salt Werkzeug could have stored, including non-ASCII ones written by
    # hand, hashes to the same digest.
    assert security._hash(method, salt, password) == wz._hash_internal(
        method, salt, password
    )


def test_scrypt_hash_from_werkzeug_with_fixed_salt() -> None:
    # A stored hash as a Flask app would have it in its database.
    digest, method = wz._hash_internal("scrypt:256:2:1", "NaCl", "secret")
    stored = f"{method}$NaCl${digest}"
    assert check_password_hash(stored, "secret")
    assert not check_password_hash(stored, "Secret")
    assert not check_password_hash(stored.upper(), "secret")


def test_empty_password_and_salt_fields() -> None:
    digest, method = wz._hash_internal("pbkdf2:sha256:2", "", "")
    assert check_password_hash(f"{method}$${digest}", "")
    assert not check_password_hash(f"{method}$${digest}", " ")


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("md5", r"Unknown hash method 'md5' in 'md5'"),
        ("", r"Unknown hash method ''"),
        ("Scrypt", r"Unknown hash method 'Scrypt'"),
        ("scrypt:16:1", r"gives 2 scrypt arguments, but scrypt takes exactly 3"),
        ("scrypt:256:1:1:1", r"gives 4 scrypt arguments"),
        ("scrypt:a:1:1", r"scrypt cost n .* must be a decimal number, but got 'a'"),
        ("scrypt:16:-1:1", r"block size r .* decimal number, but got '-1'"),
        ("scrypt:16:1: 1", r"parallelism p .* decimal number, but got ' 1'"),
        ("scrypt:256:1:1_0", r"decimal number, but got '1_0'"),
        ("scrypt:15:1:1", r"power of 2 greater than 1, but got 15"),
        ("scrypt:1:1:1", r"power of 2 greater than 1, but got 1"),
        ("scrypt:0:1:1", r"power of 2 greater than 1, but got 0"),
        ("scrypt:16:0:1", r"at least 1, but got r=0, p=1"),
        ("scrypt:16:1:0", r"at least 1, but got r=1, p=0"),
        ("scrypt:1048576:16:1", r"over hashlib's 2 GiB limit"),
        ("pbkdf2:sha256:1:1", r"gives 3 pbkdf2 arguments, but pbkdf2 takes at most 2"),
        ("pbkdf2:sha256:", r"iteration count .* decimal number, but got ''"),
        ("pbkdf2:sha256:0", r"between 1 and 2147483647, but got 0"),
        ("pbkdf2:sha256:2147483648", r"between 1 and 2147483647, but got 2147483648"),
        ("pbkdf2:nohash:1", r"generate_password_hash\(method='pbkdf2:nohash:1'\)"),
        ("pbkdf2::1", r"generate_password_hash\(method='pbkdf2::1'\)"),
    ],
)
def test_generate_rejects_bad_method(method: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_password_hash("pw", method=method)


def test_tiny_scrypt_cost_fails_like_werkzeug() -> None:
    # Same memory budget as Werkzeug (132 * n * r * p): whatever erlen can
    # generate, Werkzeug can verify, and OpenSSL needs more than that for a
    # tiny n.
    with pytest.raises(ValueError, match="memory limit exceeded"):
        wz.generate_password_hash("pw", "scrypt:16:1:1")
    with pytest.raises(ValueError, match=r"method='scrypt:16:1:1'.*memory limit"):
        generate_password_hash("pw", "scrypt:16:1:1")
    assert not check_password_hash("scrypt:16:1:1$salt$00", "pw")


def test_generate_rejects_bad_salt_length() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_password_hash("pw", "pbkdf2:sha256:1", salt_length=0)


def test_generate_rejects_lone_surrogate() -> None:
    with pytest.raises(ValueError, match="lone surrogates") as info:
        generate_password_hash("ab\udc80", "pbkdf2:sha256:1")
    assert not isinstance(info.value, UnicodeError)


@pytest.mark.parametrize(
    ("password", "method", "what"),
    [
        (b"pw", "scrypt", "the password"),
        (None, "scrypt", "the password"),
        ("pw", b"scrypt", "the method"),
    ],
)
def test_generate_rejects_non_str(password: object, method: object, what: str) -> None:
    with pytest.raises(TypeError, match=f"needs {what} as a str"):
        generate_password_hash(password, method)  # type: ignore[arg-type]


def _cheap_hash(password: str) -> str:
    return generate_password_hash(password, "pbkdf2:sha256:1")


@pytest.mark.parametrize(
    "pwhash",
    [
        "",
        "plain",
        "pbkdf2:sha256:1$onlysalt",
        "md5$salt$0cc175b9c0f1b6a831c399e269772661",
        "sha1$salt$abc",
        "$salt$abc",
        "scrypt:x:8:1$salt$abc",
        "scrypt:3:8:1$salt$abc",
        "scrypt:16:1$salt$abc",
        "scrypt:2147483648:8:1$salt$abc",
        "pbkdf2:sha256:0$salt$abc",
        "pbkdf2:sha256:99999999999$salt$abc",
        "pbkdf2:nohash:1$salt$abc",
        "pbkdf2:sha256:1:2$salt$abc",
        "pbkdf2:sha256:1$salt$é",
        "pbkdf2:sha256:1$salt$" + "0" * 64,
    ],
)
def test_check_returns_false_for_malformed_hash(pwhash: str) -> None:
    assert check_password_hash(pwhash, "pw") is False


@pytest.mark.parametrize(
    "pwhash",
    ["md5$salt$abc", "scrypt:x:8:1$s$a", "pbkdf2:nohash:1$s$a", "pbkdf2:sha256:1$s$é"],
)
def test_werkzeug_raises_where_erlen_returns_false(pwhash: str) -> None:
    # Deliberate deviation: a corrupt stored hash is "no match", not a 500.
    with pytest.raises((ValueError, TypeError)):
        wz.check_password_hash(pwhash, "pw")
    assert check_password_hash(pwhash, "pw") is False


def test_check_rejects_lone_surrogate_as_mismatch() -> None:
    assert check_password_hash(_cheap_hash("ab"), "ab\udc80") is False
    salt_with_surrogate = "pbkdf2:sha256:1$s\udc80$abc"
    assert check_password_hash(salt_with_surrogate, "ab") is False


def test_digest_may_contain_dollar() -> None:
    # Only the first two "$" split fields; the rest belongs to the digest.
    pwhash = _cheap_hash("pw")
    assert check_password_hash(pwhash, "pw")
    assert not check_password_hash(pwhash + "$", "pw")


@pytest.mark.parametrize(
    ("pwhash", "password", "what"),
    [
        (None, "pw", "the stored hash"),
        (b"pbkdf2:sha256:1$s$a", "pw", "the stored hash"),
        ("pbkdf2:sha256:1$s$a", b"pw", "the password"),
    ],
)
def test_check_rejects_non_str(pwhash: object, password: object, what: str) -> None:
    with pytest.raises(TypeError, match=f"check_password_hash\\(\\) needs {what}"):
        check_password_hash(pwhash, password)  # type: ignore[arg-type]


def test_check_uses_constant_time_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return a == b

    # security imports hmac on first use, so the spy goes on the module itself.
    monkeypatch.setattr(hmac, "compare_digest", spy)
    pwhash = _cheap_hash("pw")
    assert check_password_hash(pwhash, "pw")
    assert calls == [(pwhash.split("$")[2], pwhash.split("$")[2])]


# -- safe_join ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("directory", "parts", "expected"),
    [
        ("/srv/static", ("css/site.css",), "/srv/static/css/site.css"),
        ("/srv/static", ("css", "site.css"), "/srv/static/css/site.css"),
        ("/srv/static/", ("a",), "/srv/static/a"),
        ("/srv/static", (), "/srv/static"),
        ("/srv/static", ("",), "/srv/static"),
        ("/srv/static", ("", "a", ""), "/srv/static/a"),
        ("/srv/static", ("a/./b//c/",), "/srv/static/a/b/c"),
        ("/srv/static", ("a/../b",), "/srv/static/b"),
        ("/srv/static", ("a/..",), "/srv/static/."),
        ("/srv/static", (".",), "/srv/static/."),
        ("/srv/static", ("...",), "/srv/static/..."),
        ("/srv/static", ("..a",), "/srv/static/..a"),
        ("/srv/static", ("a..",), "/srv/static/a.."),
        ("/srv/static", ("file:stream",), "/srv/static/file:stream"),
        ("/srv/static", ("ab:c",), "/srv/static/ab:c"),
        ("/srv/static", ("%2e%2e/x",), "/srv/static/%2e%2e/x"),
        ("/srv/static", ("\uff0e\uff0e/x",), "/srv/static/\uff0e\uff0e/x"),
        ("/srv/static", ("con.txt",), "/srv/static/con.txt"),
        ("", ("a",), "./a"),
        ("", ("/a",), None),
        ("", (), "."),
        (".", ("a",), "./a"),
        ("/", ("etc",), "/etc"),
        ("/srv/static", ("..",), None),
        ("/srv/static", ("../x",), None),
        ("/srv/static", ("a/../../x",), None),
        ("/srv/static", ("a", ".."), None),
        ("/srv/static", ("/etc/passwd",), None),
        ("/srv/static", ("//etc/passwd",), None),
        ("/srv/static", ("a", "/b"), None),
        ("/srv/static", ("./../x",), None),
    ],
)
def test_safe_join_cases(
    directory: str, parts: tuple[str, ...], expected: str | None
) -> None:
    assert safe_join(directory, *parts) == expected
    assert wz.safe_join(directory, *parts) == expected


# Refused by erlen on every OS; Werkzeug on Linux accepts them.
STRICTER_CASES = [
    ("/srv", ("a\\b",)),
    ("/srv", ("..\\x",)),
    ("/srv", ("\\\\server\\share",)),
    ("/srv", ("a\\b/..",)),
    ("/srv", ("a\x00.txt",)),
    ("/srv", ("\x00",)),
    ("/srv", ("C:",)),
    ("/srv", ("C:x",)),
    ("/srv", ("c:/windows",)),
    ("/srv", ("a/Z:b",)),
    ("/srv", ("./C:x",)),
    ("/srv", ("ok", "d:\\x")),
]


@pytest.mark.parametrize(("directory", "parts"), STRICTER_CASES)
def test_safe_join_stricter_than_werkzeug(
    directory: str, parts: tuple[str, ...]
) -> None:
    assert safe_join(directory, *parts) is None
    assert wz.safe_join(directory, *parts) is not None


@pytest.mark.parametrize("bad", [b"a", None, 1])
def test_safe_join_rejects_non_str_segment(bad: object) -> None:
    with pytest.raises(TypeError, match="every path segment as a str"):
        safe_join("/srv", "a", bad)  # type: ignore[arg-type]


def test_safe_join_rejects_non_str_directory() -> None:
    with pytest.raises(TypeError, match="the directory as a str, but got a bytes"):
        safe_join(b"/srv", "a")  # type: ignore[arg-type]


PIECES = [
    ".",
    "..",
    "...",
    "/",
    "//",
    "\\",
    "\x00",
    "a",
    "b.txt",
    "C:",
    "c",
    ":",
    " ",
    "é",
    "\uff0e",
    "\u2215",
    "\uff3c",
    "%2e",
    "%2f",
    "CON",
    "nul",
    ".txt",
    "~",
]
segments = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
directories = st.sampled_from(["", ".", "/", "/srv", "/srv/", "static", "a/b"])


def _stays_inside(directory: str, result: str) -> bool:
    base = posixpath.normpath(directory or ".")
    norm = posixpath.normpath(result)
    if base == ".":
        return not (norm == ".." or norm.startswith(("../", "/")))
    return norm == base or norm.startswith(base.rstrip("/") + "/")


def _has_windows_hazard(text: str) -> bool:
    return (
        "\\" in text or "\x00" in text or re.search("(^|/)[A-Za-z]:", text) is not None
    )


@example(directory="/srv", parts=["a/../..", "x"])
@example(directory="", parts=["..", "x"])
@example(directory="/", parts=["//etc"])
@given(directory=directories, parts=st.lists(segments, max_size=4))
def test_safe_join_never_escapes(directory: str, parts: list[str]) -> None:
    result = safe_join(directory, *parts)
    if result is None:
        return
    assert _stays_inside(directory, result)
    tail = result[len(directory or ".") :]
    assert not _has_windows_hazard(tail)


@given(directory=directories, parts=st.lists(segments, max_size=4))
def test_safe_join_differential(directory: str, parts: list[str]) -> None:
    ours = safe_join(directory, *parts)
    theirs = wz.safe_join(directory, *parts)
    if ours is None and theirs is not None:
        # The only deliberate difference: erlen refuses backslashes, NUL and
        # drive-like segments on every OS.
        assert any(_has_windows_hazard(part) for part in parts)
    else:
        assert ours == theirs


@given(parts=st.lists(st.text(max_size=12), max_size=4))
def test_safe_join_arbitrary_text(parts: list[str]) -> None:
    result = safe_join("/srv", *parts)
    theirs = wz.safe_join("/srv", *parts)
    if result is None:
        assert theirs is None or any(_has_windows_hazard(p) for p in parts)
    else:
        assert result == theirs
        assert _stays_inside("/srv", result)


@pytest.fixture
def werkzeug_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    # Werkzeug reads os.name and os.path at call time and its separator list at
    # import: give its module a Windows view without touching the real os.
    fake_os = types.SimpleNamespace(name="nt", path=ntpath)
    monkeypatch.setattr(wz, "os", fake_os)
    monkeypatch.setattr(wz, "_os_alt_seps", ["\\"])


WINDOWS_CASES = [
    ("CON",),
    ("con",),
    ("con.txt",),
    ("Con.tar.gz",),
    ("con .txt",),
    ("  nul",),
    ("a/NUL",),
    ("NUL:",),
    ("nul:stream",),
    ("COM1",),
    ("com\u00b9.log",),
    ("LPT9.x",),
    ("conin$",),
    ("CONOUT$.txt",),
    ("a", "aux"),
    ("prn/x",),
    ("console",),
    ("com10",),
    ("connect.txt",),
    ("a.con",),
    ("file:stream",),
    ("dir/file.txt",),
    ("C:x",),
    ("C:/x",),
    ("/x",),
    ("a\\b",),
    ("a\x00",),
    ("CON/..",),
]


@pytest.mark.usefixtures("werkzeug_on_windows")
@pytest.mark.parametrize("parts", WINDOWS_CASES)
def test_safe_join_windows_devices_match_werkzeug(parts: tuple[str, ...]) -> None:
    ours = security._safe_join("/srv", parts, windows=True)
    theirs = wz.safe_join("/srv", *parts)
    if ours is None and theirs is not None:
        # NUL and drive-relative "C:x" are refused by erlen only.
        assert any(_has_windows_hazard(part) for part in parts)
    else:
        assert ours == theirs


@pytest.mark.parametrize(
    "part", ["CON", "nul.txt", "a/com1", "LPT\u00b2", "aux .log", "conin$"]
)
def test_safe_join_devices_refused_on_windows_only(part: str) -> None:
    assert security._safe_join("/srv", [part], windows=True) is None
    assert security._safe_join("/srv", [part], windows=False) == f"/srv/{part}"
