"""Failures of the HTTP layer, handled by family: every kind is one sentence, and the next call works."""

from __future__ import annotations

import functools
import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable

import httpx
import pytest

from pieces_mcp import client as client_module
from pieces_mcp import discovery
from pieces_mcp.catalog import BY_NAME
from pieces_mcp.client import MAX_BODY_BYTES, PiecesOS
from pieces_mcp.config import Settings
from pieces_mcp.errors import BadAnswerError, NotRunningError, PiecesError
from pieces_mcp.models.base import NoArguments
from pieces_mcp.models.os_tools import DeviceInformation, FilePickerInput, PickedPaths

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1:39300"
DEVICE = BY_NAME["os_device_information"]


def pieces_with(handler: Callable[[httpx.Request], httpx.Response], base_url: str | None = BASE) -> PiecesOS:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PiecesOS(Settings(base_url=base_url), http)


def _leaves(family: type[Exception]) -> list[type[Exception]]:
    below = family.__subclasses__()
    return [leaf for sub in below for leaf in _leaves(sub)] if below else [family]


# Every exception httpx raises while sending a request and reading its answer (httpx/_exceptions.py).
REQUEST_FAILURES = sorted(_leaves(httpx.RequestError), key=lambda kind: kind.__name__)


def assert_one_sentence(error: PiecesError) -> None:
    message = error.message
    assert "\n" not in message and message.endswith(".") and len(message) < 400, message
    assert "httpx" not in message and "Traceback" not in message, message


