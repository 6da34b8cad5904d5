//! Service output on a terminal, the way `docker compose up` shows it.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

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

/// A [`LogSink`] that prints `backend-1  | line`: the replica's instance name padded to the
/// longest name seen, a bar, the line; one colour per replica when colour is on.
///
/// Each line is formatted first and written with one `write_all` under a lock, so lines of
/// different replicas never interleave mid-line.
pub struct TerminalSink {
    colour: bool,
    state: Mutex<TerminalState>,
}

struct TerminalState {
    writer: Box<dyn Write + Send>,
    width: usize,
    colours: HashMap<String, &'static str>,
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
        TerminalSink {
            colour,
            state: Mutex::new(TerminalState {
                writer,
                width: 0,
                colours: HashMap::new(),
            }),
        }
    }

    /// Knows the names up front (for example every instance of a stack), so the padding and
    /// the colours are fixed from the first line, as compose does.
    pub fn with_names<S: AsRef<str>>(self, names: impl IntoIterator<Item = S>) -> Self {
        {
            let mut state = self.state.lock();
            for name in names {
                state.colour_of(name.as_ref());
            }
        }
        self
    }
}

impl TerminalState {
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

impl LogSink for TerminalSink {
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError> {
        let mut state = self.state.lock();
        for record in records {
            let name = match record.labels.get(LOG_LABEL_INSTANCE) {
                "" => record.labels.get(LOG_LABEL_SERVICE),
                instance => instance,
            };
            let name = if name.is_empty() { "?" } else { name };
            let colour = state.colour_of(name);
            let width = state.width;
            let text = if self.colour {
                format!("{colour}{name:<width$}  |{RESET} {}\n", record.line)
            } else {
                format!("{name:<width$}  | {}\n", record.line)
            };
            state
                .writer
                .write_all(text.as_bytes())
                .map_err(|source| LogSinkError::Io {
                    sink: "terminal".into(),
                    source,
                })?;
        }
        state.writer.flush().map_err(|source| LogSinkError::Io {
            sink: "terminal".into(),
            source,
        })
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
        let text = out.text();
        assert_eq!(text.lines().count(), 400);
        for line in text.lines() {
            let (prefix, rest) = line.split_once("  | ").unwrap();
            assert!(rest.starts_with(prefix), "{line}");
        }
    }
}
