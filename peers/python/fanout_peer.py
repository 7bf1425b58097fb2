"""What every Python peer shares: its options, its clock, its record of each request,
and the one JSON object it prints.

A peer is a small program that makes `n` requests the way one of the tutorials does,
against fanout's mock API (`fanout serve`), and reports what it saw in the same terms as
fanout's own strategies, so the two can be laid side by side:

- every request `i` is `GET {BASE}/items?seq={i}`; the `seq` gives it the server's
  seeded delay for request `i` and lets fanout join this record with its ledger;
- every request ends as exactly one outcome (`ok`, `http_4xx`, `http_429`, `http_5xx`,
  `timeout`, `connect`, `tls`, `dropped`, `cancelled`), with the meanings of fanout's
  `src/measure.rs`;
- over HTTPS (`fanout serve --tls 1.3`, `fanout peers --tls 1.3`) a peer trusts exactly
  the CA certificate named by `--cafile`, never the system's store (`ssl_context`);
- times are milliseconds from the run's start, and latency percentiles are computed as
  fanout computes them (an HdrHistogram with three significant digits).

Read next: `requests_sequential.py`, the simplest peer, then the asynchronous ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import ssl
import sys
import time
import urllib.parse
from importlib import metadata
from typing import Optional

# Every outcome, in fanout's report order.
OUTCOMES = (
    "ok",
    "http_4xx",
    "http_429",
    "http_5xx",
    "timeout",
    "connect",
    "tls",
    "dropped",
    "cancelled",
)


# --- Options -------------------------------------------------------------------------


class _OneLineParser(argparse.ArgumentParser):
    """argparse, except that bad input costs one line on stderr (and exit 2), not a
    usage block: the harness reads stderr, people read `--help`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


def parser(description: str) -> argparse.ArgumentParser:
    """The options every peer takes. A peer adds its own (`--limit`, ...) and then
    calls `parse`."""
    p = _OneLineParser(description=description)
    p.add_argument(
        "--url",
        required=True,
        metavar="BASE",
        help="the mock API's base URL, e.g. http://127.0.0.1:8080",
    )
    p.add_argument(
        "-n",
        "--requests",
        dest="n",
        type=int,
        default=50,
        metavar="N",
        help="how many requests (default 50)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up on one request after this long (default 30)",
    )
    p.add_argument(
        "--deadline",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="end the whole run by then; unfinished requests count as cancelled "
        "(default 120)",
    )
    p.add_argument(
        "--cafile",
        default=None,
        metavar="PEM",
        help="for an https:// URL, trust exactly this CA certificate (the one "
        "`fanout serve --tls` writes), not the system's store",
    )
    return p


def add_limit(p: argparse.ArgumentParser, help: str, default: int) -> None:
    """Adds `--limit K` (K >= 0; what 0 means is the peer's to say)."""
    p.add_argument("--limit", type=int, default=default, metavar="K", help=help)


