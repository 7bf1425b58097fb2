//! The value parsers behind the flags: each turns one flag's text into its value or
//! one line naming what is wrong, which clap prints with exit code 2.

use std::time::Duration;

use crate::server::latency::{Latency, parse_duration};

pub(super) fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(value) if value >= 1 && value <= u64::MAX as i128 => Ok(value as u64),
        Ok(value) if value >= 1 => Err("is too large".to_string()),
        Ok(_) => Err("must be at least 1".to_string()),
        Err(_) => Err("is not a whole number".to_string()),
    }
}

pub(super) fn parse_count_usize(text: &str) -> Result<usize, String> {
    parse_count(text).map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}

pub(super) fn parse_thread_count(text: &str) -> Result<usize, String> {
    match parse_count_usize(text)? {
        count if count <= crate::scenario::MAX_THREADS => Ok(count),
        _ => Err(format!("must be at most {}", crate::scenario::MAX_THREADS)),
    }
}

/// A load engine's worker processes: at least one, at most 64 (each is a process of its
/// own on this machine).
pub(super) fn parse_processes(text: &str) -> Result<usize, String> {
    match parse_count_usize(text)? {
        count if count <= 64 => Ok(count),
        _ => Err("must be at most 64 processes".to_string()),
    }
}

pub(super) fn parse_latency(text: &str) -> Result<Latency, String> {
    text.parse::<Latency>().map_err(|e| e.to_string())
}

pub(super) fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be above zero".to_string()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

pub(super) fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 100.0 => Ok(v),
        Ok(_) => Err("must be above 0 and at most 100".to_string()),
        Err(_) => Err("is not a number".to_string()),
    }
}

pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        Ok(_) => Err("must be between 0 and 1".to_string()),
        Err(_) => Err("is not a number".to_string()),
    }
}

pub(super) fn parse_count_u32(text: &str) -> Result<u32, String> {
    parse_count(text).and_then(|v| u32::try_from(v).map_err(|_| "is too large".to_string()))
}

pub(super) fn parse_rate_per_second(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches("/s");
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be above zero".to_string()),
        Err(_) => Err("is not a rate (write 10 or 10/s)".to_string()),
    }
}

/// `--stall LENGTH@AT`: `2s@1s` freezes the server for 2 s from 1 s after its first
/// request.
pub(super) fn parse_stall(text: &str) -> Result<crate::server::stall::Stall, String> {
    let Some((length, at)) = text.trim().split_once('@') else {
        return Err("is not LENGTH@AT, as in 2s@1s (a 2 s stall from 1 s)".to_string());
    };
    let length = parse_positive_duration(length).map_err(|e| format!("length {e}"))?;
    let at = parse_duration(at).map_err(|e| format!("start {e}"))?;
    Ok(crate::server::stall::Stall::new(length, at))
}

/// `--ramp FROM..TO/s:LENGTH`: `0..200/s:10s` grows the arrival rate from 0 to 200
/// per second over 10 s.
pub(super) fn parse_ramp(text: &str) -> Result<crate::strategy::arrival::Ramp, String> {
    const SHAPE: &str = "is not FROM..TO/s:LENGTH, as in 0..200/s:10s";
    let (rates, length) = text.trim().split_once(':').ok_or(SHAPE)?;
    let (from, to) = rates.trim_end_matches("/s").split_once("..").ok_or(SHAPE)?;
    let rate = |v: &str| match v.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("rate '{v}' is not a number of requests per second")),
    };
    let ramp = crate::strategy::arrival::Ramp {
        from: rate(from)?,
        to: rate(to)?,
        over: parse_positive_duration(length).map_err(|e| format!("length {e}"))?,
    };
    ramp.validate()
        .map_err(|e| e.trim_start_matches("--ramp ").to_string())?;
    Ok(ramp)
}

/// `--replicas`: at least two copies, or there is nothing to race.
pub(super) fn parse_replicas(text: &str) -> Result<usize, String> {
    let max = crate::scenario::MAX_REPLICAS;
    match text.trim().parse::<i64>() {
        Ok(k) if k < 2 => Err("must be at least 2: one copy races nothing".to_string()),
        Ok(k) if k as u64 > max as u64 => Err(format!("must be at most {max}")),
        Ok(k) => Ok(k as usize),
        Err(_) => Err("is not a whole number".to_string()),
    }
}

/// A duration that may be zero (`--grace 0s`: cut at once).
pub(super) fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    crate::server::latency::parse_duration(text).map_err(|e| e.to_string())
}

/// `--body-bytes`: the size of each answer, up to 64 MiB.
pub(super) fn parse_body_bytes(text: &str) -> Result<usize, String> {
    const MAX: usize = 64 << 20;
    match text.trim().parse::<usize>() {
        Ok(bytes) if bytes <= MAX => Ok(bytes),
        Ok(_) => Err(format!("must be at most {MAX} (64 MiB)")),
        Err(_) => Err("is not a whole number of bytes".to_string()),
    }
}
