//! How and where a report's runs happened: the header every report (claims, sweep,
//! peers) opens with. The command gathers it (`commands/run_info.rs`); the reports only
//! print it, as a `| setting | value |` table and a "Regenerate with" line.

use std::fmt;

use serde::Serialize;

use super::columns::{Align, Table};

/// The machine, the date, how long it took and the command that does it again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    /// CPUs, OS and kernel: the figures depend on them.
    pub machine: String,
    /// When the run started (UTC), `2026-11-22 02:30 UTC`.
    pub date: String,
    /// How long the whole run took, seconds.
    pub took_s: f64,
    /// The command that regenerates the report.
    pub command: String,
}

/// What a report adds to its [`RunInfo`] header.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    /// The report's own settings, before the machine: `("seed", "7")`.
    pub settings: &'a [(&'a str, String)],
    /// The label of the "took" row: `took`, `sweep took`, `catalogue took`.
    pub took: &'a str,
    /// Said after the regenerating command, in the same sentence (` (…)`), or empty.
    pub regenerate_note: &'a str,
}

impl RunInfo {
    /// The settings table, then `Regenerate with `command`.` as its own paragraph.
    pub fn write_markdown(&self, out: &mut impl fmt::Write, header: &Header<'_>) -> fmt::Result {
        let mut table = Table::new([("setting", Align::Left), ("value", Align::Left)]);
        for (name, value) in header.settings {
            table.row([name.to_string(), value.clone()]);
        }
        table
            .row(["machine", &self.machine])
            .row(["run on", &self.date])
            .row([header.took.to_string(), format!("{:.1} s", self.took_s)]);
        write!(out, "{}", table.markdown())?;
        writeln!(
            out,
            "\nRegenerate with `{}`{}.\n",
            self.command, header.regenerate_note
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::columns::render;

    #[test]
    fn the_header_lists_the_settings_then_the_machine() {
        let info = RunInfo {
            machine: "2 CPUs".to_string(),
            date: "2026-11-22 02:30 UTC".to_string(),
            took_s: 12.34,
            command: "fanout sweep".to_string(),
        };
        let header = Header {
            settings: &[("seed", "7".to_string())],
            took: "sweep took",
            regenerate_note: " (again)",
        };
        assert_eq!(
            render(|md| info.write_markdown(md, &header)),
            "| setting | value |\n|---|---|\n| seed | 7 |\n| machine | 2 CPUs |\n\
             | run on | 2026-11-22 02:30 UTC |\n| sweep took | 12.3 s |\n\n\
             Regenerate with `fanout sweep` (again).\n\n"
        );
    }
}