def parse(p: argparse.ArgumentParser, argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Parses and checks the options; refuses bad input in one line with exit 2."""
    args = p.parse_args(argv)
    if args.n <= 0:
        p.error(f"-n must be at least 1, got {args.n}")
    if getattr(args, "limit", None) is not None and args.limit < 0:
        p.error(f"--limit must be 0 or more, got {args.limit}")
    for name in ("timeout", "deadline"):
        value = getattr(args, name)
        if not (value > 0 and math.isfinite(value)):
            p.error(f"--{name} must be a positive number of seconds, got {value}")
    url = urllib.parse.urlsplit(args.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        p.error(f"--url must be an http:// or https:// URL with a host, got {args.url!r}")
    try:
        url.port  # parsed lazily: 'http://host:99999' fails only here
    except ValueError:
        p.error(f"--url has an invalid port: {args.url!r}")
    if args.cafile is not None:
        if url.scheme != "https":
            p.error(f"--cafile is for an https:// URL, got {args.url!r}")
        if not os.path.isfile(args.cafile):
            p.error(f"--cafile {args.cafile!r} is not a file")
    args.url = args.url.rstrip("/")
    return args


def ssl_context(args: argparse.Namespace) -> Optional[ssl.SSLContext]:
    """The TLS settings of an https:// run: a context that trusts exactly `--cafile`
    (given a CA file, `create_default_context` loads that file and not the system's
    store) and checks the host name as for any site; `None` without `--cafile`, which
    leaves each library to its own default."""
    if args.cafile is None:
        return None
    return ssl.create_default_context(cafile=args.cafile)


def caused_by_tls(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, is an `ssl.SSLError` (a
    certificate not trusted, a version not offered, a handshake cut short): the
    libraries wrap it in their own connect errors, and fanout names it `tls`."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, ssl.SSLError):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


async def gather_until_deadline(rec: "Recorder", calls) -> None:
    """Runs every call at once with `asyncio.gather` until they are all done or the
    run's deadline comes: then gather cancels the calls still open, each records its
    cancellation, and `report()` counts what was never started. The run ends here."""
    try:
        async with asyncio.timeout(rec.remaining_s()):
            await asyncio.gather(*calls)
    except TimeoutError:
        pass
    rec.stop()


def item_url(base: str, seq: int) -> str:
    """Request `seq`'s URL: the server gives it the seeded delay of request `seq`."""
    return f"{base}/items?seq={seq}"


def missing(module: str) -> None:
    """Ends a peer whose library is not installed, in one line, without a traceback."""
    sys.exit(f"{module} is not installed here: run `bash peers/python/setup.sh` and use "
             f"target/peers-venv/bin/python")


def raise_fd_limit() -> None:
    """Raises the soft limit on open files to the hard one, as fanout does: each of
    1,000 concurrent connections holds a descriptor, and the usual soft limit of 1,024
    would turn the last few into `connect` failures that measure the limit, not the
    pattern."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass  # keep the soft limit; failures will show as outcomes


# --- Outcomes ------------------------------------------------------------------------


def outcome_for_status(status: int) -> str:
    """Classifies an answer as fanout does: only 4xx and 5xx are failures."""
    if status == 429:
        return "http_429"
    if 400 <= status <= 499:
        return "http_4xx"
    if 500 <= status <= 599:
        return "http_5xx"
    return "ok"


# --- The record ----------------------------------------------------------------------


class Recorder:
    """One run's clock and one slot per request.

    Times are `time.perf_counter_ns()` (the clock behind `time.perf_counter()`, in
    integer nanoseconds so that latencies are not rounded twice), relative to `begin()`,
    which a peer calls just before it creates its first request. A request's slot is
    filled once: `start`, then exactly one of `finish`, `fail` or `cancel`; whatever is
    still open when the peer calls `report` was cut off and counts as `cancelled`.
    """

    def __init__(self, n: int, deadline_s: float) -> None:
        self.n = n
        self.deadline_s = deadline_s
        self.t0_ns: Optional[int] = None
        self.t0_unix_us: Optional[int] = None
        self.start_ns: list[Optional[int]] = [None] * n
        self.end_ns: list[Optional[int]] = [None] * n
        self.status: list[Optional[int]] = [None] * n
        self.outcome: list[Optional[str]] = [None] * n
        self.stop_ns: Optional[int] = None

    def begin(self) -> None:
        """The run's start: every time in the report is measured from here. The same
        moment on the wall clock lets fanout line the record up with its ledger."""
        self.t0_unix_us = time.time_ns() // 1000
        self.t0_ns = time.perf_counter_ns()

    def now_ns(self) -> int:
        assert self.t0_ns is not None, "begin() first"
        return time.perf_counter_ns() - self.t0_ns

    def remaining_s(self) -> float:
        """Seconds left before the run's deadline (negative once it has passed)."""
        return self.deadline_s - self.now_ns() / 1e9

    def start(self, seq: int) -> None:
        """Request `seq` is being sent now (after any permit it had to wait for)."""
        self.start_ns[seq] = self.now_ns()

    def finish(self, seq: int, status: int) -> str:
        """Request `seq`'s answer has been read in full; returns its outcome."""
        return self._end(seq, outcome_for_status(status), status)

    def fail(self, seq: int, outcome: str) -> str:
        """Request `seq` ended without an answer, for the reason `outcome` names."""
        return self._end(seq, outcome, None)

    def cancel(self, seq: int) -> None:
        """Request `seq` was stopped from outside (deadline, or a failing sibling)."""
        if self.outcome[seq] is None:
            self._end(seq, "cancelled", None)

    def stop(self) -> None:
        """The run is over: requests still open now were cut off, and end now."""
        if self.stop_ns is None:
            self.stop_ns = self.now_ns()

    def _end(self, seq: int, outcome: str, status: Optional[int]) -> str:
        assert outcome in OUTCOMES, outcome
        assert self.outcome[seq] is None, f"request {seq} ended twice"
        self.end_ns[seq] = self.now_ns()
        self.status[seq] = status
        self.outcome[seq] = outcome
        return outcome

    def report(self, peer: str, library: str, limit: Optional[int], **extra) -> dict:
        """Closes the record and returns the peer's JSON object."""
        self.stop()
        cut_off = self.stop_ns
        for seq in range(self.n):
            if self.outcome[seq] is None:
                self.end_ns[seq] = cut_off
                self.outcome[seq] = "cancelled"
            if self.start_ns[seq] is None:  # never sent: start and end together
                self.start_ns[seq] = self.end_ns[seq]
        samples = [
            [seq, ms(self.start_ns[seq]), ms(self.end_ns[seq]), self.status[seq], self.outcome[seq]]
            for seq in range(self.n)
        ]
        counts: dict[str, int] = {}
        for name in OUTCOMES:  # fanout leaves out outcomes that did not happen
            count = self.outcome.count(name)
            if count:
                counts[name] = count
        latencies_us = [
            (self.end_ns[seq] - self.start_ns[seq]) // 1000
            for seq in range(self.n)
            if self.outcome[seq] != "cancelled"
        ]
        return {
            "peer": peer,
            "library": library,
            "python": platform.python_version(),
            "started_unix_us": self.t0_unix_us,
            "n": self.n,
            "limit": limit,
            **extra,
            # fanout's definition: from the run's start to the end of its last request.
            "wall_ms": ms(max(self.end_ns)),
            "outcomes": counts,
            "latency_ms": percentiles_ms(latencies_us),
            "samples": samples,
        }


def ms(ns: int) -> float:
    """Nanoseconds to milliseconds, kept to the microsecond."""
    return round(ns / 1e6, 3)


def library_version(distribution: str) -> str:
    """`"httpx 0.28.1"`: the library as installed, for the report."""
    return f"{distribution} {metadata.version(distribution)}"


def emit(report: dict) -> None:
    """Prints the report: one JSON object, one line, on stdout."""
    json.dump(report, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


# --- Percentiles, as fanout computes them --------------------------------------------
#
# fanout records latencies in microseconds into an HdrHistogram with three significant
# digits (values clamped to 1 µs .. 1 h) and reads p50/p90/p99/max/mean from it. The
# histogram keeps values in buckets: below 2,048 µs every microsecond is its own bucket;
# above, a bucket spans 2^k µs where 2^k is the value's magnitude over 2,048. A
# percentile is the highest value of the bucket holding the ceil(q * count)-th value, the
# max is the highest value of the largest value's bucket, and the mean uses each
# bucket's middle. The four functions below reproduce that, so both sides print the same
# figure for the same samples.

_HOUR_US = 3_600_000_000
_SUB_BUCKET_MASK = 2047  # 2^11 - 1: three significant digits need 2,000 distinct steps


def _bucket_bits(value: int) -> int:
    return max(0, (value | _SUB_BUCKET_MASK).bit_length() - 11)


def _lowest_equivalent(value: int) -> int:
    bits = _bucket_bits(value)
    return (value >> bits) << bits


def _highest_equivalent(value: int) -> int:
    return _lowest_equivalent(value) + (1 << _bucket_bits(value)) - 1


def _median_equivalent(value: int) -> int:
    return _lowest_equivalent(value) + ((1 << _bucket_bits(value)) >> 1)


def percentiles_ms(micros: list[int]) -> dict[str, float]:
    """p50, p90, p99, max and mean, in ms, of latencies given in µs (all zero if none)."""
    if not micros:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    values = sorted(min(max(v, 1), _HOUR_US) for v in micros)
    count = len(values)

    def at(q: float) -> float:
        rank = max(1, math.ceil(q * count))
        return _highest_equivalent(values[rank - 1]) / 1e3

    mean_us = sum(_median_equivalent(v) for v in values) / count
    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": _highest_equivalent(values[-1]) / 1e3,
        "mean": mean_us / 1e3,
    }

