"""The starting point of all three tutorials: `requests`, one call after another.

    target/peers-venv/bin/python peers/python/requests_sequential.py \\
        --url http://127.0.0.1:8080 -n 20

One `requests.Session` is shared by every call, so its pooled keep-alive connection is
reused: the run costs the sum of the server's delays plus one connection, which is what
the tutorials' "before" picture promises. fanout's counterpart is `sync-sequential`.

`requests` has no timeout unless it is given one, and then it bounds the connect and
each wait for data separately (there is no bound on a whole request); `--timeout`
is passed as both. Near the run's `--deadline`, a call gets only the time that is left,
and one cut short that way counts as `cancelled`, not `timeout`.
"""

from __future__ import annotations

import fanout_peer

try:
    import requests
    import urllib3
except ImportError:
    fanout_peer.missing("requests")


def classify(error: requests.RequestException) -> str:
    """Names the way a call failed, in fanout's terms."""
    if isinstance(error, requests.Timeout):  # ConnectTimeout and ReadTimeout
        return "timeout"
    if isinstance(error, requests.exceptions.SSLError):  # a ConnectionError too
        return "tls"
    if isinstance(error, requests.ConnectionError):
        # requests wraps urllib3's error: a refused or unresolvable connect arrives as
        # MaxRetryError(reason=NewConnectionError); anything else broke after connecting.
        reason = getattr(error.args[0] if error.args else None, "reason", None)
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return "connect"
    return "dropped"  # a broken connection, a malformed or truncated answer


def run(args) -> dict:
    rec = fanout_peer.Recorder(args.n, args.deadline)
    with requests.Session() as session:
        # Over https, trust exactly --cafile, not certifi's bundle. Given per call: a
        # session's `verify` would yield to REQUESTS_CA_BUNDLE from the environment.
        verify = args.cafile or True
        rec.begin()
        for seq in range(args.n):
            left = rec.remaining_s()
            if left <= 0:
                break  # the rest were never sent: report() counts them as cancelled
            budget = min(args.timeout, left)
            rec.start(seq)
            try:
                response = session.get(
                    fanout_peer.item_url(args.url, seq), timeout=budget, verify=verify
                )
                rec.finish(seq, response.status_code)  # the body is read by now
            except requests.RequestException as error:
                outcome = classify(error)
                if outcome == "timeout" and budget < args.timeout:
                    rec.cancel(seq)  # the deadline's doing, not the request's timeout
                else:
                    rec.fail(seq, outcome)
    # urllib3 named too: it is what requests runs on (setup.sh keeps niquests'
    # urllib3-future from taking its place).
    library = f"{fanout_peer.library_version('requests')} on {fanout_peer.library_version('urllib3')}"
    return rec.report("python-requests-sequential", library, None)


def main() -> None:
    p = fanout_peer.parser("requests.Session, one call after another.")
    args = fanout_peer.parse(p)
    fanout_peer.emit(run(args))


if __name__ == "__main__":
    main()
