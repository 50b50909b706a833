"""An answer's body, decoded as its `Content-Encoding` says, with a cap on the decoded size.

httpx's own decoders inflate each network chunk whole, and stack one decoder per listed coding
(httpx/_decoders.py `MultiDecoder`), so a 64 KB chunk of a body compressed twice can inflate to gigabytes
before anyone counts. Here every step inflates at most the bytes still allowed (zlib's `max_length`), so
a compressed body is refused as soon as its decoded size passes the cap.
"""

from __future__ import annotations

import zlib

import httpx

# What we can decode with a bound; sent as Accept-Encoding so a server that honours it sends nothing else.
ACCEPT_ENCODING = "gzip, deflate"


class TooLargeError(Exception):
    """The decoded body would pass the cap."""


class UndecodableError(Exception):
    """The body is not what its Content-Encoding says, or uses a coding we do not read."""


class _Inflater:
    """One coding's zlib stream; deflate accepts both zlib-wrapped and raw data, as httpx's decoder does."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        gzip = coding in ("gzip", "x-gzip")
        self.stream = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self.may_be_raw = not gzip

    def inflate(self, data: bytes, allowed: int) -> bytes:
        """Up to `allowed` decoded bytes of `data`; TooLargeError when there would be more."""
        if not data:
            return b""
        try:
            out = self.stream.decompress(data, allowed + 1)
        except zlib.error:
            if not self.may_be_raw:
                raise UndecodableError(self.coding) from None
            self.may_be_raw = False
            self.stream = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.inflate(data, allowed)
        self.may_be_raw = False
        # Below `allowed + 1` bytes out means zlib consumed all of `data` (or reached the stream's end).
        if len(out) > allowed:
            raise TooLargeError
        return out

    def finish(self, allowed: int) -> bytes:
        out = self.stream.flush()
        if len(out) > allowed:
            raise TooLargeError
        if not self.stream.eof:
            raise UndecodableError(f"{self.coding}, cut short")
        return out


class CappedBody:
    """Collects a body chunk by chunk, decoding it layer by layer, never holding more than `cap` bytes of it."""

    def __init__(self, content_encoding: str, cap: int) -> None:
        codings = [coding.strip().lower() for coding in content_encoding.split(",")]
        codings = [coding for coding in codings if coding and coding != "identity"]
        unknown = [coding for coding in codings if coding not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise UndecodableError(unknown[0])
        # Codings are listed in the order they were applied: undo the last one first.
        self.layers = [_Inflater(coding) for coding in reversed(codings)]
        self.cap = cap
        self.size = 0
        self.chunks: list[bytes] = []

    def feed(self, raw: bytes) -> None:
        data = raw
        for index, layer in enumerate(self.layers):
            data = layer.inflate(data, self._allowed(index))
        self._keep(data)

    def finish(self) -> bytes:
        tail = b""
        for index, layer in enumerate(self.layers):
            tail = layer.inflate(tail, self._allowed(index)) + layer.finish(self._allowed(index))
        self._keep(tail)
        return b"".join(self.chunks)

    def _allowed(self, index: int) -> int:
        # The last layer gives the body itself: what is left of the cap. An inner layer gives compressed
        # data, bounded by the whole cap per step so no step can inflate much more than the body may hold.
        return self.cap - self.size if index == len(self.layers) - 1 else self.cap

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise TooLargeError
        if data:
            self.chunks.append(data)


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The decoded body of a streamed response; raises TooLargeError or UndecodableError."""
    if response.is_stream_consumed:  # already read into memory (an in-process transport): nothing to bound
        if len(response.content) > cap:
            raise TooLargeError
        return response.content
    body = CappedBody(response.headers.get("content-encoding", ""), cap)
    declared = response.headers.get("content-length", "")
    if not body.layers and declared.isdigit() and int(declared) > cap:
        raise TooLargeError
    async for chunk in response.aiter_raw():  # raw: httpx's decoders would inflate without a bound
        body.feed(chunk)
    return body.finish()