@pytest.mark.parametrize("failure", REQUEST_FAILURES, ids=lambda kind: kind.__name__)
async def test_every_failure_of_the_http_layer_is_one_sentence(failure: type[httpx.RequestError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("simulated", request=request)

    with pytest.raises(PiecesError) as raised:
        await pieces_with(handler).call(DEVICE, NoArguments())
    assert_one_sentence(raised.value)


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout], ids=lambda kind: kind.__name__)
async def test_not_answering_looks_for_piecesos_again(
    failure: type[httpx.RequestError], monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, moved = "http://127.0.0.1:39301", "http://127.0.0.1:39302"
    found = iter([gone, moved])
    looked: list[str] = []

    async def find(http: httpx.AsyncClient, machine: discovery.Machine) -> discovery.Found:
        looked.append(next(found))
        return discovery.Found(looked[-1], "discovered: scanning")

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(gone):
            raise failure("simulated", request=request)
        return httpx.Response(200, json={"name": "moved"})

    monkeypatch.setattr(client_module.discovery, "find", find)
    answer = await pieces_with(handler, base_url=None).call(DEVICE, NoArguments())
    assert isinstance(answer, DeviceInformation) and answer.name == "moved"
    assert looked == [gone, moved]


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout], ids=lambda kind: kind.__name__)
async def test_not_answering_at_a_configured_url_is_not_running(failure: type[httpx.RequestError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("simulated", request=request)

    with pytest.raises(NotRunningError) as raised:
        await pieces_with(handler).call(DEVICE, NoArguments())
    assert "not running" in raised.value.message
    assert_one_sentence(raised.value)


@pytest.mark.parametrize("status", [300, 301, 302, 303, 304, 307, 308])
@pytest.mark.parametrize("body", [b"", b'{"name": "elsewhere"}'], ids=["empty", "json"])
async def test_a_redirect_is_an_error(status: int, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Location": "http://example.com/os/device/information"})

    with pytest.raises(BadAnswerError) as raised:
        await pieces_with(handler).call(DEVICE, NoArguments())
    assert f"HTTP {status}" in raised.value.message and "redirect" in raised.value.message
    assert "example.com" not in raised.value.message  # where it points is not repeated
    assert_one_sentence(raised.value)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


@functools.cache
def _bomb(size: int, codings: tuple[Callable[[bytes], bytes], ...]) -> bytes:
    """`size` bytes of JSON whitespace in `codings` (at least one), first to last. Each layer is cached:
    compressing 200 MB is most of a case's time, and "gzip, gzip" starts from "gzip"'s bytes. Only compressed
    layers are kept, a few hundred KB each."""
    inner = _bomb(size, codings[:-1]) if len(codings) > 1 else b"[" + b" " * (size - 2) + b"]"
    return codings[-1](inner)


@pytest.mark.parametrize(
    ("encoding", "codings"),
    [("gzip", [_gzip]), ("deflate", [_deflate]), ("gzip, gzip", [_gzip, _gzip]), ("deflate, gzip", [_deflate, _gzip])],
)
async def test_a_compressed_answer_is_cut_at_the_cap_before_it_inflates(
    encoding: str, codings: list[Callable[[bytes], bytes]]
) -> None:
    bomb = _bomb(200 * 1024 * 1024, tuple(codings))
    assert len(bomb) < 1024 * 1024  # small on the wire

    def handler(request: httpx.Request) -> httpx.Response:
        # `stream=`: as a network answer arrives, not read yet (`content=` would make httpx inflate it here)
        return httpx.Response(200, stream=httpx.ByteStream(bomb), headers={"Content-Encoding": encoding})

    pieces = pieces_with(handler)
    tracemalloc.start()
    try:
        with pytest.raises(BadAnswerError) as raised:
            await pieces.call(BY_NAME["pick_files"], FilePickerInput())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 8 MB" in raised.value.message
    assert peak < 4 * MAX_BODY_BYTES, f"{peak / 2**20:.0f} MiB held while reading a capped answer"


@pytest.mark.parametrize(
    ("encoding", "codings"),
    [("gzip", [_gzip]), ("deflate", [_deflate]), ("gzip, gzip", [_gzip, _gzip]), ("", [])],
    ids=["gzip", "deflate", "gzip-twice", "identity"],
)
async def test_a_compressed_answer_under_the_cap_reads_whole(
    encoding: str, codings: list[Callable[[bytes], bytes]]
) -> None:
    paths = [f"/home/ada/file-{index}.py" for index in range(50_000)]
    body = json.dumps(paths).encode()
    for coding in codings:
        body = coding(body)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Encoding": encoding} if encoding else {}
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)

    answer = await pieces_with(handler).call(BY_NAME["pick_files"], FilePickerInput())
    assert isinstance(answer, PickedPaths) and answer.total == len(paths)


@pytest.mark.parametrize(
    ("encoding", "content"),
    [("gzip", b"this is not gzip"), ("deflate", b"nor deflate"), ("gzip", _gzip(b"[1, 2, 3]")[:-12]), ("br", b"x")],
    ids=["not-gzip", "not-deflate", "truncated-gzip", "unsupported-coding"],
)
async def test_a_body_that_cannot_be_decoded_is_one_sentence(encoding: str, content: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(content), headers={"Content-Encoding": encoding})

    with pytest.raises(BadAnswerError) as raised:
        await pieces_with(handler).call(DEVICE, NoArguments())
    assert "could not be decoded" in raised.value.message
    assert_one_sentence(raised.value)


@pytest.mark.parametrize(
    "raw",
    [
        b'["/home/ada/\\udc80.txt"]',
        b'["/home/ada/\\ud800"]',
        b'["\\udfff/x", "ok"]',
        '["/tmp/\udc80"]'.encode("utf-8", "surrogatepass"),
    ],
    ids=["escaped-low", "escaped-high", "escaped-first", "raw-utf8-surrogate"],
)
async def test_a_lone_surrogate_in_an_answer_cannot_break_the_result(raw: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers={"Content-Type": "application/json"})

    answer = await pieces_with(handler).call(BY_NAME["pick_files"], FilePickerInput())
    assert isinstance(answer, PickedPaths) and answer.total == len(json.loads(raw))
    answer.model_dump_json().encode("utf-8")  # what goes to the client must encode
    assert all("\ufffd" in path or path == "ok" for path in answer.paths)


@pytest.mark.parametrize("status", [200, 500])
async def test_a_pathologically_nested_answer_is_one_sentence(status: int) -> None:
    nested = b'{"a": ' * 100_000 + b'"\\udc80"' + b"}" * 100_000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=httpx.ByteStream(nested), headers={"Content-Type": "application/json"})

    with pytest.raises(PiecesError) as raised:
        await pieces_with(handler).call(DEVICE, NoArguments())
    assert_one_sentence(raised.value)
