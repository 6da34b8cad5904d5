//! The span a thread is running, readable from the `SIGPROF` handler.
//!
//! The tracer writes the current trace and span ids here on span enter and clears them on exit;
//! the signal handler reads them when it samples the thread. The slot is a `const`-initialised
//! `thread_local!` of `Cell`s with no destructor, so Rust compiles it to a plain `#[thread_local]`
//! static: reading it allocates nothing, registers nothing and cannot fail, which is what makes
//! it usable inside a signal handler.
//!
//! The handler runs on the same thread that writes the slot, interrupting it between any two
//! instructions. Writers therefore clear `valid` first, write the ids, then set `valid`, with
//! compiler fences in between so the compiler keeps that order; a handler that lands mid-update
//! sees `valid == false` and records the sample without a span instead of a torn pair. No CPU
//! fence is needed: a thread always observes its own stores in program order.

use std::cell::Cell;
use std::sync::atomic::{Ordering, compiler_fence};

/// The span ids a sample was taken under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub(crate) struct SpanIds {
    /// W3C trace id.
    pub trace_id: [u8; 16],
    /// W3C span id.
    pub span_id: [u8; 8],
}

struct SpanSlot {
    valid: Cell<bool>,
    trace_id: Cell<[u8; 16]>,
    span_id: Cell<[u8; 8]>,
}

thread_local! {
    static CURRENT: SpanSlot = const {
        SpanSlot {
            valid: Cell::new(false),
            trace_id: Cell::new([0; 16]),
            span_id: Cell::new([0; 8]),
        }
    };
}

/// Marks the calling thread as running inside span `span_id` of trace `trace_id`: CPU samples
/// taken on this thread from now on carry the `trace_id` and `span_id` labels. The tracer calls
/// this on span enter (and again with the parent's ids when a child span exits). Cheap: three
/// thread-local stores; works whether or not the profiler runs.
pub fn set_thread_span(trace_id: [u8; 16], span_id: [u8; 8]) {
    CURRENT.with(|slot| {
        slot.valid.set(false);
        compiler_fence(Ordering::SeqCst);
        slot.trace_id.set(trace_id);
        slot.span_id.set(span_id);
        compiler_fence(Ordering::SeqCst);
        slot.valid.set(true);
    });
}

/// Marks the calling thread as outside any span: its samples carry no span labels.
pub fn clear_thread_span() {
    CURRENT.with(|slot| slot.valid.set(false));
}

/// Marks the calling thread as inside a span until the returned guard is dropped, which puts
/// back whatever span (or none) was marked before: nested spans restore their parent.
pub fn enter_thread_span(trace_id: [u8; 16], span_id: [u8; 8]) -> ThreadSpanGuard {
    let previous = current_span();
    set_thread_span(trace_id, span_id);
    ThreadSpanGuard {
        previous,
        _not_send: std::marker::PhantomData,
    }
}

/// Restores the thread's previous span mark on drop; see [`enter_thread_span`]. Not `Send`:
/// the mark belongs to the thread that made it.
#[must_use = "the span mark is undone when the guard is dropped"]
pub struct ThreadSpanGuard {
    previous: Option<SpanIds>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for ThreadSpanGuard {
    fn drop(&mut self) {
        match self.previous {
            Some(ids) => set_thread_span(ids.trace_id, ids.span_id),
            None => clear_thread_span(),
        }
    }
}

impl std::fmt::Debug for ThreadSpanGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadSpanGuard")
            .field("restores", &self.previous)
            .finish()
    }
}

/// The calling thread's span, if it is inside one. Async-signal-safe (see the module docs).
pub(crate) fn current_span() -> Option<SpanIds> {
    CURRENT.with(|slot| {
        if !slot.valid.get() {
            return None;
        }
        compiler_fence(Ordering::SeqCst);
        Some(SpanIds {
            trace_id: slot.trace_id.get(),
            span_id: slot.span_id.get(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_guards_restore_the_parent_then_nothing() {
        let ids = |t: u8, s: u8| SpanIds {
            trace_id: [t; 16],
            span_id: [s; 8],
        };
        let outer = enter_thread_span([1; 16], [2; 8]);
        assert_eq!(current_span(), Some(ids(1, 2)));
        {
            let _inner = enter_thread_span([1; 16], [3; 8]);
            assert_eq!(current_span(), Some(ids(1, 3)));
        }
        assert_eq!(current_span(), Some(ids(1, 2)));
        drop(outer);
        assert_eq!(current_span(), None);
    }

    #[test]
    fn set_and_clear_are_seen_by_the_same_thread_only() {
        assert_eq!(current_span(), None);
        set_thread_span([7; 16], [9; 8]);
        assert_eq!(
            current_span(),
            Some(SpanIds {
                trace_id: [7; 16],
                span_id: [9; 8]
            })
        );
        let other = std::thread::spawn(current_span)
            .join()
            .expect("the probe thread does not panic");
        assert_eq!(other, None);
        clear_thread_span();
        assert_eq!(current_span(), None);
    }
}
