//! Past one machine, on paper: what n calls at once would need, resource by resource,
//! and which limit binds first.
//!
//! The model says n requests started together end in about the slowest one's time,
//! provided every one of them can be in flight at once. By Little's law that is n in
//! flight for the whole delay, and each one in flight holds, at the same moment:
//!
//! - a file descriptor on the client and one on the server (a process may open
//!   [`Machine::descriptors`] of them);
//! - a (source address, source port) pair towards the one server address and port:
//!   the kernel hands out [`Machine::ephemeral_ports`] source ports per source
//!   address, so n past that needs more source addresses (or server addresses);
//! - memory on both sides (measured: [`Costs::mib_per_request`]);
//! - at the start, a TCP (and with TLS, a TLS) handshake: CPU that must all be spent
//!   within the window the requests start in, [`Costs::handshake_cpu_ms`] each;
//! - and at the server, n answers in one delay: n / delay requests a second, against
//!   what one machine serves ([`Costs::server_requests_per_s`]).
//!
//! [`needs`] turns those into "how many machines' worth" per resource. The largest is
//! the limit that binds first; lifting it (more descriptors, more source addresses,
//! more machines) moves the question to the next. Nothing here is measured by itself:
//! the costs come from runs (chapter 12's example measures them on this machine) and
//! the machine's limits from the kernel.

use std::time::Duration;

use serde::Serialize;

/// What one machine (one process, for descriptors) allows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Machine {
    /// File descriptors one process may open (`RLIMIT_NOFILE`'s hard limit).
    pub descriptors: u64,
    /// Source ports per source address towards one server address and port
    /// (`net.ipv4.ip_local_port_range`, both ends counted).
    pub ephemeral_ports: u64,
    /// CPU cores.
    pub cores: u64,
    /// Memory, in MiB.
    pub memory_mib: f64,
}

impl Machine {
    /// This machine, as the kernel tells it; a figure it cannot read is left at
    /// Linux's usual default.
    pub fn here() -> Machine {
        let descriptors =
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(_, hard)| hard);
        let ephemeral_ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|text| {
                let mut ends = text.split_whitespace().map(|v| v.parse::<u64>().ok());
                let (low, high) = (ends.next()??, ends.next()??);
                (high >= low).then(|| high - low + 1)
            })
            .unwrap_or(28_232);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let memory_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
            .map_or(1024.0, |kib| kib / 1024.0);
        Machine {
            descriptors,
            ephemeral_ports,
            cores,
            memory_mib,
        }
    }
}

/// What one request in flight costs, measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Costs {
    /// Resident memory per request in flight, client and server together, in MiB.
    pub mib_per_request: f64,
    /// CPU per connection's handshakes (TCP, and TLS when measured with it), client
    /// and server together, in ms.
    pub handshake_cpu_ms: f64,
    /// Requests a second one machine served at zero delay.
    pub server_requests_per_s: f64,
}

/// One resource's need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Need {
    /// What is needed.
    pub resource: &'static str,
    /// How much of it, in `unit`.
    pub needed: f64,
    /// How much one machine (or process, or address) has.
    pub per_unit: f64,
    /// What `per_unit` is counted per.
    pub unit: &'static str,
    /// needed / per_unit, rounded up: how many of those it takes.
    pub units: u64,
}

/// What n requests at once need, each held for `delay` and all started within
/// `start_window`. The result is sorted with the limit that binds first at the top.
pub fn needs(
    n: u64,
    delay: Duration,
    start_window: Duration,
    machine: &Machine,
    costs: &Costs,
) -> Vec<Need> {
    let n_f = n as f64;
    let need = |resource, needed: f64, per_unit: f64, unit| Need {
        resource,
        needed,
        per_unit,
        unit,
        units: (needed / per_unit.max(1e-9)).ceil().max(1.0) as u64,
    };
    let window_s = start_window.as_secs_f64().max(1e-3);
    let delay_s = delay.as_secs_f64().max(1e-3);
    let mut all = vec![
        need(
            "client file descriptors",
            n_f,
            machine.descriptors as f64,
            "client processes",
        ),
        need(
            "server file descriptors",
            n_f,
            machine.descriptors as f64,
            "server processes",
        ),
        need(
            "source ports towards one server address",
            n_f,
            machine.ephemeral_ports as f64,
            "source addresses",
        ),
        need(
            "memory, MiB (client and server)",
            n_f * costs.mib_per_request,
            machine.memory_mib,
            "machines",
        ),
        need(
            "cores for the handshakes within the start window",
            n_f * costs.handshake_cpu_ms / 1e3 / window_s,
            machine.cores as f64,
            "machines",
        ),
        need(
            "server requests a second (n in one delay)",
            n_f / delay_s,
            costs.server_requests_per_s,
            "machines",
        ),
    ];
    all.sort_by(|a, b| b.units.cmp(&a.units).then(b.needed.total_cmp(&a.needed)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINE: Machine = Machine {
        descriptors: 20_000,
        ephemeral_ports: 28_232,
        cores: 2,
        memory_mib: 24_576.0,
    };
    const COSTS: Costs = Costs {
        mib_per_request: 0.05,
        handshake_cpu_ms: 1.0,
        server_requests_per_s: 20_000.0,
    };

    #[test]
    fn the_largest_need_comes_first() {
        let s = Duration::from_secs(1);
        let needs = needs(100_000, s, s, &MACHINE, &COSTS);
        // 100 s of handshakes in one second on 2 cores: 50 machines' worth, first.
        assert_eq!(
            needs[0].resource,
            "cores for the handshakes within the start window"
        );
        assert_eq!(needs[0].units, 50);
        let by = |r: &str| {
            needs
                .iter()
                .find(|n| n.resource.starts_with(r))
                .unwrap()
                .units
        };
        // 100,000 answers in one second: 5 machines' worth of serving.
        assert_eq!(by("server requests"), 5);
        assert_eq!(by("client file"), 5);
        assert_eq!(by("source ports"), 4);
        assert_eq!(by("memory"), 1);
    }

    #[test]
    fn below_every_limit_one_of_each_suffices() {
        let s = Duration::from_secs(1);
        assert!(
            needs(1_000, s, s, &MACHINE, &COSTS)
                .iter()
                .all(|n| n.units == 1)
        );
    }
}
