//! A line buffer drained by a background thread, so that logging a line costs a copy into
//! memory rather than a `write(2)` on the request's thread.
//!
//! Lines are appended to one pending buffer under a short lock. A writer thread waits until
//! the buffer holds something, lets lines gather for at most [`FLUSH_INTERVAL`] (less when
//! the buffer passes [`WAKE_BYTES`]), swaps the buffer for an empty one and writes it in one
//! call. Nothing ever blocks on the destination: when it does not keep up and the pending
//! buffer would pass its capacity, new lines are dropped and counted, and the writer notes
//! the count in a line of its own once it can write again. `flush` writes what is pending at
//! once (shutdown, and process exit for the stdout writer).

use parking_lot::{Condvar, Mutex};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The longest a line waits in memory before it is written.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// Pending bytes that wake the writer before the interval is over. Not smaller: each wake
/// costs the writer thread a few tens of µs (measured: 16 KiB doubled the writer's CPU per
/// request under the demo's load, more than it saved by keeping the buffers cached).
pub(crate) const WAKE_BYTES: usize = 64 * 1024;
/// Pending bytes past which lines are dropped (the destination is not keeping up).
pub(crate) const DEFAULT_CAPACITY: usize = 4 * 1024 * 1024;

/// The state shared by the loggers and the writer thread.
pub(crate) struct Background {
    pending: Mutex<Vec<u8>>,
    /// Signalled when the buffer turns non-empty or passes `WAKE_BYTES`.
    wake: Condvar,
    /// Held while a swapped-out buffer is written, so flushes keep the lines in order.
    sink: Mutex<SinkState>,
    capacity: usize,
    dropped: AtomicU64,
    /// Set when no writer thread could be started: lines are then written as they come.
    synchronous: AtomicBool,
}

struct SinkState {
    out: Box<dyn Write + Send>,
    /// The buffer being written, kept to reuse its allocation.
    spare: Vec<u8>,
    /// Drops already reported in a note line.
    reported_drops: u64,
}

impl Background {
    /// A buffer writing to `out`, with its writer thread started. Lines past `capacity`
    /// pending bytes are dropped.
    pub(crate) fn start(out: Box<dyn Write + Send>, capacity: usize) -> Arc<Background> {
        let background = Background::new(out, capacity);
        let worker = background.clone();
        let spawned = std::thread::Builder::new()
            .name("instrument-log".to_string())
            .spawn(move || worker.run());
        if spawned.is_err() {
            // No thread: write each line as it comes, as an unbuffered writer would.
            background.synchronous.store(true, Ordering::Relaxed);
        }
        background
    }

    /// The buffer without its writer thread: lines wait for `flush`.
    fn new(out: Box<dyn Write + Send>, capacity: usize) -> Arc<Background> {
        Arc::new(Background {
            pending: Mutex::new(Vec::with_capacity(WAKE_BYTES)),
            wake: Condvar::new(),
            sink: Mutex::new(SinkState {
                out,
                spare: Vec::with_capacity(WAKE_BYTES),
                reported_drops: 0,
            }),
            capacity,
            dropped: AtomicU64::new(0),
            synchronous: AtomicBool::new(false),
        })
    }

