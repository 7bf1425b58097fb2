"""The Python 3.11 version of the same fan-out: `asyncio.TaskGroup` instead of
`gather`, as the first tutorial recommends, with its promise to fail fast.

    target/peers-venv/bin/python peers/python/httpx_taskgroup.py \\
        --url http://127.0.0.1:8080 -n 100

Every call is a task of one group. A call whose outcome is not `ok` raises, as
`response.raise_for_status()` does in the tutorial, and the group then cancels every
call still running or waiting: those count as `cancelled`, and the run ends early. With
no failure it behaves like httpx_gather.py. fanout's counterparts are
`async-concurrent` and, for the failing case, `async-failfast`.

The pool options are httpx_gather.py's: no limit unless `--max-connections` sets one.
"""

from __future__ import annotations

import asyncio
from typing import Optional

import fanout_peer
import httpx_peer


class RequestFailed(Exception):
    """Raised by a call that did not end `ok`; the TaskGroup cancels the rest."""

    def __init__(self, seq: int, outcome: str) -> None:
        super().__init__(f"request {seq}: {outcome}")
        self.seq = seq
        self.outcome = outcome


async def call(http, rec: fanout_peer.Recorder, base: str, seq: int) -> None:
    outcome = await httpx_peer.fetch(http, rec, base, seq)
    if outcome != "ok":
        raise RequestFailed(seq, outcome)


async def run(args) -> dict:
    rec = fanout_peer.Recorder(args.n, args.deadline)
    first_failure: Optional[dict] = None
    async with httpx_peer.client(args) as http:
        rec.begin()
        try:
            async with asyncio.timeout(rec.remaining_s()):
                async with asyncio.TaskGroup() as group:
                    for seq in range(args.n):
                        group.create_task(call(http, rec, args.url, seq))
        except* RequestFailed as failures:
            # Several calls can fail before the cancellation reaches them; the earliest
            # to end is the one that stopped the batch.
            first = min(failures.exceptions, key=lambda e: rec.end_ns[e.seq])
            first_failure = {"seq": first.seq, "outcome": first.outcome}
        except* TimeoutError:
            pass  # the deadline: the group cancelled every call still open
        rec.stop()
    return rec.report(
        httpx_peer.peer_name("taskgroup"),
        httpx_peer.library(),
        httpx_peer.max_connections(args),
        **httpx_peer.pool_fields(args),
        first_failure=first_failure,
    )


def main() -> None:
    p = fanout_peer.parser(
        "httpx.AsyncClient + asyncio.TaskGroup: every call at once, the first failure "
        "cancels the rest."
    )
    httpx_peer.add_pool_options(p)
    args = fanout_peer.parse(p)
    httpx_peer.check_pool_options(p, args)
    fanout_peer.raise_fd_limit()
    fanout_peer.emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
