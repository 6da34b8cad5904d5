//! Service output on a terminal, the way `docker compose up` shows it.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use logs::{LogSink, LogSinkError};
use model::{LOG_LABEL_INSTANCE, LOG_LABEL_SERVICE, LogRecord};
use parking_lot::Mutex;

/// Foreground colours handed to replicas in order of first appearance (compose's rainbow:
/// cyan, yellow, green, magenta, blue, then the bright variants).
const PALETTE: [&str; 10] = [
    "\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[96m", "\x1b[93m", "\x1b[92m",
    "\x1b[95m", "\x1b[94m",
];
const RESET: &str = "\x1b[0m";

/// Names longer than this are not padded further, so one odd name cannot push every line right.
const MAX_PAD: usize = 40;

/// Most formatted bytes waiting for the terminal; beyond it batches are refused (and counted
/// by the supervisor) rather than queued.
pub const TERMINAL_QUEUE_BYTES: usize = 4 << 20;

/// A [`LogSink`] that prints `backend-1  | line`: the replica's instance name padded to the
/// longest name seen, a bar, the line; one colour per replica when colour is on.
///
/// Lines are formatted in `push` and written by a thread of their own, each with one
/// `write_all`, so lines of different replicas never interleave mid-line, and a terminal that
/// stops reading (a paused terminal, a full pipe) never blocks the supervisor's tasks: the
/// queue is bounded by [`TERMINAL_QUEUE_BYTES`] and `push` refuses when it is full. Dropping
/// the sink writes out what is queued.
pub struct TerminalSink {
    colour: bool,
    names: Mutex<Names>,
    queue: Option<SyncSender<Vec<String>>>,
    queued_bytes: Arc<AtomicUsize>,
    failure: Arc<Mutex<Option<String>>>,
    writer: Option<JoinHandle<()>>,
}

/// Padding width and colour per name, and the lines refused since the last accepted batch.
#[derive(Default)]
struct Names {
    width: usize,
    colours: HashMap<String, &'static str>,
    skipped: u64,
}

impl TerminalSink {
    /// Prints to standard output, in colour when it is a terminal and `NO_COLOR` is unset or
    /// empty (<https://no-color.org>).
    pub fn stdout() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let colour = std::io::stdout().is_terminal() && !no_color;
        Self::new(Box::new(std::io::stdout()), colour)
    }

    /// Prints to `writer`, in colour when `colour`.
    pub fn new(writer: Box<dyn Write + Send>, colour: bool) -> Self {
        // Batches, not bytes, bound the channel; the byte budget is checked in `push`.
        let (queue, lines) = sync_channel(1024);
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let failure = Arc::new(Mutex::new(None));
        let spawned = {
            let queued_bytes = queued_bytes.clone();
            let failure = failure.clone();
            std::thread::Builder::new()
                .name("tetrad-terminal".into())
                .spawn(move || write_lines(writer, lines, &queued_bytes, &failure))
        };
        let writer = spawned
            .map_err(|e| *failure.lock() = Some(format!("cannot start the writer thread: {e}")))
            .ok();
        TerminalSink {
            colour,
            names: Mutex::new(Names::default()),
            queue: Some(queue),
            queued_bytes,
            failure,
            writer,
        }
    }

    /// Knows the names up front (for example every instance of a stack), so the padding and
    /// the colours are fixed from the first line, as compose does.
    pub fn with_names<S: AsRef<str>>(self, names: impl IntoIterator<Item = S>) -> Self {
        {
            let mut known = self.names.lock();
            for name in names {
                known.colour_of(name.as_ref());
            }
        }
        self
    }

    fn format(&self, names: &mut Names, record: &LogRecord) -> String {
        let name = match record.labels.get(LOG_LABEL_INSTANCE) {
            "" => record.labels.get(LOG_LABEL_SERVICE),
            instance => instance,
        };
        let name = if name.is_empty() { "?" } else { name };
        let colour = names.colour_of(name);
        let width = names.width;
        if self.colour {
            format!("{colour}{name:<width$}  |{RESET} {}\n", record.line)
        } else {
            format!("{name:<width$}  | {}\n", record.line)
        }
    }
}

