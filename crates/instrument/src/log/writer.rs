//! Where log lines go: stdout by default (buffered, written by a background thread), or any
//! function (tests capture lines in memory).

use super::background::{Background, DEFAULT_CAPACITY};
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};

/// The destination of log lines. Each call gets one complete line (without the newline), so
/// lines from concurrent requests never interleave.
#[derive(Clone)]
pub struct LogWriter {
    write: Arc<dyn Fn(&str) + Send + Sync>,
    /// The buffer behind a buffered writer (stdout), for `flush` and the drop count.
    background: Option<Arc<Background>>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogWriter")
    }
}

impl Default for LogWriter {
    fn default() -> Self {
        LogWriter::stdout()
    }
}

/// The process's one stdout buffer: every stdout writer shares it, so lines keep their order.
static STDOUT: OnceLock<Arc<Background>> = OnceLock::new();

extern "C" fn flush_stdout_at_exit() {
    if let Some(background) = STDOUT.get() {
        background.flush();
    }
}

fn stdout_background() -> Arc<Background> {
    STDOUT
        .get_or_init(|| {
            let background = Background::start(Box::new(std::io::stdout()), DEFAULT_CAPACITY);
            // SAFETY: registers a plain `extern "C" fn` without arguments, as `atexit` expects;
            // it only locks and writes (no unwinding: parking_lot locks do not poison, write
            // errors are ignored). Lines pending when the process exits through `exit`
            // (returning from `main`, `std::process::exit`) are written then. A failed
            // registration only loses that last flush.
            unsafe {
                libc::atexit(flush_stdout_at_exit);
            }
            background
        })
        .clone()
}

impl LogWriter {
    /// Lines to standard output. A line is copied into a buffer that a background thread
    /// writes at most [`FLUSH_INTERVAL_MS`](Self::FLUSH_INTERVAL_MS) later, in one `write` for
    /// all the lines gathered meanwhile, so a request never waits for stdout. If stdout does not
    /// keep up and 4 MiB are pending, further lines are dropped and counted
    /// ([`dropped_lines`](Self::dropped_lines)); a `level=warn` line with the count follows
    /// once stdout takes lines again. Pending lines are written by
    /// [`flush`](Self::flush), by `Telemetry::shutdown` and when the process exits through
    /// `exit` (not when it is killed or aborts).
    pub fn stdout() -> Self {
        let background = stdout_background();
        let queue = background.clone();
        LogWriter {
            write: Arc::new(move |line: &str| queue.write_line(line)),
            background: Some(background),
        }
    }

    /// The longest a line waits in a buffered writer's memory, in milliseconds.
    pub const FLUSH_INTERVAL_MS: u64 = super::background::FLUSH_INTERVAL.as_millis() as u64;

    /// Lines to a function, called on the logging thread.
    pub fn from_fn(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        LogWriter {
            write: Arc::new(f),
            background: None,
        }
    }

    /// Lines kept in memory, for tests: the writer and a handle to read what was written.
    pub fn memory() -> (Self, MemoryLog) {
        let log = MemoryLog::default();
        let lines = log.0.clone();
        (
            LogWriter::from_fn(move |line: &str| lines.lock().push(line.to_string())),
            log,
        )
    }

    /// Writes the lines a buffered writer still holds; nothing to do for the others.
    pub fn flush(&self) {
        if let Some(background) = &self.background {
            background.flush();
        }
    }

    /// Lines a buffered writer dropped because its destination did not keep up (always 0 for
    /// the others).
    pub fn dropped_lines(&self) -> u64 {
        self.background.as_ref().map_or(0, |b| b.dropped())
    }

    pub(crate) fn write_line(&self, line: &str) {
        (self.write)(line);
    }
}

/// The lines a [`LogWriter::memory`] writer received.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog(Arc<Mutex<Vec<String>>>);

impl MemoryLog {
    /// A copy of the lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_writers_share_one_buffer_and_flush() {
        let a = LogWriter::stdout();
        let b = LogWriter::stdout();
        let (Some(x), Some(y)) = (&a.background, &b.background) else {
            panic!("stdout writers are buffered");
        };
        assert!(Arc::ptr_eq(x, y));
        a.write_line("level=info msg=\"from the writer test\"");
        a.flush();
        assert_eq!(a.dropped_lines(), 0);
        let (memory, log) = LogWriter::memory();
        memory.write_line("kept");
        memory.flush();
        assert_eq!(log.lines(), vec!["kept".to_string()]);
        assert_eq!(memory.dropped_lines(), 0);
    }
}
