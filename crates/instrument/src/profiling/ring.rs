//! A preallocated, lock-free ring of stack samples: written by the `SIGPROF` handler, drained by
//! the uploader thread.
//!
//! Every slot is allocated up front (`capacity` slots of `max_depth` addresses), so writing a
//! sample never allocates. A writer claims the next slot by bumping a shared cursor and moving
//! the slot's state from `EMPTY` to `WRITING` with one compare-and-swap; if the slot is still
//! `FULL` (the drainer is behind) or another writer holds it, the sample is dropped and counted
//! rather than waited for, because a signal handler must never block. The writer fills the slot
//! and publishes it with a release store of `FULL`; the single drainer reads `FULL` slots with
//! acquire loads and hands them back as `EMPTY`. Slots are independent, so handlers running at
//! once on several threads never touch the same memory.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

use super::span::SpanIds;

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const FULL: u8 = 2;

struct Slot {
    state: AtomicU8,
    len: UnsafeCell<usize>,
    span: UnsafeCell<Option<SpanIds>>,
    frames: UnsafeCell<Box<[usize]>>,
}

/// The ring. Shared between the signal handler (through a raw pointer, see `sampler`) and the
/// uploader thread.
pub(crate) struct SampleRing {
    slots: Box<[Slot]>,
    cursor: AtomicUsize,
    draining: AtomicBool,
    written: AtomicU64,
    dropped: AtomicU64,
}

// SAFETY: a slot's cells are only touched by the one party that owns the slot's state: a writer
// after winning the EMPTY -> WRITING swap (until it stores FULL), or the drainer after seeing
// FULL (until it stores EMPTY). The `draining` flag makes the drainer unique.
unsafe impl Sync for SampleRing {}
// SAFETY: the ring owns plain data; see `Sync`.
unsafe impl Send for SampleRing {}

/// Where a writer puts one sample; committed with [`SlotWriter::commit`], abandoned (slot
/// handed back empty) when dropped without committing.
pub(crate) struct SlotWriter<'a> {
    slot: &'a Slot,
    ring: &'a SampleRing,
    committed: bool,
}

impl SlotWriter<'_> {
    /// The slot's frame buffer (`max_depth` long) to fill from index 0.
    pub(crate) fn frames(&mut self) -> &mut [usize] {
        // SAFETY: this writer won the EMPTY -> WRITING swap, so it alone owns the slot.
        unsafe { &mut *self.slot.frames.get() }
    }

    /// Publishes the first `len` frames with their span.
    pub(crate) fn commit(mut self, len: usize, span: Option<SpanIds>) {
        // SAFETY: as in `frames`; the release store below publishes these writes.
        unsafe {
            let max = (&*self.slot.frames.get()).len();
            *self.slot.len.get() = len.min(max);
            *self.slot.span.get() = span;
        }
        self.slot.state.store(FULL, Ordering::Release);
        self.ring.written.fetch_add(1, Ordering::Relaxed);
        self.committed = true;
    }
}

impl Drop for SlotWriter<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.slot.state.store(EMPTY, Ordering::Release);
        }
    }
}