impl Names {
    /// The colour of `name`, assigning the next one (and widening the padding) on first sight.
    fn colour_of(&mut self, name: &str) -> &'static str {
        if let Some(colour) = self.colours.get(name) {
            return colour;
        }
        let colour = PALETTE[self.colours.len() % PALETTE.len()];
        self.colours.insert(name.to_string(), colour);
        self.width = self.width.max(name.chars().count().min(MAX_PAD));
        colour
    }
}

/// The writer thread: one `write_all` per line, a flush per batch; stops at the first error.
fn write_lines(
    mut out: Box<dyn Write + Send>,
    batches: Receiver<Vec<String>>,
    queued_bytes: &AtomicUsize,
    failure: &Mutex<Option<String>>,
) {
    for batch in batches {
        let bytes: usize = batch.iter().map(String::len).sum();
        let written = batch
            .iter()
            .try_for_each(|line| out.write_all(line.as_bytes()))
            .and_then(|()| out.flush());
        queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        if let Err(e) = written {
            *failure.lock() = Some(e.to_string());
            return;
        }
    }
}

impl LogSink for TerminalSink {
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError> {
        if let Some(reason) = self.failure.lock().clone() {
            return Err(LogSinkError::Unavailable {
                sink: "terminal".into(),
                reason,
            });
        }
        // The names lock also keeps concurrent batches in the order they were formatted.
        let mut names = self.names.lock();
        let mut lines = Vec::with_capacity(records.len() + 1);
        if names.skipped > 0 {
            // Say so when lines were left out, rather than leave an unexplained gap.
            let width = names.width;
            lines.push(format!(
                "{:<width$}  | ({} lines not shown: the terminal fell behind)\n",
                "tetrad", names.skipped
            ));
        }
        lines.extend(records.iter().map(|r| self.format(&mut names, r)));
        let bytes: usize = lines.iter().map(String::len).sum();
        let full = || LogSinkError::Full {
            sink: "terminal".into(),
            limit: format!("{TERMINAL_QUEUE_BYTES} bytes queued for the terminal"),
        };
        if self.queued_bytes.load(Ordering::Relaxed) + bytes > TERMINAL_QUEUE_BYTES {
            names.skipped += records.len() as u64;
            return Err(full());
        }
        let Some(queue) = &self.queue else {
            return Err(LogSinkError::Unavailable {
                sink: "terminal".into(),
                reason: "closed".into(),
            });
        };
        self.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        match queue.try_send(lines) {
            Ok(()) => {
                names.skipped = 0;
                Ok(())
            }
            Err(e) => {
                self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                names.skipped += records.len() as u64;
                Err(match e {
                    TrySendError::Full(_) => full(),
                    TrySendError::Disconnected(_) => LogSinkError::Unavailable {
                        sink: "terminal".into(),
                        reason: self
                            .failure
                            .lock()
                            .clone()
                            .unwrap_or_else(|| "writer stopped".into()),
                    },
                })
            }
        }
    }
}

impl Drop for TerminalSink {
    /// Writes out what is queued: the last lines of a stack matter most when it stops.
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use model::Labels;

    use super::*;

