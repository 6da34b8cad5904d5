//! Where log lines go: stdout by default, or any function (tests capture lines in memory).

use parking_lot::Mutex;
use std::io::Write;
use std::sync::Arc;

/// The destination of log lines. Each call gets one complete line (without the newline), so
/// lines from concurrent requests never interleave.
#[derive(Clone)]
pub struct LogWriter(Arc<dyn Fn(&str) + Send + Sync>);

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

impl LogWriter {
    /// Lines to standard output, one `write` per line.
    pub fn stdout() -> Self {
        LogWriter(Arc::new(|line: &str| {
            let mut buf = Vec::with_capacity(line.len() + 1);
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
            // A closed stdout must not take the service down with it.
            let _ = std::io::stdout().lock().write_all(&buf);
        }))
    }

    /// Lines to a function.
    pub fn from_fn(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        LogWriter(Arc::new(f))
    }

    /// Lines kept in memory, for tests: the writer and a handle to read what was written.
    pub fn memory() -> (Self, MemoryLog) {
        let log = MemoryLog::default();
        let lines = log.0.clone();
        (
            LogWriter(Arc::new(move |line: &str| {
                lines.lock().push(line.to_string())
            })),
            log,
        )
    }

    pub(crate) fn write_line(&self, line: &str) {
        (self.0)(line);
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
