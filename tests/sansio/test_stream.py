from __future__ import annotations

import io

import pytest

from erlen.exceptions import ClientDisconnected
from erlen.exceptions import RequestEntityTooLarge
from erlen.sansio._stream import LimitedStream


class OneByte(io.RawIOBase):
    """A stream that returns at most one byte per read."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        out = self._data[self._pos : self._pos + 1]
        self._pos += len(out)
        return out


class Broken(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise OSError("connection reset")


def test_content_length_limit_stops_at_limit() -> None:
    s = LimitedStream(io.BytesIO(b"hello world"), 5)
    assert s.read() == b"hello"
    assert s.read(3) == b""
    assert s.read() == b""
    assert s.is_exhausted
    assert s.tell() == 5
    assert s.readable()


def test_read_in_pieces_and_readinto() -> None:
    s = LimitedStream(io.BytesIO(b"abcdef"), 6)
    assert s.read(2) == b"ab"
    buf = bytearray(10)
    assert s.readinto(buf) == 4
    assert bytes(buf[:4]) == b"cdef"
    assert s.readinto(bytearray(3)) == 0
    assert s.read(0) == b""


def test_read_none_reads_all() -> None:
    s = LimitedStream(io.BytesIO(b"abc"), 3)
    assert s.read(None) == b"abc"


def test_read_zero_before_limit() -> None:
    s = LimitedStream(io.BytesIO(b"abc"), 3)
    assert s.read(0) == b""
    assert s.tell() == 0


def test_readline_uses_limit() -> None:
    s = LimitedStream(io.BytesIO(b"ab\ncd\nef"), 5)
    assert s.readline() == b"ab\n"
    assert s.readline() == b"cd"
    assert s.readline() == b""


def test_short_body_is_client_disconnect() -> None:
    s = LimitedStream(io.BytesIO(b"abc"), 10)
    with pytest.raises(ClientDisconnected) as info:
        s.read()
    assert "3 of the 10 bytes" in str(info.value.description)


def test_short_body_read_size_is_client_disconnect() -> None:
    s = LimitedStream(io.BytesIO(b""), 10)
    with pytest.raises(ClientDisconnected):
        s.read(4)
    with pytest.raises(ClientDisconnected):
        LimitedStream(io.BytesIO(b""), 1).readinto(bytearray(1))


def test_broken_stream_is_client_disconnect_for_both_kinds() -> None:
    with pytest.raises(ClientDisconnected, match="OSError"):
        LimitedStream(Broken(), 10, is_max=True).read(3)
    with pytest.raises(ClientDisconnected):
        LimitedStream(Broken(), 10).read()


def test_max_limit_allows_short_stream() -> None:
    s = LimitedStream(io.BytesIO(b"abc"), 10, is_max=True)
    assert s.read() == b"abc"
    assert s.read(4) == b""


def test_max_limit_exactly_at_limit_is_fine() -> None:
    s = LimitedStream(io.BytesIO(b"abc"), 3, is_max=True)
    assert s.read() == b"abc"
    assert s.read(1) == b""
    assert s.exhaust() == b""


def test_max_limit_exceeded_raises_413() -> None:
    s = LimitedStream(io.BytesIO(b"abcd"), 3, is_max=True)
    with pytest.raises(RequestEntityTooLarge) as info:
        s.read()
    assert "max_content_length (MAX_CONTENT_LENGTH) of 3 bytes" in str(
        info.value.description
    )
    s = LimitedStream(io.BytesIO(b"abcd"), 3, is_max=True)
    assert s.read(3) == b"abc"
    with pytest.raises(RequestEntityTooLarge):
        s.read(1)
    s = LimitedStream(io.BytesIO(b"abcd"), 3, is_max=True)
    assert s.readinto(bytearray(3)) == 3
    with pytest.raises(RequestEntityTooLarge):
        s.readinto(bytearray(3))


def test_one_byte_at_a_time_stream() -> None:
    data = bytes(range(256)) * 3
    s = LimitedStream(OneByte(data), len(data))
    assert s.read() == data
    s = LimitedStream(OneByte(data), 10)
    assert s.exhaust() == data[:10]


def test_large_body_read_in_chunks() -> None:
    data = b"x" * (200 * 1024)
    assert LimitedStream(io.BytesIO(data), len(data)).read() == data


def test_negative_limit_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="limit of 0 or more"):
        LimitedStream(io.BytesIO(), -1)


def test_on_disconnect_hook_may_swallow_errors() -> None:
    class Lenient(LimitedStream):
        def on_disconnect(self, error: Exception | None = None) -> None:
            seen.append(error)

    seen: list[Exception | None] = []
    s = Lenient(Broken(), 10)
    assert s.read(3) == b""
    assert isinstance(seen[0], OSError)


def test_max_limit_readinto_at_end_of_stream() -> None:
    s = LimitedStream(io.BytesIO(b"ab"), 10, is_max=True)
    assert s.readinto(bytearray(5)) == 2
    assert s.readinto(bytearray(5)) == 0