    /// A writer the test can read back; counts writes to check one write per line.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut inner = self.0.lock();
            inner.0.extend_from_slice(buf);
            inner.1 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().0.clone()).unwrap()
        }
        fn writes(&self) -> usize {
            self.0.lock().1
        }
    }

    fn record(instance: &str, line: &str) -> LogRecord {
        LogRecord::new(
            1,
            Labels::from_pairs([("instance", instance), ("service", "svc")]),
            line,
        )
    }

    #[test]
    fn plain_lines_are_prefixed_and_padded() {
        let out = Captured::default();
        let sink =
            TerminalSink::new(Box::new(out.clone()), false).with_names(["backend-1", "db-1"]);
        sink.push(vec![record("backend-1", "hello"), record("db-1", "ready")])
            .unwrap();
        drop(sink);
        assert_eq!(out.text(), "backend-1  | hello\ndb-1       | ready\n");
        assert_eq!(out.writes(), 2, "one write per line");
    }

    #[test]
    fn padding_grows_with_names_seen_later() {
        let out = Captured::default();
        let sink = TerminalSink::new(Box::new(out.clone()), false);
        sink.push(vec![
            record("a-1", "x"),
            record("longer-1", "y"),
            record("a-1", "z"),
        ])
        .unwrap();
        drop(sink);
        assert_eq!(out.text(), "a-1  | x\nlonger-1  | y\na-1       | z\n");
    }

    #[test]
    fn colours_differ_per_replica_and_reset_before_the_line() {
        let out = Captured::default();
        let sink = TerminalSink::new(Box::new(out.clone()), true).with_names(["web-1", "web-2"]);
        sink.push(vec![
            record("web-1", "a"),
            record("web-2", "b"),
            record("web-1", "c"),
        ])
        .unwrap();
        drop(sink);
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "\x1b[36mweb-1  |\x1b[0m a");
        assert_eq!(lines[1], "\x1b[33mweb-2  |\x1b[0m b");
        assert_eq!(lines[2], "\x1b[36mweb-1  |\x1b[0m c");
    }

    #[test]
    fn falls_back_to_the_service_label() {
        let out = Captured::default();
        let sink = TerminalSink::new(Box::new(out.clone()), false);
        let r = LogRecord::new(1, Labels::from_pairs([("service", "api")]), "up");
        sink.push(vec![r]).unwrap();
        drop(sink);
        assert_eq!(out.text(), "api  | up\n");
    }

    #[test]
    fn concurrent_pushes_never_mix_within_a_line() {
        let out = Captured::default();
        let sink =
            Arc::new(TerminalSink::new(Box::new(out.clone()), false).with_names(["a-1", "b-1"]));
        let threads: Vec<_> = ["a-1", "b-1"]
            .into_iter()
            .map(|name| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        sink.push(vec![record(name, &format!("{name} line {i}"))])
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(sink);
        let text = out.text();
        assert_eq!(text.lines().count(), 400);
        for line in text.lines() {
            let (prefix, rest) = line.split_once("  | ").unwrap();
            assert!(rest.starts_with(prefix), "{line}");
        }
    }

    /// A writer that blocks until the test lets it go, like a paused terminal.
    struct Stuck(std::sync::mpsc::Receiver<()>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_terminal_makes_push_refuse_instead_of_block() {
        let (release, stuck) = std::sync::mpsc::channel();
        let sink = TerminalSink::new(Box::new(Stuck(stuck)), false);
        let big = "x".repeat(64 << 10);
        let mut refused = None;
        for _ in 0..1000 {
            if let Err(e) = sink.push(vec![record("a-1", &big)]) {
                refused = Some(e);
                break;
            }
        }
        let err = refused.expect("push never refused");
        assert!(matches!(err, LogSinkError::Full { .. }), "{err}");
        assert!(err.to_string().contains("bytes queued"), "{err}");
        // Unblock the writer for good so the queue drains.
        drop(release);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while sink.push(vec![record("a-1", "after")]).is_err() {
            assert!(std::time::Instant::now() < deadline, "queue never drained");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        drop(sink);
    }

    #[test]
    fn refused_lines_are_announced_when_output_resumes() {
        let out = Captured::default();
        let sink = TerminalSink::new(Box::new(out.clone()), false).with_names(["a-1"]);
        // Fill the budget in one refused batch: larger than the whole queue.
        let huge = "x".repeat(TERMINAL_QUEUE_BYTES);
        assert!(
            sink.push(vec![record("a-1", &huge), record("a-1", "y")])
                .is_err()
        );
        sink.push(vec![record("a-1", "back")]).unwrap();
        drop(sink);
        assert_eq!(
            out.text(),
            "tetrad  | (2 lines not shown: the terminal fell behind)\na-1  | back\n"
        );
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_broken_terminal_is_reported() {
        let sink = TerminalSink::new(Box::new(Broken), false);
        // The first batches are accepted before the writer finds out; later ones are refused.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let err = loop {
            match sink.push(vec![record("a-1", "x")]) {
                Err(e) => break e,
                Ok(()) if std::time::Instant::now() > deadline => {
                    panic!("push kept accepting after the writer failed")
                }
                Ok(()) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        };
        assert!(err.to_string().contains("gone"), "{err}");
    }
}
