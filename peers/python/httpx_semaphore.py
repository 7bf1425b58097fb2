"""Every call started at once, but each waits for one of `--limit` permits of an
`asyncio.Semaphore` before it sends anything: the tutorials' answer to rate limits and
"don't flood the server".

    target/peers-venv/bin/python peers/python/httpx_semaphore.py \\
        --url http://127.0.0.1:8080 -n 100 --limit 10

At most K calls are in flight, so n calls cost about ceil(n / K) waves of the delay.
A call's start is taken once it holds its permit, as fanout's `async-semaphore`
does, so its latency is the request's, not the queue's. The calls are gathered and
each records its own outcome (no fail-fast). httpx's pool has no limit unless
`--max-connections` sets one; the semaphore alone bounds the connections to K.
"""

from __future__ import annotations

import asyncio

import fanout_peer
import httpx_peer


async def call(http, rec: fanout_peer.Recorder, permits: asyncio.Semaphore, base: str, seq: int) -> None:
    async with permits:  # waiting here is not part of the request
        await httpx_peer.fetch(http, rec, base, seq)


async def run(args) -> dict:
    rec = fanout_peer.Recorder(args.n, args.deadline)
    permits = asyncio.Semaphore(args.limit)
    async with httpx_peer.client(args) as http:
        rec.begin()
        calls = [call(http, rec, permits, args.url, seq) for seq in range(args.n)]
        await fanout_peer.gather_until_deadline(rec, calls)
    return rec.report(
        httpx_peer.peer_name("semaphore"),
        httpx_peer.library(),
        args.limit,
        **httpx_peer.pool_fields(args),
    )


def main() -> None:
    p = fanout_peer.parser("httpx.AsyncClient + asyncio.Semaphore(K) around each call.")
    fanout_peer.add_limit(p, "calls in flight at once (default 10)", default=10)
    httpx_peer.add_pool_options(p)
    args = fanout_peer.parse(p)
    if args.limit == 0:
        p.error("--limit must be at least 1: a semaphore with no permits never lets a call through")
    httpx_peer.check_pool_options(p, args)
    fanout_peer.raise_fd_limit()
    fanout_peer.emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
