# fanout's async-semaphore as a locust script, written by `fanout export locust`.
# Requests go to the mock API (`fanout serve`), http://127.0.0.1:46157 unless told otherwise.
#
# Maps exactly:
#   - n = 2000 requests, request i to ?seq=i, each i made exactly once across every worker, so the mock API draws the same delay and fault for it as for fanout's own run
#   - a limit of 50 is 50 virtual users looping: at most 50 requests in flight
#   - each virtual user keeps its connection alive, as a shared client's pool does
# Does not map exactly:
#   - across W workers each takes n/W of the requests: a worker that finishes its share first (or was given fewer users, when they do not divide evenly) leaves its users idle while the others' go on, where one semaphore would hand them the rest
#   - no --timeout: the engine's own default applies (60 s in both), where fanout waits until the run's deadline
#   - the engine's own client is measured, not reqwest or ureq: its CPU per request is its own
#
# Run it on its own:
#   locust -f locustfile.py --headless -u 50 -r 50 --run-time 34s --host URL
# or with a master and W workers (on one machine or many):
#   locust -f locustfile.py --headless --master --expect-workers W -u 50 -r 50 --run-time 34s --host URL
#   locust -f locustfile.py --worker --master-host MASTER   (W times)
# -u must be USERS below, and W at most USERS (each worker makes its share of the
# requests with the users the master gives it); the run ends by itself once all N
# requests have ended.

import os
import random

import gevent
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

N = 2000
USERS = 50
RATE = None
RETRIES = 0
BACKOFF_S = 0.1
TIMEOUT_S = None
FRESH_CONNECTIONS = False
TARGET = False
# (name, method, path with its query, whether a JSON body is sent)
ENDPOINTS = [
    ("items", "GET", "/items", False),
]


class Share:
    """This process's request numbers: [start, end), the next one, how many ended."""

    start = end = next = ended = 0
    users = 0
    workers = 1
    index = 0
    reported = False


share = Share()
finished_workers = set()


@events.init.add_listener
def _listen_for_workers(environment, **_kwargs):
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message("fanout_done", _worker_done)


def _worker_done(environment, msg, **_kwargs):
    finished_workers.add(msg.data["index"])
    if len(finished_workers) >= environment.parsed_options.expect_workers:
        gevent.spawn(environment.runner.quit)


@events.test_start.add_listener
def _take_share(environment, **_kwargs):
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        return
    if isinstance(runner, WorkerRunner):
        share.workers = max(1, int(environment.parsed_options.expect_workers or 1))
        share.index = runner.worker_index
    share.start = N * share.index // share.workers
    share.end = N * (share.index + 1) // share.workers
    share.next = share.start
    share.ended = 0
    share.users = 0
    share.reported = False
    if share.start == share.end:
        _share_ended(environment)


def _share_ended(environment):
    if share.reported:
        return
    share.reported = True
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # The statistics first, then the word: both go down the one connection in order.
        runner._send_stats()
        runner.send_message("fanout_done", {"index": share.index, "made": share.ended})
    else:
        gevent.spawn(runner.quit)


def _retry_after_s(response):
    """The wait the server asked for: retry-after-ms, else Retry-After in seconds."""
    headers = response.headers or {}
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
    return 0.0


class FanoutUser(FastHttpUser):
    host = "http://127.0.0.1:46157"
    wait_time = constant(0)
    max_retries = 0


    def on_start(self):
        # Paced users start 1/RATE apart, so together they start one request every 1/RATE.
        place = share.users * share.workers + share.index
        share.users += 1
        if RATE:
            gevent.sleep(place / RATE)

    @task
    def next_request(self):
        if share.next >= share.end:
            raise StopUser()
        seq = share.next
        share.next += 1
        try:
            self.make(seq)
        finally:
            share.ended += 1
            if share.ended == share.end - share.start:
                _share_ended(self.environment)

    def make(self, seq):
        if TARGET:
            name, method, url, body = "target", "GET", os.environ["FANOUT_TARGET"], False
        else:
            name, method, path, body = ENDPOINTS[seq % len(ENDPOINTS)]
            url = f"{path}{'&' if '?' in path else '?'}seq={seq}"
        extra = {}
        if body:
            extra["json"] = {"seq": seq, "title": f"post {seq} to {name}", "body": "sent by fanout", "userId": seq % 10 + 1}
        if FRESH_CONNECTIONS:
            extra["headers"] = {"Connection": "close"}
        for attempt in range(RETRIES + 1):
            with self.client.request(method, url, name=name, catch_response=True, **extra) as response:
                status = response.status_code or 0
                if 200 <= status < 400:
                    response.success()
                    return
                response.failure(f"status {status}" if status else str(response.error))
                asked = _retry_after_s(response) if status else 0.0
            if attempt == RETRIES or not (status == 0 or status == 429 or status >= 500):
                return
            base = BACKOFF_S * 2**attempt
            gevent.sleep(max(base + random.uniform(0, base), asked))
