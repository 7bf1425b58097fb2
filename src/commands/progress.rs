//! A progress bar for long runs, drawn from a counter the strategies bump as requests
//! finish. It appears only after a second (short runs stay quiet), only on a terminal,
//! and never with `--json`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Shows progress of one run until dropped.
pub(super) struct Progress {
    /// Bumped by the strategies, one per finished request.
    pub completed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts watching a run of `total` requests labelled `label`.
    pub(super) fn start(label: &str, total: u64, enabled: bool) -> Progress {
        let completed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (enabled && std::io::stderr().is_terminal()).then(|| {
            let (completed, stop, label) = (completed.clone(), stop.clone(), label.to_string());
            std::thread::spawn(move || draw(&label, total, &completed, &stop))
        });
        Progress {
            completed,
            stop,
            thread,
        }
    }
}

fn draw(label: &str, total: u64, completed: &AtomicU64, stop: &AtomicBool) {
    let shown_after = Instant::now() + Duration::from_secs(1);
    let mut bar: Option<ProgressBar> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if Instant::now() < shown_after {
            continue;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{prefix:>18} [{bar:30}] {pos}/{len} requests  {elapsed_precise}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar
        });
        bar.set_position(completed.load(Ordering::Relaxed));
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
