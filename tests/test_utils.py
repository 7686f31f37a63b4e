from __future__ import annotations

import os
import types

import pytest
import werkzeug.utils as wzu
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from erlen import utils
from erlen.utils import secure_filename

CASES = [
    ("report 2024.pdf", "report_2024.pdf"),
    ("  holiday\tphotos\n.zip  ", "holiday_photos_.zip"),
    ("../../../../home/user/.bashrc", "home_user_.bashrc"),
    ("/etc/shadow", "etc_shadow"),
    ("..", ""),
    ("...", ""),
    ("._.", ""),
    ("", ""),
    ("   ", ""),
    ("__init__.py", "init__.py"),
    (".hidden", "hidden"),
    ("trailing.", "trailing"),
    ("a-b_c.d", "a-b_c.d"),
    ("Crème brûlée.JPG", "Creme_brulee.JPG"),
    ("ﬁle①.txt", "file1.txt"),
    ("日本語.txt", "txt"),
    ("日本語", ""),
    ("a\\b.txt", "ab.txt"),
    ("semi;colon&amp$dollar.sh", "semicolonampdollar.sh"),
    ("nul\x00byte", "nulbyte"),
    ("a\x1cb", "a_b"),
    ("a\u00a0b", "a_b"),
    ("a\u2003b", "a_b"),
    ("CON", "CON"),
    ("con.txt", "con.txt"),
    ("x" * 300, "x" * 300),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_secure_filename_cases(name: str, expected: str) -> None:
    assert secure_filename(name) == expected
    assert wzu.secure_filename(name) == expected


@example("../a")
@example("\u212b\u00c5\u0041\u030a")
@example("\x1f\x1e\x1d\x1c")
@example("\u2028x\u2029")
@given(st.text())
def test_secure_filename_matches_werkzeug(name: str) -> None:
    result = secure_filename(name)
    assert result == wzu.secure_filename(name)
    assert result == secure_filename(result)


@given(
    st.lists(
        st.sampled_from(
            [".", "..", "/", "\\", "_", "-", " ", "\t", "a", "Z", "9", "é", "…", "CON"]
        ),
        max_size=12,
    ).map("".join)
)
def test_secure_filename_tricky_pieces(name: str) -> None:
    result = secure_filename(name)
    assert result == wzu.secure_filename(name)
    assert "/" not in result
    assert "\\" not in result
    assert not result.startswith((".", "_"))
    assert result.isascii()


@pytest.mark.parametrize("bad", [b"file.txt", None, 3])
def test_secure_filename_rejects_non_str(bad: object) -> None:
    with pytest.raises(TypeError, match="secure_filename\\(\\) needs a str"):
        secure_filename(bad)  # type: ignore[arg-type]


def test_module_uses_this_os() -> None:
    assert utils._IS_WINDOWS is (os.name == "nt")
    assert "/" in utils._SEPARATORS


WINDOWS_NAMES = [
    "CON",
    "con",
    "con.txt",
    "Con .tar.gz",
    "NUL",
    "nul.c",
    "AUX",
    "PRN.log",
    "COM1",
    "com9.txt",
    "LPT1",
    "lpt\u00b9",
    "COM\u00b3.x",
    "CONIN$",
    "conout$.txt",
    "console.txt",
    "com10",
    "LPT",
    "a.con",
    "dir\\file.txt",
    "dir/file.txt",
    "..\\..\\CON",
    "c:\\con",
]


@pytest.fixture
def werkzeug_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    # werkzeug.utils reads os.name, os.sep and os.path.altsep at call time:
    # give its module a Windows view without touching the real os module.
    fake_os = types.SimpleNamespace(
        name="nt", sep="\\", path=types.SimpleNamespace(altsep="/")
    )
    monkeypatch.setattr(wzu, "os", fake_os)


@pytest.mark.usefixtures("werkzeug_on_windows")
@pytest.mark.parametrize("name", WINDOWS_NAMES)
def test_windows_behaviour_matches_werkzeug(name: str) -> None:
    assert utils._secure_filename(name, ("\\", "/"), True) == wzu.secure_filename(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("  aux  ", "_aux"),
        ("dir\\file.txt", "dir_file.txt"),
        ("console", "console"),
    ],
)
def test_windows_behaviour(name: str, expected: str) -> None:
    assert utils._secure_filename(name, ("\\", "/"), True) == expected
