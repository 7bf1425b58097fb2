//! The one table writer: columns with a header and an alignment, rows of cells, and two
//! ways to write them, aligned text for the terminal ([`Table`]'s `Display`) and a
//! markdown pipe table ([`Table::markdown`]). Both go to any `fmt::Write` with `write!`,
//! or any `io::Write` the same way.
//!
//! Text columns are as wide as their widest cell (counted in characters, not bytes),
//! two spaces apart, and no line ends in spaces.
//!
//! ```
//! use fanout::report::columns::{Align, Table};
//! let mut table = Table::new([("strategy", Align::Left), ("wall", Align::Right)]);
//! table.row(["sync-sequential", "1.02 s"]);
//! table.row(["async-concurrent", "104 ms"]);
//! assert_eq!(
//!     table.to_string(),
//!     "strategy            wall\nsync-sequential   1.02 s\nasync-concurrent  104 ms\n"
//! );
//! ```

use std::fmt;

/// Which side of its column a cell sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Names and lists: padded on the right.
    Left,
    /// Figures: padded on the left, so that digits line up.
    Right,
}

/// A table being filled: headers first, then one row at a time.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns, in order.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = (S, Align)>) -> Table {
        let (headers, aligns) = columns.into_iter().map(|(h, a)| (h.into(), a)).unzip();
        Table {
            headers,
            aligns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty and cells past the last column are dropped.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        let mut row: Vec<String> = cells
            .into_iter()
            .take(self.headers.len())
            .map(Into::into)
            .collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
        self
    }

    /// The table as a markdown pipe table: `| a | b |`, then `|---|---|`, then the rows.
    /// Cells are written as they are: escaping `|` is the caller's.
    pub fn markdown(&self) -> Markdown<'_> {
        Markdown(self)
    }

    fn widths(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| &r[c])
                    .chain([&self.headers[c]])
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    fn write_line(
        &self,
        f: &mut fmt::Formatter<'_>,
        cells: &[String],
        widths: &[usize],
    ) -> fmt::Result {
        let mut line = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(widths[c] - cell.chars().count());
            match self.aligns[c] {
                Align::Left => line.extend([cell.as_str(), &pad]),
                Align::Right => line.extend([pad.as_str(), cell]),
            }
        }
        writeln!(f, "{}", line.trim_end())
    }
}

/// Aligned text: the header line, then one line per row.
impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths = self.widths();
        self.write_line(f, &self.headers, &widths)?;
        for row in &self.rows {
            self.write_line(f, row, &widths)?;
        }
        Ok(())
    }
}

/// A [`Table`] written as markdown; see [`Table::markdown`].
#[derive(Debug, Clone, Copy)]
pub struct Markdown<'a>(&'a Table);

impl fmt::Display for Markdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.0;
        writeln!(f, "| {} |", table.headers.join(" | "))?;
        writeln!(f, "|{}", "---|".repeat(table.headers.len()))?;
        for row in &table.rows {
            writeln!(f, "| {} |", row.join(" | "))?;
        }
        Ok(())
    }
}

/// Runs a writer of markdown or text into a new `String`.
///
/// Writing to a `String` never fails; an error could only come from a `Display` that
/// returned one, and then the text is what was written up to that point.
pub fn render(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut text = String::new();
    // A String accepts every write; see above for the only way this is an `Err`.
    write(&mut text).ok();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_columns() -> Table {
        let mut table = Table::new([("id", Align::Left), ("n", Align::Right)]);
        table.row(["D0-fig1", "5"]).row(["D1-sem10 µ", "100"]);
        table
    }

    #[test]
    fn text_pads_by_characters_and_trims_line_ends() {
        assert_eq!(
            two_columns().to_string(),
            "id            n\nD0-fig1       5\nD1-sem10 µ  100\n"
        );
        let mut lefts = Table::new([("a", Align::Left), ("b", Align::Left)]);
        lefts.row(["long cell", "x"]).row(["y", ""]);
        assert_eq!(lefts.to_string(), "a          b\nlong cell  x\ny\n");
    }

    #[test]
    fn markdown_is_a_pipe_table() {
        assert_eq!(
            two_columns().markdown().to_string(),
            "| id | n |\n|---|---|\n| D0-fig1 | 5 |\n| D1-sem10 µ | 100 |\n"
        );
    }

    #[test]
    fn rows_are_cut_or_filled_to_the_columns() {
        let mut table = Table::new([("a", Align::Right), ("b", Align::Right)]);
        table.row(["1"]).row(["1", "2", "3"]);
        assert_eq!(
            table.markdown().to_string(),
            "| a | b |\n|---|---|\n| 1 |  |\n| 1 | 2 |\n"
        );
    }
}
