"""Werkzeug's utility names that Flask apps import, such as ``secure_filename``."""

from __future__ import annotations

import os
import re
import unicodedata

# Everything but ASCII letters, digits and "_.-" is dropped.
_FILENAME_STRIP_RE = re.compile(r"[^A-Za-z0-9_.-]+")

# Same list as erlen.security's: kept here too so utils stays importable
# without security (they sit side by side at the bottom layer).
_WINDOWS_DEVICE_NAMES = frozenset(
    {
        "AUX",
        "CON",
        "CONIN$",
        "CONOUT$",
        "NUL",
        "PRN",
        *(f"COM{c}" for c in "123456789\u00b9\u00b2\u00b3"),
        *(f"LPT{c}" for c in "123456789\u00b9\u00b2\u00b3"),
    }
)

_IS_WINDOWS = os.name == "nt"

# The path separators of this OS, each turned into a space (and so into "_").
_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)


def _secure_filename(filename: str, separators: tuple[str, ...], windows: bool) -> str:
    """Implement :func:`secure_filename`, with the OS choice passed in for tests."""
    # PERF: NFKD leaves ASCII text unchanged, so skip it and the re-encode.
    if not filename.isascii():
        filename = unicodedata.normalize("NFKD", filename)
        filename = filename.encode("ascii", "ignore").decode("ascii")
    for sep in separators:
        filename = filename.replace(sep, " ")
    # str.split() with no argument splits on runs of any whitespace, which in
    # ASCII includes \x1c-\x1f as well as space, \t, \n, \v, \f and \r.
    filename = "_".join(filename.split())
    filename = _FILENAME_STRIP_RE.sub("", filename).strip("._")
    if windows and filename.partition(".")[0].strip().upper() in _WINDOWS_DEVICE_NAMES:
        filename = f"_{filename}"
    return filename


def secure_filename(filename: str) -> str:
    """Return a version of ``filename`` that is safe to save on a regular filesystem.

    The result gives the same output as Werkzeug's ``secure_filename`` on the
    same OS:

    -   Unicode is decomposed (NFKD) and reduced to ASCII; other characters
        are dropped (``"Ünïcode"`` becomes ``"Unicode"``).
    -   The OS's path separators (``/``, and ``\\`` on Windows) and runs of
        whitespace become a single ``_``.
    -   Only ASCII letters, digits and ``_.-`` are kept, then leading and
        trailing ``.`` and ``_`` are removed, so ``"../../etc/passwd"``
        becomes ``"etc_passwd"``.
    -   On Windows, a name whose stem is a DOS device (``CON``, ``NUL``,
        ``COM1``, ...) gets a leading ``_``.

    The result may be empty when nothing could be kept: generate a name then.
    It says nothing about whether the file exists or is a symlink.

    :param filename: The untrusted filename, such as an upload's.
    :raises TypeError: If ``filename`` is not a str.
    """
    if not isinstance(filename, str):
        raise TypeError(
            "secure_filename() needs a str, but got a"
            f" {type(filename).__name__} ({filename!r}); decode bytes first."
        )
    return _secure_filename(filename, _SEPARATORS, _IS_WINDOWS)
