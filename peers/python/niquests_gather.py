"""niquests, the requests-compatible client that speaks HTTP/2 (and HTTP/3) by default:
one `niquests.AsyncSession`, every call started at once with `asyncio.gather`.

    target/peers-venv/bin/python peers/python/niquests_gather.py \\
        --url http://127.0.0.1:8080 -n 100

niquests keeps requests' API (`session.get(url)` reads the whole body unless
`stream=True`) on urllib3-future, which negotiates HTTP/2 by ALPN over TLS. Over plain
http there is no ALPN, so a run against `http://` is HTTP/1.1 and one against
`fanout serve --tls 1.3` is HTTP/2, many calls on few connections. Its pool has
`pool_maxsize=10` connections per host by default; this peer sets it to `--limit`,
and `--limit 0` (the default) to `n`, so that the pattern, not the pool, sets the
concurrency, as the httpx peers do. Each call records its own outcome (no fail-fast).
fanout's counterpart is `async-concurrent` (with `--http 2` over TLS).
"""

from __future__ import annotations

import asyncio

import fanout_peer

try:
    import niquests
except ImportError:
    fanout_peer.missing("niquests")


def classify(error: Exception) -> str:
    """Names the way a call failed, in fanout's terms (niquests keeps requests'
    exception classes: an SSLError is a ConnectionError, so it is asked first)."""
    if isinstance(error, niquests.exceptions.Timeout):
        return "timeout"
    if isinstance(error, niquests.exceptions.SSLError) or fanout_peer.caused_by_tls(error):
        return "tls"
    if isinstance(error, niquests.exceptions.ConnectionError):
        # Refused before anything was sent, or cut while the answer was awaited.
        text = str(error).lower()
        return "connect" if "refused" in text or "failed to establish" in text else "dropped"
    return "dropped"


async def fetch(session, rec: fanout_peer.Recorder, args, seq: int) -> None:
    """Makes request `seq`, reads its answer in full and records how it ended."""
    rec.start(seq)
    try:
        # Over https, trust exactly --cafile, given on each call: niquests 3.21's
        # AsyncSession ignored a session-wide `verify` path here (every handshake
        # failed verification), as requests' session-wide one gives way to the
        # environment's bundle.
        verify = args.cafile if args.cafile is not None else True
        response = await session.get(fanout_peer.item_url(args.url, seq), verify=verify)
        rec.finish(seq, response.status_code)
    except asyncio.CancelledError:
        rec.cancel(seq)
        raise
    except Exception as error:  # niquests' own, or one urllib3-future let through
        rec.fail(seq, classify(error))


async def run(args) -> dict:
    rec = fanout_peer.Recorder(args.n, args.deadline)
    pool = args.limit or args.n
    session = niquests.AsyncSession(pool_connections=1, pool_maxsize=pool, timeout=args.timeout)
    async with session:
        rec.begin()
        calls = [fetch(session, rec, args, seq) for seq in range(args.n)]
        await fanout_peer.gather_until_deadline(rec, calls)
    return rec.report("python-niquests-gather", fanout_peer.library_version("niquests"), pool)


def main() -> None:
    p = fanout_peer.parser("niquests.AsyncSession + asyncio.gather: every call at once.")
    fanout_peer.add_limit(p, "the pool's connections; 0 (the default) means n", default=0)
    args = fanout_peer.parse(p)
    fanout_peer.raise_fd_limit()
    fanout_peer.emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