    /// Queues one line (a newline is added). Never blocks on the destination.
    pub(crate) fn write_line(&self, line: &str) {
        let mut pending = self.pending.lock();
        if pending.len() + line.len() + 1 > self.capacity {
            drop(pending);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was_empty = pending.is_empty();
        pending.extend_from_slice(line.as_bytes());
        pending.push(b'\n');
        let crossed = pending.len() >= WAKE_BYTES && pending.len() - line.len() - 1 < WAKE_BYTES;
        prefetch_for_write(pending.spare_capacity_mut());
        drop(pending);
        if self.synchronous.load(Ordering::Relaxed) {
            self.flush();
        } else if was_empty || crossed {
            self.wake.notify_one();
        }
    }

    /// Lines dropped so far because the destination did not keep up.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Writes everything pending now.
    pub(crate) fn flush(&self) {
        let mut sink = self.sink.lock();
        let SinkState {
            out,
            spare,
            reported_drops,
        } = &mut *sink;
        std::mem::swap(&mut *self.pending.lock(), spare);
        // A failing destination (closed stdout) must not take the service down: its lines are
        // lost, as they would be with direct writes.
        if !spare.is_empty() {
            let _ = out.write_all(spare);
        }
        spare.clear();
        // After a burst, give back what a usual batch does not need.
        if spare.capacity() > 4 * WAKE_BYTES {
            spare.shrink_to(WAKE_BYTES);
        }
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > *reported_drops {
            let note = drop_note(dropped - *reported_drops, SystemTime::now());
            let _ = out.write_all(note.as_bytes());
            *reported_drops = dropped;
        }
        let _ = out.flush();
    }

    /// The writer thread: waits for lines, lets them gather, writes them.
    fn run(&self) {
        loop {
            {
                let mut pending = self.pending.lock();
                while pending.is_empty() {
                    self.wake.wait(&mut pending);
                }
                if pending.len() < WAKE_BYTES {
                    // Woken early only by the wake mark; a timeout is the usual way out.
                    let _ = self.wake.wait_for(&mut pending, FLUSH_INTERVAL);
                }
            }
            self.flush();
        }
    }
}

/// Bytes of the buffer's free space made ready for writing after each line: about two lines.
const PREFETCH_BYTES: usize = 512;

/// Asks the CPU to bring the start of `spare` into its cache, ready for writing, while the
/// request goes on. The next line lands there: without this, its stores wait for memory (a
/// buffer is reused only every few tens of milliseconds, long after a busy service's own work
/// has pushed it out of the caches), and the lock's release waits for those stores.
fn prefetch_for_write(spare: &[std::mem::MaybeUninit<u8>]) {
    #[cfg(target_arch = "x86_64")]
    for offset in (0..spare.len().min(PREFETCH_BYTES)).step_by(64) {
        // SAFETY: a prefetch is only a hint: it never faults and changes no data, and the
        // address is inside the buffer's allocation.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_ET0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_ET0>(spare.as_ptr().add(offset).cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = spare;
}

/// The line the writer adds after dropping lines.
fn drop_note(count: u64, now: SystemTime) -> String {
    let mut line = String::from("level=warn ts=");
    super::logfmt::push_rfc3339_millis(&mut line, now);
    line.push_str(" msg=\"log lines dropped: the log destination did not keep up\" dropped=");
    line.push_str(&count.to_string());
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A destination that hands every write to the test, and can be held shut.
    struct Probe {
        written: Arc<Mutex<Vec<u8>>>,
        gate: Arc<Mutex<()>>,
    }

    impl Write for Probe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _open = self.gate.lock();
            self.written.lock().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a probe wrote, shared with the test.
    type Written = Arc<Mutex<Vec<u8>>>;

    fn probe() -> (Probe, Written, Arc<Mutex<()>>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Mutex::new(()));
        (
            Probe {
                written: written.clone(),
                gate: gate.clone(),
            },
            written,
            gate,
        )
    }

    fn text(written: &Mutex<Vec<u8>>) -> String {
        String::from_utf8(written.lock().clone()).unwrap()
    }

    #[test]
    fn flush_writes_pending_lines_in_order() {
        let (out, written, _gate) = probe();
        let bg = Background::start(Box::new(out), DEFAULT_CAPACITY);
        for i in 0..100 {
            bg.write_line(&format!("line {i}"));
        }
        bg.flush();
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text(&written), expected);
        assert_eq!(bg.dropped(), 0);
    }

    #[test]
    fn the_writer_thread_writes_without_a_flush() {
        let (out, written, _gate) = probe();
        let bg = Background::start(Box::new(out), DEFAULT_CAPACITY);
        bg.write_line("hello");
        // Bounded wait for the thread (50 ms interval); no assertion on how long it took.
        let (tx, rx) = mpsc::channel();
        let watched = written.clone();
        std::thread::spawn(move || {
            for _ in 0..500 {
                if !watched.lock().is_empty() {
                    let _ = tx.send(());
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the writer thread wrote the line");
        assert_eq!(text(&written), "hello\n");
    }

    #[test]
    fn lines_past_capacity_are_dropped_counted_and_noted() {
        let (out, written, gate) = probe();
        // No writer thread: the destination is "stuck" until the test flushes.
        let bg = Background::new(Box::new(out), 30);
        let shut = gate.lock();
        for i in 0..5 {
            bg.write_line(&format!("line-{i:03}"));
        }
        // 9 bytes per line with its newline: three fit in 30, two are dropped, and the calls
        // returned although the destination is held shut.
        assert_eq!(bg.dropped(), 2);
        assert!(written.lock().is_empty());
        drop(shut);
        bg.flush();
        let out = text(&written);
        assert!(
            out.starts_with("line-000\nline-001\nline-002\n"),
            "kept lines first: {out:?}"
        );
        let note = out.lines().last().unwrap();
        assert!(note.starts_with("level=warn ts="), "{note}");
        assert!(note.ends_with("dropped=2"), "{note}");
        // The note is written once per batch of drops.
        bg.write_line("after");
        bg.flush();
        assert!(text(&written).ends_with("dropped=2\nafter\n"));
    }
}
