"""The aiohttp tutorial's pattern: one `aiohttp.ClientSession` whose
`aiohttp.TCPConnector(limit=K)` caps the connections, every call started at once with
`asyncio.gather`.

    target/peers-venv/bin/python peers/python/aiohttp_connector.py \\
        --url http://127.0.0.1:8080 -n 100 --limit 100

The connector is the limit here: call K+1 waits inside aiohttp for a connection to come
free, so its start (taken when the call is made) includes that wait, unlike the
semaphore peer's. `--limit 0` means no limit; aiohttp's own default is 100, and so is
this peer's. `--timeout` is `aiohttp.ClientTimeout(total=...)`, a bound on the whole
call, waiting for a connection included (aiohttp's default total is 5 minutes). Each
call records its own outcome (no fail-fast). fanout's nearest counterpart is
`async-semaphore` with the same limit.
"""

from __future__ import annotations

import asyncio

import fanout_peer

try:
    import aiohttp
except ImportError:
    fanout_peer.missing("aiohttp")


async def fetch(session, rec: fanout_peer.Recorder, base: str, seq: int) -> None:
    """Makes request `seq`, reads its answer in full and records how it ended."""
    rec.start(seq)
    try:
        async with session.get(fanout_peer.item_url(base, seq)) as response:
            await response.read()
            rec.finish(seq, response.status)
    except TimeoutError:  # aiohttp's ServerTimeoutError and friends are TimeoutErrors
        rec.fail(seq, "timeout")
    except aiohttp.ClientSSLError:  # a certificate not trusted, a failed handshake
        rec.fail(seq, "tls")
    except aiohttp.ClientConnectorError:  # refused, unreachable, not resolvable
        rec.fail(seq, "connect")
    except aiohttp.ClientError:  # disconnected, truncated, malformed
        rec.fail(seq, "dropped")
    except asyncio.CancelledError:
        rec.cancel(seq)
        raise


async def run(args) -> dict:
    rec = fanout_peer.Recorder(args.n, args.deadline)
    # 0: no limit. Over https, trust exactly --cafile (aiohttp's default, True, is the
    # system's store).
    ssl_setting = fanout_peer.ssl_context(args) or True
    connector = aiohttp.TCPConnector(limit=args.limit, ssl=ssl_setting)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        rec.begin()
        calls = [fetch(session, rec, args.url, seq) for seq in range(args.n)]
        await fanout_peer.gather_until_deadline(rec, calls)
    return rec.report(
        "python-aiohttp-connector",
        fanout_peer.library_version("aiohttp"),
        args.limit or None,
    )


def main() -> None:
    p = fanout_peer.parser(
        "aiohttp.ClientSession with a TCPConnector(limit=K), every call at once."
    )
    fanout_peer.add_limit(p, "connections at once; 0 means no limit (default 100)", default=100)
    args = fanout_peer.parse(p)
    fanout_peer.raise_fd_limit()
    fanout_peer.emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