impl SampleRing {
    /// A ring of `capacity` slots holding up to `max_depth` frames each. Both are at least 1.
    pub(crate) fn new(capacity: usize, max_depth: usize) -> Self {
        let slots = (0..capacity.max(1))
            .map(|_| Slot {
                state: AtomicU8::new(EMPTY),
                len: UnsafeCell::new(0),
                span: UnsafeCell::new(None),
                frames: UnsafeCell::new(vec![0usize; max_depth.max(1)].into_boxed_slice()),
            })
            .collect();
        Self {
            slots,
            cursor: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Claims a slot for one sample, or counts a dropped sample and returns `None` when the
    /// claimed slot is not free. Lock-free and allocation-free: safe in a signal handler.
    pub(crate) fn claim(&self) -> Option<SlotWriter<'_>> {
        let index = self.cursor.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let slot = &self.slots[index];
        match slot
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Some(SlotWriter {
                slot,
                ring: self,
                committed: false,
            }),
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Hands every published sample to `each` (frames leaf first, span) and frees its slot.
    /// One drainer at a time: a concurrent call returns 0 without draining. Returns the number
    /// of samples drained.
    pub(crate) fn drain(&self, mut each: impl FnMut(&[usize], Option<SpanIds>)) -> usize {
        if self
            .draining
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return 0;
        }
        let mut drained = 0;
        for slot in self.slots.iter() {
            if slot.state.load(Ordering::Acquire) != FULL {
                continue;
            }
            // SAFETY: FULL means the writer is done and only the (unique) drainer may touch
            // the slot until it stores EMPTY.
            unsafe {
                let len = *slot.len.get();
                let frames = &*slot.frames.get();
                each(&frames[..len.min(frames.len())], *slot.span.get());
            }
            slot.state.store(EMPTY, Ordering::Release);
            drained += 1;
        }
        self.draining.store(false, Ordering::Release);
        drained
    }

    /// Samples published so far.
    pub(crate) fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Samples dropped because their slot was still full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(ring: &SampleRing, frames: &[usize], span: Option<SpanIds>) -> bool {
        match ring.claim() {
            Some(mut w) => {
                let buf = w.frames();
                let n = frames.len().min(buf.len());
                buf[..n].copy_from_slice(&frames[..n]);
                w.commit(n, span);
                true
            }
            None => false,
        }
    }

    #[test]
    fn samples_round_trip_and_slots_are_reused() {
        let ring = SampleRing::new(4, 3);
        let span = SpanIds {
            trace_id: [1; 16],
            span_id: [2; 8],
        };
        assert!(write(&ring, &[10, 11], None));
        assert!(write(&ring, &[20, 21, 22, 23], Some(span)));
        let mut seen = Vec::new();
        assert_eq!(ring.drain(|f, s| seen.push((f.to_vec(), s))), 2);
        assert_eq!(
            seen,
            vec![(vec![10, 11], None), (vec![20, 21, 22], Some(span))]
        );
        for i in 0..4 {
            assert!(write(&ring, &[i], None));
        }
        assert_eq!(ring.drain(|_, _| {}), 4);
        assert_eq!(ring.written(), 6);
        assert_eq!(ring.dropped(), 0);
    }

    #[test]
    fn a_full_ring_drops_and_counts() {
        let ring = SampleRing::new(2, 1);
        assert!(write(&ring, &[1], None));
        assert!(write(&ring, &[2], None));
        assert!(!write(&ring, &[3], None));
        assert_eq!(ring.dropped(), 1);
        assert_eq!(ring.drain(|_, _| {}), 2);
        assert!(write(&ring, &[4], None));
    }

    #[test]
    fn an_abandoned_claim_frees_the_slot() {
        let ring = SampleRing::new(1, 1);
        drop(ring.claim());
        assert!(write(&ring, &[5], None));
        let mut seen = Vec::new();
        ring.drain(|f, _| seen.push(f.to_vec()));
        assert_eq!(seen, vec![vec![5]]);
    }

    #[test]
    fn concurrent_writers_lose_nothing_they_report_as_written() {
        let ring = std::sync::Arc::new(SampleRing::new(64, 2));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    (0..1000).filter(|i| write(&ring, &[t, *i], None)).count()
                })
            })
            .collect();
        let mut drained = 0;
        let mut written = 0;
        for t in threads {
            while !t.is_finished() {
                drained += ring.drain(|f, _| assert_eq!(f.len(), 2));
            }
            written += t.join().expect("writer thread does not panic");
        }
        drained += ring.drain(|f, _| assert_eq!(f.len(), 2));
        assert_eq!(drained, written);
        assert_eq!(ring.written() + ring.dropped(), 4000);
    }
}
