"""The simulator's fault answers on the wire: compression, repetition (a real simulator process)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import httpx
import pytest

from tests.support import SimulatorProcess

DEVICE = "/os/device/information"


def raw_get(simulator: SimulatorProcess, path: str) -> tuple[httpx.Headers, bytes]:
    """The headers and the body as sent, not decoded."""
    with httpx.Client(timeout=10) as client, client.stream("GET", simulator.url + path) as response:
        return response.headers, b"".join(response.iter_raw())


@pytest.mark.parametrize(
    ("encoding", "decode"),
    [
        ("gzip", gzip.decompress),
        ("deflate", zlib.decompress),
        ("gzip, gzip", lambda data: gzip.decompress(gzip.decompress(data))),
    ],
)
def test_a_fault_body_is_compressed_as_its_content_encoding_says(
    simulator: SimulatorProcess, encoding: str, decode: Callable[[bytes], bytes]
) -> None:
    simulator.fault(DEVICE, status=200, body="ab", content_encoding=encoding, repeat=3_000_000)
    headers, raw = raw_get(simulator, DEVICE)
    assert headers["content-encoding"] == encoding and len(raw) < 100_000
    assert decode(raw) == b"ab" * 3_000_000


def test_a_raw_body_goes_out_as_given_under_its_content_encoding(simulator: SimulatorProcess) -> None:
    simulator.fault(DEVICE, status=200, body="not gzip", content_encoding="gzip", raw_body=True)
    headers, raw = raw_get(simulator, DEVICE)
    assert headers["content-encoding"] == "gzip" and raw == b"not gzip"


def test_a_coding_the_simulator_cannot_apply_is_refused_unless_raw(simulator: SimulatorProcess) -> None:
    refused = httpx.post(f"{simulator.url}/_simulator/faults", json={"path": DEVICE, "content_encoding": "br"})
    assert refused.status_code == 400 and "raw_body" in refused.json()["error"]
