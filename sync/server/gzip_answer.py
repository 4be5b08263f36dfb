"""Pull pages gzip-compressed for a client that accepts it (``Accept-Encoding: gzip``).

Compressed in the route, in the thread pool, rather than by Starlette's ``GZipMiddleware``,
which compresses on the event loop: ~10 ms per full page during which that worker answers
nothing else (zlib lets other threads run while it works). Level 3: a 1,000-event page of
1.17 MB goes out as 25 % of it in ~10 ms of one core; level 6 saves 1.5 % more for 2.5x the
time, level 9 4x (docs/scale.md, "gzip").
"""

from __future__ import annotations

import hashlib
import zlib

from fastapi.responses import Response

from sync.server.pulled_rows import KeptBytes

GZIP_MIN_BYTES = 1024  # smaller answers go as they are: one packet either way
GZIP_LEVEL = 3
PAGES_MAX_BYTES = 32 * 1024 * 1024  # compressed pull pages kept per process (~100 full ones)


class CompressedPages:
    """Pull pages compressed before, by their content (a 128-bit BLAKE2b digest of the JSON),
    the least recently sent going first once ``max_bytes`` of them are kept.

    At closing time the tills of a store pull the same pages: from the same cursor, the same
    positions, and a stored row never changes (``pulled_rows``), so the same JSON. Compressing
    a full page took ~10 ms of a core, a third of HQ's work in a close (docs/benchmarks.md);
    its digest takes ~1 ms. Keyed by content, a kept page is right for any database, till or
    later pull that makes the same JSON."""

    def __init__(self, max_bytes: int = PAGES_MAX_BYTES) -> None:
        self._pages: KeptBytes[bytes] = KeptBytes(max_bytes)
        self.hits = 0

    def compressed(self, body: bytes) -> bytes:
        """``body`` gzip-compressed (``GZIP_LEVEL``), compressed again only if not kept."""
        key = hashlib.blake2b(body, digest_size=16).digest()
        [packed] = self._pages.get_many([key])
        if packed is not None:
            self.hits += 1
            return packed
        packed = _gzip(body)  # outside the lock: zlib lets other threads run meanwhile
        self._pages.put([(key, packed)])
        return packed


PAGES = CompressedPages()  # this process's (content-addressed: one for every database)


def accepts_gzip(accept_encoding: str) -> bool:
    """``Accept-Encoding`` names gzip (or ``*``) without ``q=0``."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        if name.strip() not in ("gzip", "*"):
            continue
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            return float(q) > 0
        except ValueError:
            return False
    return False


def gzip_answer(body: bytes, accept_encoding: str, pages: CompressedPages | None = None
                ) -> Response:
    """``body`` (JSON) as the answer, gzip-compressed if it is worth it and accepted;
    ``pages``: compressed once for every answer of the same JSON (pull pages)."""
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip(accept_encoding):
        body = pages.compressed(body) if pages is not None else _gzip(body)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


def _gzip(body: bytes) -> bytes:
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()
