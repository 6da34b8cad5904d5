//! Turning a replica's stdout and stderr into log records.
//!
//! Bytes are cut into lines as they arrive; every read burst becomes one batch for the sink,
//! so a chatty process costs one `push` per read, and a batch is bounded by the read buffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use logs::LogSink;
use model::{Labels, LogRecord};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Appended to every piece of a line that was split because it was longer than the limit;
/// the next record continues the line.
pub const TRUNCATION_MARKER: &str = " [truncated]";

/// Size of one read from a pipe: the most bytes (and so lines) a batch can hold.
const READ_BUFFER_BYTES: usize = 16 << 10;

/// Cuts a byte stream into lines of at most `max_bytes` bytes.
///
/// A line is ended by `\n` (a `\r` before it is dropped). A line longer than the limit is
/// split into pieces that each end with [`TRUNCATION_MARKER`] and still fit the limit, the
/// last piece unmarked. Invalid UTF-8 is replaced with U+FFFD. What is left without a newline
/// at the end of the stream is flushed by [`LineSplitter::finish`].
pub(crate) struct LineSplitter {
    max_bytes: usize,
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn new(max_bytes: usize) -> Self {
        LineSplitter {
            max_bytes,
            partial: Vec::new(),
        }
    }

    /// Adds `bytes`, appending every completed line (or full piece) to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<String>) {
        while let Some(nl) = memchr::memchr(b'\n', bytes) {
            self.partial.extend_from_slice(&bytes[..nl]);
            if self.partial.last() == Some(&b'\r') {
                self.partial.pop();
            }
            let line = std::mem::take(&mut self.partial);
            self.emit(&line, false, out);
            bytes = &bytes[nl + 1..];
        }
        self.partial.extend_from_slice(bytes);
        // Without a newline in sight, hand out full pieces so memory stays bounded.
        let piece = self.piece_bytes();
        while self.partial.len() > self.max_bytes {
            let cut = utf8_cut(&self.partial, piece);
            let head: Vec<u8> = self.partial.drain(..cut).collect();
            self.emit(&head, true, out);
        }
    }

    /// Flushes a last line that had no newline.
    pub fn finish(&mut self, out: &mut Vec<String>) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.emit(&line, false, out);
        }
    }

    /// Room for text in a marked piece.
    fn piece_bytes(&self) -> usize {
        self.max_bytes - TRUNCATION_MARKER.len()
    }

    /// Emits `bytes` as text; `continued` marks that the line goes on in later bytes. Lossy
    /// decoding can grow the text (one bad byte becomes three), so the limit is applied again
    /// to the decoded text.
    fn emit(&self, bytes: &[u8], continued: bool, out: &mut Vec<String>) {
        let text = String::from_utf8_lossy(bytes);
        let mut rest: &str = &text;
        let piece = self.piece_bytes();
        loop {
            let fits = if continued {
                rest.len() <= piece
            } else {
                rest.len() <= self.max_bytes
            };
            if fits {
                let mut line = rest.to_string();
                if continued {
                    line.push_str(TRUNCATION_MARKER);
                }
                out.push(line);
                return;
            }
            let mut cut = piece;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push(format!("{}{TRUNCATION_MARKER}", &rest[..cut]));
            rest = &rest[cut..];
        }
    }
}

/// The longest prefix of `bytes` up to `limit` that does not split a UTF-8 sequence (when the
/// bytes are UTF-8 at all; otherwise exactly `limit`).
fn utf8_cut(bytes: &[u8], limit: usize) -> usize {
    let mut cut = limit.min(bytes.len());
    // A continuation byte looks like 0b10xx_xxxx; back up at most three to the sequence start.
    for _ in 0..3 {
        if cut == 0 || cut >= bytes.len() || bytes[cut] & 0xC0 != 0x80 {
            break;
        }
        cut -= 1;
    }
    if cut == 0 {
        limit.min(bytes.len())
    } else {
        cut
    }
}

/// Nanoseconds since the Unix epoch, now.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Reads `pipe` to its end, pushing each burst's lines to `sink` with `labels`; records a
/// refused batch in `dropped` and goes on.
pub(crate) async fn pump(
    mut pipe: impl AsyncRead + Unpin,
    labels: Labels,
    max_line_bytes: usize,
    sink: Arc<dyn LogSink>,
    dropped: Arc<AtomicU64>,
) {
    let mut splitter = LineSplitter::new(max_line_bytes);
    let mut buf = vec![0u8; READ_BUFFER_BYTES];
    let mut lines = Vec::new();
    let mut last_ts = 0i64;
    loop {
        let n = match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        if n == 0 {
            splitter.finish(&mut lines);
        } else {
            splitter.feed(&buf[..n], &mut lines);
        }
        if !lines.is_empty() {
            // Timestamps never go backwards within a stream, even if the clock does.
            last_ts = last_ts.max(now_ns());
            let batch: Vec<LogRecord> = lines
                .drain(..)
                .map(|line| LogRecord::new(last_ts, labels.clone(), line))
                .collect();
            let count = batch.len() as u64;
            if let Err(e) = sink.push(batch) {
                let before = dropped.fetch_add(count, Ordering::Relaxed);
                if before == 0 {
                    tracing::warn!(error = %e, "log sink refused replica output; dropping");
                }
            }
        }
        if n == 0 {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    #[test]
    fn lines_across_chunks_and_crlf() {
        assert_eq!(
            split(64, &[b"a\nbc", b"d\r\n", b"\n", b"tail"]),
            ["a", "bcd", "", "tail"]
        );
    }

    #[test]
    fn long_line_is_split_into_marked_pieces_within_the_limit() {
        let line = "x".repeat(200);
        let out = split(64, &[format!("{line}\nnext\n").as_bytes()]);
        assert!(out.len() > 2, "{out:?}");
        for piece in &out {
            assert!(piece.len() <= 64, "{} > 64", piece.len());
        }
        let (last, pieces) = out[..out.len() - 1].split_last().unwrap();
        for p in pieces {
            assert!(p.ends_with(TRUNCATION_MARKER));
        }
        assert!(!last.ends_with(TRUNCATION_MARKER));
        let rebuilt: String = out[..out.len() - 1]
            .iter()
            .map(|p| p.trim_end_matches(TRUNCATION_MARKER))
            .collect();
        assert_eq!(rebuilt, line);
        assert_eq!(out.last().unwrap(), "next");
    }

    #[test]
    fn long_line_arriving_byte_by_byte_is_bounded() {
        let mut s = LineSplitter::new(64);
        let mut out = Vec::new();
        for _ in 0..1000 {
            s.feed(b"y", &mut out);
            assert!(s.partial.len() <= 64);
        }
        s.finish(&mut out);
        let total: usize = out
            .iter()
            .map(|p| p.trim_end_matches(TRUNCATION_MARKER).len())
            .sum();
        assert_eq!(total, 1000);
    }

    #[test]
    fn multibyte_characters_are_not_cut() {
        let line = "é".repeat(100);
        let out = split(64, &[line.as_bytes()]);
        let rebuilt: String = out
            .iter()
            .map(|p| p.trim_end_matches(TRUNCATION_MARKER))
            .collect();
        assert_eq!(rebuilt, line);
        assert!(out.iter().all(|p| !p.contains('\u{FFFD}')));
    }

    #[test]
    fn invalid_utf8_is_replaced_and_still_bounded() {
        let out = split(64, &[&[0xff; 100], b"\nok\n"]);
        assert!(out[0].starts_with('\u{FFFD}'));
        assert!(out.iter().all(|p| p.len() <= 64));
        assert_eq!(out.last().unwrap(), "ok");
    }
}
