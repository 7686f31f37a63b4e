"""Password hashing on hashlib's scrypt and PBKDF2, and a path traversal guard."""

from __future__ import annotations

import os
import posixpath
import re
import typing as t

# PERF: hashlib, hmac and secrets are imported on first use (import time): only
# password hashing needs them, and safe_join (send_from_directory) does not.

#: The alphabet :func:`gen_salt` draws from (ASCII letters and digits).
SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

#: PBKDF2 iterations used when ``method`` names no count (Werkzeug 3.1's value).
DEFAULT_PBKDF2_ITERATIONS = 1_000_000

# scrypt's defaults, N=2**15, r=8, p=1 (Werkzeug 3.1's, and RFC 7914's
# interactive-login recommendation): about 32 MiB and 0.1 s per hash.
_SCRYPT_DEFAULTS = (2**15, 8, 1)

# hashlib refuses a ``maxmem`` or an iteration count above C's INT_MAX.
_INT_MAX = 2**31 - 1

# Stored parameters are plain ASCII decimal numbers; ``int()`` alone would also
# accept signs, underscores, surrounding spaces and non-ASCII digits.
_DECIMAL_RE = re.compile(r"[0-9]+", re.ASCII)

# APPSEC: the characters that, anywhere in an untrusted segment, make
# ``safe_join`` refuse it: NUL (truncates or fails in C APIs), the backslash
# (Windows' separator, rejected on every OS so a path checked on one OS stays
# safe when used on another) and any other separator this OS knows. A segment
# that starts with a drive (``C:``) is refused too: on Windows it switches
# drives or makes the path drive-relative.
_UNSAFE_SEGMENT_RE = re.compile(
    "["
    + re.escape("".join(sorted({"\\", "\0", os.sep, os.altsep or "/"} - {"/"})))
    + "]|(?:^|/)[A-Za-z]:"
)

# The DOS device names Windows opens as devices in any directory, whatever
# extension follows (reading ``CON`` or ``AUX`` blocks forever).
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


def gen_salt(length: int) -> str:
    """Return a random string of ``length`` characters from :data:`SALT_CHARS`.

    The characters come from :mod:`secrets`, the OS's cryptographic source.

    :param length: Number of characters, at least 1.
    :raises TypeError: If ``length`` is not an int.
    :raises ValueError: If ``length`` is less than 1.
    """
    if not isinstance(length, int):
        raise TypeError(
            f"gen_salt() needs an int length, but got {length!r}"
            f" ({type(length).__name__}); pass a positive number such as 16."
        )
    if length < 1:
        raise ValueError(
            f"gen_salt() needs a length of at least 1, but got {length!r};"
            " pass a positive number such as 16."
        )
    import secrets

    choice = secrets.choice
    return "".join([choice(SALT_CHARS) for _ in range(length)])


def _parse_int(text: str, what: str, method: str) -> int:
    """Return ``text`` as an int, or raise ValueError naming the method."""
    if _DECIMAL_RE.fullmatch(text) is None:
        raise ValueError(
            f"The {what} in hash method {method!r} must be a decimal number,"
            f" but got {text!r}."
        )
    return int(text)


def _parse_scrypt(method: str, args: list[str]) -> tuple[int, int, int]:
    """Return scrypt's ``(n, r, p)`` from a method's arguments."""
    if not args:
        return _SCRYPT_DEFAULTS
    if len(args) != 3:
        raise ValueError(
            f"Hash method {method!r} gives {len(args)} scrypt arguments, but"
            " scrypt takes exactly 3, as in 'scrypt:32768:8:1' (n:r:p);"
            " or pass plain 'scrypt' for the defaults."
        )
    n = _parse_int(args[0], "scrypt cost n", method)
    r = _parse_int(args[1], "scrypt block size r", method)
    p = _parse_int(args[2], "scrypt parallelism p", method)
    if n < 2 or n & (n - 1):
        raise ValueError(
            f"The scrypt cost n in hash method {method!r} must be a power of 2"
            f" greater than 1, but got {n}; the default is 32768."
        )
    if r < 1 or p < 1:
        raise ValueError(
            f"The scrypt r and p in hash method {method!r} must be at least 1,"
            f" but got r={r}, p={p}; the defaults are r=8, p=1."
        )
    if 132 * n * r * p > _INT_MAX:
        raise ValueError(
            f"Hash method {method!r} needs about {128 * n * r * p} bytes of"
            " memory per hash, over hashlib's 2 GiB limit; lower n, r or p."
        )
    return n, r, p


