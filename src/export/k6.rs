//! The k6 script of a [`Plan`]: one scenario, its executor chosen by the plan's pace.
//!
//! - Loops are `shared-iterations`: `vus` users share exactly n iterations. (Not
//!   `constant-vus`: that executor runs for a duration, and fanout's n is a count.)
//! - Arrivals are `constant-arrival-rate` (n iterations spread evenly over n / rate
//!   seconds: k6's rate is a whole number per time unit, so the script asks for n per
//!   n / rate, which is the same rate) or, for a ramp,
//!   `ramping-arrival-rate`. Both run a little past the last start, since each
//!   segment rounds its own share of the starts; an iteration numbered n or more
//!   makes no request.
//!
//! Each iteration is one request: its number, `exec.scenario.iterationInTest`, is the
//! request's `seq`. k6 numbers iterations across every execution segment, so N k6
//! processes, each run with its own `--execution-segment` of one
//! `--execution-segment-sequence` (as k6-operator runs its pods), together make every
//! seq in `0..n` once.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Pace, Plan};
use crate::strategy::arrival::Ramp;

/// The k6 script for `plan`.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for line in plan.header_lines() {
        let _ = writeln!(out, "{}", format!("// {line}").trim_end());
    }
    let endpoints: String = plan
        .endpoints
        .iter()
        .map(|e| {
            format!(
                "  {{ name: {}, method: {}, path: {}, body: {} }},\n",
                js_string(&e.name),
                js_string(&e.method),
                js_string(&e.path_and_query),
                e.body
            )
        })
        .collect();
    let _ = write!(
        out,
        "//
// Run it on its own:
//   k6 run -e {env}=URL k6-script.js
// or split into W processes (on one machine or many), process i of W with:
//   k6 run --execution-segment i/W:(i+1)/W --execution-segment-sequence 0,1/W,...,1 -e {env}=URL k6-script.js

import http from 'k6/http';
import exec from 'k6/execution';
import {{ sleep }} from 'k6';

const N = {n};
const BASE = __ENV.FANOUT_URL || {default_url};
const TARGET = {target};
const RETRIES = {retries};
const BACKOFF_S = {backoff};
const FRESH_CONNECTIONS = {fresh};
const ENDPOINTS = [
{endpoints}];

export const options = {{
  discardResponseBodies: true,
  noConnectionReuse: FRESH_CONNECTIONS,
  scenarios: {{
    fanout: {executor},
  }},
}};

// The wait the server asked for: retry-after-ms, else Retry-After in seconds.
function retryAfterSeconds(response) {{
  const headers = response.headers || {{}};
  const ms = parseFloat(headers['Retry-After-Ms'] || headers['retry-after-ms']);
  if (!isNaN(ms)) return Math.max(0, ms / 1000);
  const s = parseFloat(headers['Retry-After'] || headers['retry-after']);
  return isNaN(s) ? 0 : Math.max(0, s);
}}

export default function () {{
  const seq = exec.scenario.iterationInTest;
  if (seq >= N) return; // an arrival executor's rounding: never a request past n
  let name = 'target';
  let method = 'GET';
  let url = TARGET ? __ENV.FANOUT_TARGET : '';
  let body = null;
  const params = {{ tags: {{ name: 'target' }}, headers: {{}}{timeout} }};
  if (!TARGET) {{
    const endpoint = ENDPOINTS[seq % ENDPOINTS.length];
    name = endpoint.name;
    method = endpoint.method;
    url = BASE + endpoint.path + (endpoint.path.includes('?') ? '&' : '?') + 'seq=' + seq;
    params.tags.name = name;
    if (endpoint.body) {{
      body = JSON.stringify({{ seq: seq, title: 'post ' + seq + ' to ' + name, body: 'sent by fanout', userId: (seq % 10) + 1 }});
      params.headers['Content-Type'] = 'application/json';
    }}
  }}
  for (let attempt = 0; ; attempt++) {{
    const response = http.request(method, url, body, params);
    const status = response.status;
    if (status >= 200 && status < 400) return;
    const retryable = status === 0 || status === 429 || status >= 500;
    if (attempt >= RETRIES || !retryable) return;
    const base = BACKOFF_S * Math.pow(2, attempt);
    sleep(Math.max(base + Math.random() * base, status ? retryAfterSeconds(response) : 0));
  }}
}}
",
        n = plan.n,
        env = if plan.target.is_some() { "FANOUT_TARGET" } else { "FANOUT_URL" },
        default_url = js_string(&plan.default_url),
        target = plan.target.is_some(),
        retries = plan.retries,
        backoff = plan.backoff.as_secs_f64(),
        fresh = plan.fresh_connections,
        executor = executor(plan),
        timeout = plan
            .timeout
            .map_or(String::new(), |t| format!(", timeout: '{}ms'", t.as_millis().max(1))),
    );
    out
}

