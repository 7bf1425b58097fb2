// fanout's async-semaphore as a k6 script, written by `fanout export k6`.
// Requests go to the mock API (`fanout serve`), http://127.0.0.1:37141 unless told otherwise.
//
// Maps exactly:
//   - n = 2000 requests, request i to ?seq=i, each i made exactly once across every worker, so the mock API draws the same delay and fault for it as for fanout's own run
//   - a limit of 50 is 50 virtual users looping: at most 50 requests in flight
//   - each virtual user keeps its connection alive, as a shared client's pool does
// Does not map exactly:
//   - across W workers each takes n/W of the requests: a worker that finishes its share first (or was given fewer users, when they do not divide evenly) leaves its users idle while the others' go on, where one semaphore would hand them the rest
//   - no --timeout: the engine's own default applies (60 s in both), where fanout waits until the run's deadline
//   - the engine's own client is measured, not reqwest or ureq: its CPU per request is its own
//
// Run it on its own:
//   k6 run -e FANOUT_URL=URL k6-script.js
// or split into W processes (on one machine or many), process i of W with:
//   k6 run --execution-segment i/W:(i+1)/W --execution-segment-sequence 0,1/W,...,1 -e FANOUT_URL=URL k6-script.js

import http from 'k6/http';
import exec from 'k6/execution';
import { sleep } from 'k6';

const N = 2000;
const BASE = __ENV.FANOUT_URL || "http://127.0.0.1:37141";
const TARGET = false;
const RETRIES = 0;
const BACKOFF_S = 0.1;
const FRESH_CONNECTIONS = false;
const ENDPOINTS = [
  { name: "items", method: "GET", path: "/items", body: false },
];

export const options = {
  discardResponseBodies: true,
  noConnectionReuse: FRESH_CONNECTIONS,
  scenarios: {
    fanout: { executor: 'shared-iterations', vus: 50, iterations: N, maxDuration: '34s' },
  },
};

// The wait the server asked for: retry-after-ms, else Retry-After in seconds.
function retryAfterSeconds(response) {
  const headers = response.headers || {};
  const ms = parseFloat(headers['Retry-After-Ms'] || headers['retry-after-ms']);
  if (!isNaN(ms)) return Math.max(0, ms / 1000);
  const s = parseFloat(headers['Retry-After'] || headers['retry-after']);
  return isNaN(s) ? 0 : Math.max(0, s);
}

export default function () {
  const seq = exec.scenario.iterationInTest;
  if (seq >= N) return; // an arrival executor's rounding: never a request past n
  let name = 'target';
  let method = 'GET';
  let url = TARGET ? __ENV.FANOUT_TARGET : '';
  let body = null;
  const params = { tags: { name: 'target' }, headers: {} };
  if (!TARGET) {
    const endpoint = ENDPOINTS[seq % ENDPOINTS.length];
    name = endpoint.name;
    method = endpoint.method;
    url = BASE + endpoint.path + (endpoint.path.includes('?') ? '&' : '?') + 'seq=' + seq;
    params.tags.name = name;
    if (endpoint.body) {
      body = JSON.stringify({ seq: seq, title: 'post ' + seq + ' to ' + name, body: 'sent by fanout', userId: (seq % 10) + 1 });
      params.headers['Content-Type'] = 'application/json';
    }
  }
  for (let attempt = 0; ; attempt++) {
    const response = http.request(method, url, body, params);
    const status = response.status;
    if (status >= 200 && status < 400) return;
    const retryable = status === 0 || status === 429 || status >= 500;
    if (attempt >= RETRIES || !retryable) return;
    const base = BACKOFF_S * Math.pow(2, attempt);
    sleep(Math.max(base + Math.random() * base, status ? retryAfterSeconds(response) : 0));
  }
}
