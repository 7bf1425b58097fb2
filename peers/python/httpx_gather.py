"""The tutorials' central pattern: one `httpx.AsyncClient`, every call started at once
with `asyncio.gather`, the run waiting for all of them.

    target/peers-venv/bin/python peers/python/httpx_gather.py \\
        --url http://127.0.0.1:8080 -n 100

In theory the run costs the slowest delay instead of their sum. Each call records its
own outcome and never raises, which is what `gather(..., return_exceptions=True)` is for
in the tutorials: one failure does not disturb the others. fanout's counterpart is
`async-concurrent`.

httpx's pool is the hidden limit here: `httpx.AsyncClient()` opens at most 100
connections, so 1,000 calls go out in waves of 100. This peer's pool has no limit unless
`--max-connections K` sets one (`--max-connections 100 --max-keepalive 20` is httpx's
default); see httpx_peer.py, and peers/README.md for what an unlimited pool costs.
"""

from __future__ import annotations

import asyncio

import fanout_peer
import httpx_peer


async def run(args) -> dict:
    rec = fanout_peer.Recorder(args.n, args.deadline)
    async with httpx_peer.client(args) as http:
        rec.begin()
        calls = [httpx_peer.fetch(http, rec, args.url, seq) for seq in range(args.n)]
        await fanout_peer.gather_until_deadline(rec, calls)
    return rec.report(
        httpx_peer.peer_name("gather"),
        httpx_peer.library(),
        httpx_peer.max_connections(args),
        **httpx_peer.pool_fields(args),
    )


def main() -> None:
    p = fanout_peer.parser("httpx.AsyncClient + asyncio.gather: every call at once.")
    httpx_peer.add_pool_options(p)
    args = fanout_peer.parse(p)
    httpx_peer.check_pool_options(p, args)
    fanout_peer.raise_fd_limit()
    fanout_peer.emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