def _parse_pbkdf2(method: str, args: list[str]) -> tuple[str, int]:
    """Return PBKDF2's ``(hash_name, iterations)`` from a method's arguments."""
    if len(args) > 2:
        raise ValueError(
            f"Hash method {method!r} gives {len(args)} pbkdf2 arguments, but"
            " pbkdf2 takes at most 2, as in 'pbkdf2:sha256:1000000'."
        )
    hash_name = args[0] if args else "sha256"
    if len(args) < 2:
        return hash_name, DEFAULT_PBKDF2_ITERATIONS
    iterations = _parse_int(args[1], "pbkdf2 iteration count", method)
    if not 1 <= iterations <= _INT_MAX:
        raise ValueError(
            f"The pbkdf2 iteration count in hash method {method!r} must be"
            f" between 1 and {_INT_MAX}, but got {iterations}."
        )
    return hash_name, iterations


def _hash(method: str, salt: str, password: str) -> tuple[str, str]:
    """Return ``(hex_digest, full_method)`` for ``password`` under ``method``.

    :raises ValueError: If the method is unknown or malformed, or hashlib
        rejects its parameters (including an unknown digest name), or the
        password or salt cannot be encoded as UTF-8.
    """
    import hashlib

    kind, *args = method.split(":")
    # NOTE: parameters parsed from a stored hash are trusted, as they came from
    # generate_password_hash; hashlib bounds them anyway (scrypt memory below
    # 2 GiB, PBKDF2 iterations below 2**31).
    if kind == "scrypt":
        n, r, p = _parse_scrypt(method, args)
        digest = hashlib.scrypt(
            password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p
        )
        return digest.hex(), f"scrypt:{n}:{r}:{p}"
    if kind == "pbkdf2":
        hash_name, iterations = _parse_pbkdf2(method, args)
        digest = hashlib.pbkdf2_hmac(
            hash_name, password.encode(), salt.encode(), iterations
        )
        return digest.hex(), f"pbkdf2:{hash_name}:{iterations}"
    raise ValueError(
        f"Unknown hash method {kind!r} in {method!r}; use 'scrypt' (the default)"
        " or 'pbkdf2', optionally with parameters such as 'scrypt:32768:8:1'"
        " or 'pbkdf2:sha256:1000000'."
    )


def _require_str(value: object, name: str, func: str) -> None:
    """Raise TypeError unless ``value`` is a str."""
    if not isinstance(value, str):
        raise TypeError(
            f"{func}() needs {name} as a str, but got a {type(value).__name__}"
            f" ({value!r}); decode bytes first."
        )


def generate_password_hash(
    password: str, method: str = "scrypt", salt_length: int = 16
) -> str:
    """Hash a password with a random salt, for storage.

    The result has Werkzeug 3.1's format, ``<method>$<salt>$<hex digest>``,
    with every parameter spelled out in ``<method>``, so hashes stored by a
    Flask app verify with :func:`check_password_hash` and the other way round.

    -   ``scrypt`` (default): ``scrypt:n:r:p``, default ``scrypt:32768:8:1``.
    -   ``pbkdf2``: ``pbkdf2:hash_name:iterations``, default
        ``pbkdf2:sha256:1000000``; ``pbkdf2:sha512`` keeps the default count.

    :param password: The plaintext password.
    :param method: The key derivation function and optional parameters.
    :param salt_length: Number of salt characters, from :func:`gen_salt`.
    :raises ValueError: If the method is unknown or its parameters are
        malformed or refused by hashlib, or the password has lone surrogates.
    :raises TypeError: If ``password`` or ``method`` is not a str.
    """
    _require_str(password, "the password", "generate_password_hash")
    _require_str(method, "the method", "generate_password_hash")
    salt = gen_salt(salt_length)
    try:
        hexdigest, full_method = _hash(method, salt, password)
    except ValueError as e:
        if isinstance(e, UnicodeEncodeError):
            raise ValueError(
                "generate_password_hash() could not encode the password as"
                f" UTF-8 ({e.reason} at index {e.start}); the password must"
                " not contain lone surrogates."
            ) from None
        raise ValueError(f"generate_password_hash(method={method!r}): {e}") from None
    return f"{full_method}${salt}${hexdigest}"