/// The scenario's executor object.
fn executor(plan: &Plan) -> String {
    let deadline = plan.deadline_secs();
    match plan.pace {
        Pace::Loops { users } => format!(
            "{{ executor: 'shared-iterations', vus: {users}, iterations: N, maxDuration: '{deadline}s' }}"
        ),
        Pace::Paced { .. } => unreachable!("plan() paces k6 with arrivals"),
        Pace::Arrivals {
            rate,
            ramp: None,
            max_in_flight,
            pre_allocated,
        } => {
            // Starts at i·T/n while before the duration. Split into segments, each
            // process rounds its own share of the starts, so the duration runs a tenth
            // and five intervals past T (and k6 asks for at least 1 s): the starts past
            // n make no request (see the script's guard).
            let spread = plan.n as f64 / rate;
            let duration = micros((spread * 1.1 + 5.0 / rate).max(1.0));
            let spread = micros(spread);
            format!(
                "{{ executor: 'constant-arrival-rate', rate: N, timeUnit: '{spread}us', duration: '{duration}us', preAllocatedVUs: {pre_allocated}, maxVUs: {max_in_flight}, gracefulStop: '{deadline}s' }}"
            )
        }
        Pace::Arrivals {
            ramp: Some(ramp),
            max_in_flight,
            pre_allocated,
            ..
        } => {
            // Rates per 1000 s, so fractional rates per second stay whole numbers.
            let per_ks = |r: f64| (r * 1000.0).round() as u64;
            let stages: Vec<String> = padded_ramp_stages(&ramp, plan.n)
                .iter()
                .map(|(target, over)| {
                    format!(
                        "{{ target: {}, duration: '{}us' }}",
                        per_ks(*target),
                        over.as_micros().max(1)
                    )
                })
                .collect();
            format!(
                "{{ executor: 'ramping-arrival-rate', startRate: {}, timeUnit: '1000s', stages: [{}], preAllocatedVUs: {pre_allocated}, maxVUs: {max_in_flight}, gracefulStop: '{deadline}s' }}",
                per_ks(ramp.from),
                stages.join(", ")
            )
        }
    }
}

/// The stages of a ramp: those whose rate integrates to `n` requests (see
/// [`ramp_stages`]), then a second at the final rate, so that no segment's rounding
/// leaves a request number unstarted (the starts past n make no request).
fn padded_ramp_stages(ramp: &Ramp, n: u64) -> Vec<(f64, Duration)> {
    let mut stages = ramp_stages(ramp, n);
    if let Some(&(last, _)) = stages.last() {
        stages.push((last, Duration::from_secs(1)));
    }
    stages
}

/// The stages (rate at the end, duration) whose rate integrates to `n` requests: the
/// ramp (cut short where it reaches n), then the final rate for the rest.
pub fn ramp_stages(ramp: &Ramp, n: u64) -> Vec<(f64, Duration)> {
    let n = n as f64;
    let over = ramp.over.as_secs_f64();
    let in_ramp = (ramp.from + ramp.to) / 2.0 * over;
    if n <= in_ramp || ramp.to <= 0.0 {
        // from·t + slope·t²/2 = n, slope = (to − from) / over.
        let slope = (ramp.to - ramp.from) / over;
        let t = if slope.abs() < 1e-12 {
            n / ramp.from
        } else {
            (-ramp.from + (ramp.from * ramp.from + 2.0 * slope * n).sqrt()) / slope
        };
        let t = t.min(over);
        return vec![(ramp.from + slope * t, Duration::from_secs_f64(t))];
    }
    vec![
        (ramp.to, ramp.over),
        (ramp.to, Duration::from_secs_f64((n - in_ramp) / ramp.to)),
    ]
}

fn micros(seconds: f64) -> u64 {
    (seconds * 1e6).round().max(1.0) as u64
}

/// `text` as a JavaScript string literal.
fn js_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}
