"""A linear-time check of JSON nesting depth, run before the JSON parser."""

from __future__ import annotations

import json
import operator
import re
import typing as t
from itertools import accumulate
from itertools import count

# A JSON string: a quote, then runs of ordinary characters or backslash escapes,
# then a closing quote. The unrolled form cannot backtrack catastrophically.
_STRING_BYTES_RE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STRING_TEXT_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Every byte except the four brackets is deleted before measuring.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers become 2 and closers 0, so that after a running sum ``acc`` over the
# first ``i`` brackets the depth is ``acc - i``.
_BRACKET_WEIGHTS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class JSONDepthError(ValueError):
    """JSON data nests arrays and objects deeper than the configured limit."""

    def __init__(self, depth: int, max_depth: int) -> None:
        super().__init__(
            f"JSON nesting depth {depth} exceeds max_json_depth (MAX_JSON_DEPTH)"
            f" of {max_depth}. Send flatter data, or raise the limit."
        )
        #: The nesting depth found in the data.
        self.depth = depth
        #: The limit that was exceeded.
        self.max_depth = max_depth


def json_depth(data: bytes | str) -> int:
    """Return the deepest nesting of arrays and objects in JSON ``data``.

    Brackets inside strings do not count. Bytes in UTF-16 or UTF-32 (which
    :func:`json.loads` accepts) are decoded first so that a two-byte quote or
    backslash cannot hide a bracket from the scan.

    :raise UnicodeDecodeError: If UTF-16/32 bytes cannot be decoded.
    """
    if isinstance(data, str):
        rest = _STRING_TEXT_RE.sub("", data).encode("utf-8", "surrogatepass")
    elif json.detect_encoding(data) in ("utf-8", "utf-8-sig"):
        # NOTE: no byte of a UTF-8 multi-byte sequence is ASCII, so a bytes
        # scan of UTF-8 sees exactly the quotes and brackets the parser sees.
        rest = _STRING_BYTES_RE.sub(b"", data)
    else:
        text = data.decode(json.detect_encoding(data), "surrogatepass")
        return json_depth(text)
    brackets = rest.translate(_BRACKET_WEIGHTS, _NOT_BRACKETS)
    if not brackets:
        return 0
    # PERF: accumulate, map and max run in C: no Python-level loop per byte.
    depths: t.Iterator[int] = map(operator.sub, accumulate(brackets), count(1))
    return max(0, max(depths))


def check_json_depth(data: bytes | str, max_depth: int | None) -> None:
    """Raise :exc:`JSONDepthError` if ``data`` nests deeper than ``max_depth``.

    ``None`` disables the check. The scan is linear in the size of ``data``
    and never recurses, so it is safe on hostile input; the JSON parser, which
    does recurse, runs only after it.

    :param data: The JSON document, as bytes or text.
    :param max_depth: The deepest nesting allowed, or None for no limit.
    :raise JSONDepthError: A :exc:`ValueError` naming the limit.
    :raise UnicodeDecodeError: If UTF-16/32 bytes cannot be decoded.
    """
    # PERF: each level takes at least one character, so data no longer than
    # the limit cannot exceed it.
    if max_depth is None or len(data) <= max_depth:
        return
    # PERF: a document with no more openers than the limit cannot exceed it,
    # and counting is far cheaper than scanning; most bodies stop here.
    if isinstance(data, str):
        openers = data.count("[") + data.count("{")
    else:
        openers = data.count(b"[") + data.count(b"{")
    if openers <= max_depth:
        return
    depth = json_depth(data)
    if depth > max_depth:
        raise JSONDepthError(depth, max_depth)