def check_password_hash(pwhash: str, password: str) -> bool:
    """Return whether ``password`` matches a hash from :func:`generate_password_hash`.

    Accepts hashes made by erlen or by Werkzeug 3.x. The digest comparison
    runs in constant time (:func:`hmac.compare_digest`).

    .. note:: Flask compatibility: a malformed stored hash (no ``$`` fields,
       an unknown method or digest, unparsable parameters, a non-hex digest)
       returns ``False`` here, where Werkzeug raises ``ValueError`` or
       ``TypeError``.

    :param pwhash: The stored hash.
    :param password: The plaintext password to check.
    :raises TypeError: If ``pwhash`` or ``password`` is not a str.
    """
    _require_str(pwhash, "the stored hash", "check_password_hash")
    _require_str(password, "the password", "check_password_hash")
    parts = pwhash.split("$", 2)
    if len(parts) != 3:
        return False
    method, salt, hexdigest = parts
    try:
        expected = _hash(method, salt, password)[0]
    except ValueError:  # includes UnicodeEncodeError for lone surrogates
        return False
    # compare_digest refuses non-ASCII str; such a digest cannot match anyway.
    if not hexdigest.isascii():
        return False
    import hmac

    return hmac.compare_digest(expected, hexdigest)


def _join_segment(part: str, windows: bool) -> str | None:
    """Return one untrusted :func:`safe_join` segment normalised, or None if unsafe."""
    # APPSEC: the character and drive check runs on the raw text, so that
    # normalisation cannot drop the offending piece first ("a\\b/.."):
    # stricter than checking the normalised text, never looser.
    if _UNSAFE_SEGMENT_RE.search(part) is not None:
        return None
    # normpath removes "." and "x/.." pieces and repeated slashes but keeps a
    # leading "//", so any climb out shows up as a leading "../" or "..".
    part = posixpath.normpath(part)
    if part.startswith(("/", "../")) or part == "..":
        return None
    if windows:
        for segment in part.split("/"):
            stem = segment.partition(":")[0].partition(".")[0].strip().upper()
            if stem in _WINDOWS_DEVICE_NAMES:
                return None
    return part


def _safe_join(directory: str, untrusted: t.Sequence[str], windows: bool) -> str | None:
    """Implement :func:`safe_join`, with the OS choice passed in for tests."""
    if not isinstance(directory, str):
        raise TypeError(
            "safe_join() needs the directory as a str, but got a"
            f" {type(directory).__name__} ({directory!r}); use os.fspath()."
        )
    # An empty directory becomes "." so the first untrusted part cannot turn
    # into the (trusted) start of the path.
    parts = [directory or "."]
    for part in untrusted:
        if not isinstance(part, str):
            raise TypeError(
                "safe_join() needs every path segment as a str, but got a"
                f" {type(part).__name__} ({part!r}); decode bytes first."
            )
        if part:
            clean = _join_segment(part, windows)
            if clean is None:
                return None
            parts.append(clean)
    return posixpath.join(*parts)


def safe_join(directory: str, *pathnames: str) -> str | None:
    """Join untrusted URL path segments onto a trusted directory, or return None.

    Each segment is a ``/``-separated path from a URL. The result is
    ``directory`` joined with the normalised segments, or ``None`` when any
    segment could leave ``directory``: one that is absolute (leading ``/``)
    or climbs out with ``..`` after normalisation. Empty segments are skipped;
    an empty ``directory`` is taken as ``"."``. The check is on the text only:
    it does not resolve symlinks or look at the filesystem, and
    ``directory`` itself is trusted as given.

    On Windows, a segment naming a DOS device (``CON``, ``NUL``, ``COM1``,
    ... with any extension) is refused too, as reading one can block forever.
    NTFS alternate data streams (``name:stream``) are allowed, as in Werkzeug.

    .. note:: Flask compatibility: erlen is stricter than Werkzeug on every
       OS. A segment containing a backslash or a NUL byte, or any ``/``-part
       that starts with a drive such as ``C:``, returns ``None``; Werkzeug
       refuses those only on Windows (NUL never), and checks after
       normalisation rather than on the raw text.

    :param directory: The trusted base directory.
    :param pathnames: Untrusted path segments, relative to ``directory``.
    :return: The joined path, or ``None`` if it is not safe.
    :raises TypeError: If ``directory`` or a segment is not a str.
    """
    return _safe_join(directory, pathnames, _IS_WINDOWS)
