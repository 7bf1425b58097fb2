//! The Locust file of a [`Plan`]: one `FastHttpUser` class whose users share the
//! scenario's n request numbers.
//!
//! Locust has no "n requests in all" of its own (its runs end by time), so the file
//! counts them itself. Each process takes a share of the numbers: worker w of W
//! (`runner.worker_index`, and W from `--expect-workers`, which the master forwards)
//! makes `seq` in `[n·w/W, n·(w+1)/W)`; its users take the next number of that share
//! until none is left. When a worker's last request has ended it sends its statistics
//! and a `fanout_done` message; the master quits once every worker has, which ends a
//! headless run with its final figures. A Locust run on its own (no master) quits the
//! same way once its share, all of n, is done.
//!
//! Locust's users are greenlets on gevent, one Python process per worker: one core
//! each at most, which is why Locust spreads load over worker processes.

use std::fmt::Write as _;

use super::{Pace, Plan};

/// The Locust file for `plan`.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for line in plan.header_lines() {
        let _ = writeln!(out, "{}", format!("# {line}").trim_end());
    }
    let (users, rate) = match plan.pace {
        Pace::Loops { users } => (users, None),
        Pace::Paced { users, rate } => (users, Some(rate)),
        Pace::Arrivals { .. } => unreachable!("plan() refuses open loops for Locust"),
    };
    let _ = write!(
        out,
        "#
# Run it on its own:
#   locust -f locustfile.py --headless -u {users} -r {users} --run-time {deadline}s --host URL
# or with a master and W workers (on one machine or many):
#   locust -f locustfile.py --headless --master --expect-workers W -u {users} -r {users} --run-time {deadline}s --host URL
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

N = {n}
USERS = {users}
RATE = {rate}
RETRIES = {retries}
BACKOFF_S = {backoff}
TIMEOUT_S = {timeout}
FRESH_CONNECTIONS = {fresh}
TARGET = {target}
# (name, method, path with its query, whether a JSON body is sent)
ENDPOINTS = [
{endpoints}]


class Share:
    \"\"\"This process's request numbers: [start, end), the next one, how many ended.\"\"\"

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
        environment.runner.register_message(\"fanout_done\", _worker_done)


def _worker_done(environment, msg, **_kwargs):
    finished_workers.add(msg.data[\"index\"])
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
        runner.send_message(\"fanout_done\", {{\"index\": share.index, \"made\": share.ended}})
    else:
        gevent.spawn(runner.quit)


def _retry_after_s(response):
    \"\"\"The wait the server asked for: retry-after-ms, else Retry-After in seconds.\"\"\"
    headers = response.headers or {{}}
    for name, scale in ((\"retry-after-ms\", 1e-3), (\"retry-after\", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
    return 0.0


class FanoutUser(FastHttpUser):
    host = {default_url}
    wait_time = {wait_time}
    max_retries = 0
{timeouts}
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
            name, method, url, body = \"target\", \"GET\", os.environ[\"FANOUT_TARGET\"], False
        else:
            name, method, path, body = ENDPOINTS[seq % len(ENDPOINTS)]
            url = f\"{{path}}{{'&' if '?' in path else '?'}}seq={{seq}}\"
        extra = {{}}
        if body:
            extra[\"json\"] = {{\"seq\": seq, \"title\": f\"post {{seq}} to {{name}}\", \"body\": \"sent by fanout\", \"userId\": seq % 10 + 1}}
        if FRESH_CONNECTIONS:
            extra[\"headers\"] = {{\"Connection\": \"close\"}}
        for attempt in range(RETRIES + 1):
            with self.client.request(method, url, name=name, catch_response=True, **extra) as response:
                status = response.status_code or 0
                if 200 <= status < 400:
                    response.success()
                    return
                response.failure(f\"status {{status}}\" if status else str(response.error))
                asked = _retry_after_s(response) if status else 0.0
            if attempt == RETRIES or not (status == 0 or status == 429 or status >= 500):
                return
            base = BACKOFF_S * 2**attempt
            gevent.sleep(max(base + random.uniform(0, base), asked))
",
        n = plan.n,
        deadline = plan.deadline_secs(),
        rate = rate.map_or("None".to_string(), |r| format!("{r}")),
        retries = plan.retries,
        backoff = plan.backoff.as_secs_f64(),
        timeout = plan
            .timeout
            .map_or("None".to_string(), |t| format!("{}", t.as_secs_f64())),
        fresh = if plan.fresh_connections { "True" } else { "False" },
        target = if plan.target.is_some() { "True" } else { "False" },
        endpoints = plan
            .endpoints
            .iter()
            .map(|e| {
                format!(
                    "    ({}, {}, {}, {}),\n",
                    python_string(&e.name),
                    python_string(&e.method),
                    python_string(&e.path_and_query),
                    if e.body { "True" } else { "False" }
                )
            })
            .collect::<String>(),
        default_url = python_string(&plan.default_url),
        wait_time = match rate {
            Some(_) => "constant_throughput(RATE / USERS)",
            None => "constant(0)",
        },
        timeouts = match plan.timeout {
            Some(_) => "    network_timeout = TIMEOUT_S\n    connection_timeout = TIMEOUT_S\n\n",
            None => "\n",
        },
    );
    out
}

/// `text` as a Python string literal (JSON's escapes are Python's too).
fn python_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}
