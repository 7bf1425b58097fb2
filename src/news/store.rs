//! The articles in SQLite, written from async code without blocking the runtime.
//!
//! rusqlite is a blocking library: a write holds the calling thread until SQLite is
//! done. Called straight from a tokio task it would stall every other task on that
//! worker (chapter 8), so [`ArticleStore::save`] runs it on tokio's blocking pool with
//! `spawn_blocking` and awaits the result.
//!
//! That keeps the runtime free; it does not make writes parallel. Each save opens its
//! own connection (as the tutorial's `aiosqlite.connect` does per call) and takes
//! SQLite's write lock with `BEGIN IMMEDIATE`; a second writer waits for the lock
//! (`busy_timeout`) until the first commits. [`Write`] records when each save asked
//! for the lock, got it, and committed, so the serial writes can be seen, not assumed.
//!
//! The `url` column is `UNIQUE` and rows go in with `INSERT OR IGNORE`: an article two
//! sources carry is stored once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use serde::Serialize;

use super::Article;

/// How long a writer waits for another's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blocking task did not finish (it panicked or the runtime shut down).
    #[error("the blocking write task failed: {0}")]
    Task(String),
}

/// One save, as seen from the store: times from the store's creation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Write {
    /// When the save asked for the write lock.
    pub asked: Duration,
    /// When it had the lock (after `BEGIN IMMEDIATE` returned).
    pub locked: Duration,
    /// When it asked to commit: it surely still held the lock until then.
    pub committing: Duration,
    /// When its transaction had committed (read after `COMMIT` returned, so another
    /// save may already have taken the lock a few microseconds earlier).
    pub committed: Duration,
    /// Rows it offered.
    pub rows: usize,
    /// Rows that were new (the others were duplicates by URL).
    pub inserted: usize,
}

/// An SQLite file of articles.
#[derive(Debug, Clone)]
pub struct ArticleStore {
    path: PathBuf,
    started: Instant,
    writes: Arc<Mutex<Vec<Write>>>,
}

impl ArticleStore {
    /// Opens (or creates) the database at `path` with its `articles` table.
    pub fn create(path: &Path) -> Result<ArticleStore, StoreError> {
        let connection = Connection::open(path)?;
        // WAL lets readers read while one writer writes; writers still take turns.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS articles (
                 id           INTEGER PRIMARY KEY,
                 source       TEXT NOT NULL,
                 title        TEXT NOT NULL,
                 url          TEXT NOT NULL UNIQUE,
                 published_at TEXT
             );",
        )?;
        Ok(ArticleStore {
            path: path.to_path_buf(),
            started: Instant::now(),
            writes: Arc::new(Mutex::new(Vec::new())),
        })
    }

    // ANCHOR: save
    /// Stores `articles` on the blocking pool; returns how many were new.
    pub async fn save(&self, articles: Vec<Article>) -> Result<usize, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.save_blocking(&articles))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// One transaction on its own connection: wait for the write lock, insert, commit.
    pub fn save_blocking(&self, articles: &[Article]) -> Result<usize, StoreError> {
        let mut connection = Connection::open(&self.path)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        let asked = self.started.elapsed();
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let locked = self.started.elapsed();
        let mut inserted = 0;
        {
            let mut insert = transaction.prepare(
                "INSERT OR IGNORE INTO articles (source, title, url, published_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for a in articles {
                inserted += insert.execute(params![a.source, a.title, a.url, a.published_at])?;
            }
        }
        let committing = self.started.elapsed();
        transaction.commit()?;
        let write = Write {
            asked,
            locked,
            committing,
            committed: self.started.elapsed(),
            rows: articles.len(),
            inserted,
        };
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(write);
        Ok(inserted)
    }
    // ANCHOR_END: save

    /// How many articles the database holds.
    pub fn count(&self) -> Result<u64, StoreError> {
        let connection = Connection::open(&self.path)?;
        let count: i64 = connection.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0))?;
        Ok(count as u64)
    }

    /// Every save so far, in the order they committed.
    pub fn writes(&self) -> Vec<Write> {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The most intervals that were open at one moment.
pub fn max_overlap(intervals: impl Iterator<Item = (Duration, Duration)>) -> usize {
    let mut events: Vec<(Duration, i32)> = intervals
        .flat_map(|(start, end)| [(start, 1), (end, -1)])
        .collect();
    // At equal times an end sorts before a start: touching intervals do not overlap.
    events.sort();
    let (mut open, mut most) = (0i32, 0i32);
    for (_, change) in events {
        open += change;
        most = most.max(open);
    }
    most as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(url: &str) -> Article {
        Article {
            source: "test".to_string(),
            title: "a title".to_string(),
            url: url.to_string(),
            published_at: None,
        }
    }

    #[test]
    fn duplicates_by_url_are_stored_once() {
        let dir = std::env::temp_dir().join(format!("fanout-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = ArticleStore::create(&dir.join("dupes.db")).unwrap();
        assert_eq!(
            store.save_blocking(&[article("a"), article("b")]).unwrap(),
            2
        );
        assert_eq!(
            store.save_blocking(&[article("b"), article("c")]).unwrap(),
            1
        );
        assert_eq!(store.count().unwrap(), 3);
        assert_eq!(store.writes().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn overlap_counts_intervals_open_at_once() {
        let ms = Duration::from_millis;
        assert_eq!(
            max_overlap([(ms(0), ms(10)), (ms(10), ms(20))].into_iter()),
            1
        );
        assert_eq!(
            max_overlap([(ms(0), ms(10)), (ms(5), ms(20))].into_iter()),
            2
        );
        assert_eq!(max_overlap(std::iter::empty()), 0);
    }
}
