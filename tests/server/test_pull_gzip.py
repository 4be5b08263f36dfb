"""Pull answers travel gzip-compressed to a client that accepts it, and decode to the same page;
the till's client asks for it."""

from __future__ import annotations

import gzip

import httpx
import pytest

from sync.client import SyncClient
from sync.protocol import API, MAX_PAGE, PullResponse
from sync.server.gzip_answer import CompressedPages, accepts_gzip
from tests.server.factories import LiveServer


def _raw(server: LiveServer, headers: dict[str, str]) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its body as it came over the wire (not decoded)."""
    with server.http.stream("GET", f"{API}/pull", params={"cursor": 0}, headers=headers) as r:
        return r.headers, b"".join(r.iter_raw())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_page_goes_out_gzipped_and_decodes_to_the_same_page(server: LiveServer) -> None:
    till = server.enrol()
    till.push(till.events(MAX_PAGE))
    plain, body = _raw(server, {**till.headers, "Accept-Encoding": "identity"})
    packed, wire = _raw(server, {**till.headers, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain
    assert packed["content-encoding"] == "gzip"
    assert gzip.decompress(wire) == body
    assert len(wire) < len(body) / 2
    assert len(PullResponse.model_validate_json(body).changes) == MAX_PAGE

    seen: list[httpx.Response] = []
    with SyncClient(server.base_url, till.enrolment.token) as client:
        client._http.event_hooks["response"].append(seen.append)
        assert client.pull(0) == PullResponse.model_validate_json(body)
    assert seen[-1].headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_small_answer_is_not_compressed(server: LiveServer) -> None:
    till = server.enrol()
    answer = server.http.get(f"{API}/pull", params={"cursor": 0},
                             headers={**till.headers, "Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and "content-encoding" not in answer.headers


@pytest.mark.parametrize(("header", "accepted"), [
    ("gzip", True), ("gzip, deflate, br", True), ("deflate, GZIP;q=0.5", True), ("*", True),
    ("", False), ("identity", False), ("br", False), ("gzip;q=0", False), ("gzip; q=0.0", False),
])
def test_accept_encoding_is_read_as_http_says(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_a_page_is_compressed_once_for_every_answer_of_the_same_json() -> None:
    """``CompressedPages``: the same JSON gets the same gzip bytes without compressing again,
    another JSON its own; the least recently sent go once more than the bound is kept."""
    first, second = b'{"changes":[1],"more":false}' * 200, b'{"changes":[2],"more":false}' * 200
    pages = CompressedPages(max_bytes=10_000)
    packed = pages.compressed(first)
    assert gzip.decompress(packed) == first and pages.hits == 0
    assert pages.compressed(first) is packed and pages.hits == 1
    assert gzip.decompress(pages.compressed(second)) == second and pages.hits == 1
    small = CompressedPages(max_bytes=len(packed))  # room for one page
    small.compressed(first)
    small.compressed(second)
    small.compressed(first)  # evicted by the second: compressed again
    assert small.hits == 0
