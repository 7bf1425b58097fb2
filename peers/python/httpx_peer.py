"""What the three httpx peers share: the client's pool options, how a call is made and
recorded, and how httpx's errors map onto fanout's outcomes.

httpx's defaults matter here. `httpx.AsyncClient()` gets `httpx.Limits(
max_connections=100, max_keepalive_connections=20)`: at most 100 connections open at
once (call 101 waits inside httpx for one to come free) and at most 20 kept idle for
reuse (the other 80 of a wave are closed and opened again for the next). The peers
default to no limit at all, `httpx.Limits(max_connections=None,
max_keepalive_connections=None)`, so that the pattern, not the pool, sets the
concurrency; `--max-connections 100 --max-keepalive 20` restores httpx's default.

Its default timeout is 5 s for each of connect, read, write and waiting for a pooled
connection; the peers use `--timeout` (30 s by default) for all four.

`--library httpx2` runs the same peer on httpx2, the maintained fork of httpx
(pydantic/httpx2) whose connection pool, httpcore2, was rewritten to make the pass over
the pool linear: the quadratic cost peers/README.md measured in httpcore 1.0. Its API
is httpx's, so the one module serves both; the library is imported when the options
are parsed, and a missing one ends the peer in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from types import ModuleType
from typing import Optional

import fanout_peer

# The client library the run uses, `httpx` or `httpx2`: set by `check_pool_options`.
httpx: ModuleType
LIBRARIES = ("httpx", "httpx2")


def add_pool_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--library",
        choices=LIBRARIES,
        default="httpx",
        help="httpx 0.28 (the tutorials' client, the default) or httpx2, its maintained "
        "fork with a rewritten pool",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=0,
        metavar="K",
        help="connections httpx may open at once; 0 (the default here) means no limit. "
        "httpx's own default is 100",
    )
    p.add_argument(
        "--max-keepalive",
        type=int,
        default=None,
        metavar="K",
        help="idle connections httpx keeps for reuse (default here: as many as "
        "--max-connections, no limit when that has none). httpx's own default is 20",
    )


def check_pool_options(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Checks the pool options and imports the library `--library` names."""
    global httpx
    try:
        httpx = importlib.import_module(args.library)
    except ImportError:
        fanout_peer.missing(args.library)
    if args.max_connections < 0:
        p.error(f"--max-connections must be 0 or more, got {args.max_connections}")
    if args.max_keepalive is not None and args.max_keepalive < 0:
        p.error(f"--max-keepalive must be 0 or more, got {args.max_keepalive}")


def max_connections(args: argparse.Namespace) -> Optional[int]:
    """The pool's cap on open connections, `None` for none."""
    return args.max_connections or None


def client(args: argparse.Namespace) -> httpx.AsyncClient:
    """One client for the whole run, as the tutorials advise, with the pool and the
    timeouts the options ask for."""
    keepalive = max_connections(args) if args.max_keepalive is None else args.max_keepalive
    limits = httpx.Limits(
        max_connections=max_connections(args),
        max_keepalive_connections=keepalive,
    )
    # Over https, trust exactly --cafile: httpx takes an SSLContext as `verify`.
    verify = fanout_peer.ssl_context(args) or True
    return httpx.AsyncClient(
        limits=limits, timeout=httpx.Timeout(args.timeout), verify=verify
    )


def pool_fields(args: argparse.Namespace) -> dict:
    """Extra report fields: the pool the run had."""
    keepalive = max_connections(args) if args.max_keepalive is None else args.max_keepalive
    return {"max_connections": max_connections(args), "max_keepalive": keepalive}


def classify(error: httpx.HTTPError) -> str:
    """Names the way a call failed, in fanout's terms."""
    if isinstance(error, httpx.TimeoutException):  # connect, read, write or pool wait
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        # A failed TLS handshake arrives as a ConnectError raised from ssl.SSLError.
        return "tls" if fanout_peer.caused_by_tls(error) else "connect"
    return "dropped"  # the connection broke, or the answer was malformed or truncated


async def fetch(
    http: httpx.AsyncClient, rec: fanout_peer.Recorder, base: str, seq: int
) -> str:
    """Makes request `seq`, reads its answer and records it; returns its outcome.

    It never raises for an HTTP failure: the peer decides what a failure means
    (nothing for gather, the end of the batch for a TaskGroup). A cancellation, from the
    deadline or a failing sibling, is recorded and passed on, as asyncio requires."""
    rec.start(seq)
    try:
        response = await http.get(fanout_peer.item_url(base, seq))
        return rec.finish(seq, response.status_code)  # get() has read the body
    except httpx.HTTPError as error:
        return rec.fail(seq, classify(error))
    except asyncio.CancelledError:
        rec.cancel(seq)
        raise


def library() -> str:
    return fanout_peer.library_version(httpx.__name__)


def peer_name(pattern: str) -> str:
    """`python-httpx-gather`, or `python-httpx2-gather` on httpx2."""
    return f"python-{httpx.__name__}-{pattern}"
