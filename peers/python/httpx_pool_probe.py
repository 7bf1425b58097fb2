"""An experiment, not a tutorial pattern: httpx_gather.py with one expression of
httpcore's connection pool made cheap, to show where httpx's time goes at n=1000.

    target/peers-venv/bin/python peers/python/httpx_pool_probe.py \\
        --url http://127.0.0.1:8080 -n 1000

Every time a request enters the pool or a response is closed, httpcore 1.0.9 runs
`AsyncConnectionPool._assign_requests_to_connections`, which walks all of the pool's
connections; for each idle one it evaluates

    len([connection.is_idle() for connection in self._connections])

to decide whether to close it. That is the number of connections, built as a list of
booleans, once per idle connection: a pass over C connections of which I are idle
makes about I x C `is_idle()` calls, and there are two passes per request. With no
keep-alive limit, a run of 1,000 made 73 million of them here (up to 200 idle
connections, the ones younger than httpx's 5 s keep-alive expiry, times 1,000, on
each of 2,000 passes). This probe swaps that expression for `len(self._connections)`,
which has the same value, and changes nothing else: any time it saves is time that
one expression cost. peers/README.md has the figures.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import textwrap

import fanout_peer
import httpx_gather
import httpx_peer

try:
    import httpcore
    from httpcore._async import connection_pool
except ImportError:
    fanout_peer.missing("httpcore")

QUADRATIC = "len([connection.is_idle() for connection in self._connections])"
LINEAR = "len(self._connections)"


def patch_pool() -> None:
    """Recompiles the pool's assignment pass with QUADRATIC replaced by LINEAR."""
    method = connection_pool.AsyncConnectionPool._assign_requests_to_connections
    source = textwrap.dedent(inspect.getsource(method))
    if QUADRATIC not in source:
        sys.exit(f"httpcore {httpcore.__version__} no longer has the expression this "
                 "probe replaces; the probe was written for 1.0.9")
    namespace: dict = {}
    exec(source.replace(QUADRATIC, LINEAR), vars(connection_pool), namespace)
    connection_pool.AsyncConnectionPool._assign_requests_to_connections = namespace[
        method.__name__
    ]


def main() -> None:
    p = fanout_peer.parser(
        "httpx_gather.py with httpcore's idle-connection count made linear (an experiment)."
    )
    httpx_peer.add_pool_options(p)
    args = fanout_peer.parse(p)
    if args.library != "httpx":
        p.error("the probe patches httpcore 1.0, httpx's pool: it runs on --library httpx only")
    httpx_peer.check_pool_options(p, args)
    fanout_peer.raise_fd_limit()
    patch_pool()
    report = asyncio.run(httpx_gather.run(args))
    report["peer"] = "python-httpx-gather-pool-probe"
    fanout_peer.emit(report)


if __name__ == "__main__":
    main()
