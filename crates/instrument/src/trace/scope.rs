//! The request span without `tracing`'s registry: the ids, request id and span events of the
//! request a thread is polling, in one thread-local slot.
//!
//! Creating, entering, leaving and closing a registry span costs about a microsecond per
//! request (a slab slot, an extensions map, the span stack, every layer's callbacks): more
//! than a trivial handler. So the request's SERVER span is a plain [`RequestScope`] owned by
//! the request's future, published in the thread-local [`CURRENT`] slot (a pointer) for each
//! poll of the handler and withdrawn after it (the previous pointer is put back, so requests
//! polled inside requests nest).
//!
//! Everything that wants "the current span" reads it through [`effective`]: a registry span
//! the application opened inside the request (same trace) wins, since it is the innermost;
//! otherwise the request in the slot; otherwise a registry span outside any request. So log
//! lines inside a request carry its ids, user spans and CLIENT spans become its children,
//! `current_span_ids` and the profiler see it, as when it was a registry span. What the slot
//! does not do: `tracing::Span::current()` inside a handler is not the request span (fields
//! cannot be recorded on it through `tracing`), and tasks spawned with `in_current_span()` do
//! not carry it.

use super::data::{SpanData, SpanEvent};
use super::export::SpanSender;
use crate::http::MAX_REQUEST_ID_LEN;
use crate::ids::{IdText, SpanId, TraceId};
use crate::log::logfmt::needs_quotes;
use std::cell::{Cell, RefCell};

/// Ids up to this long are kept inline: fresh ids (36 bytes) and most incoming ones.
const INLINE_ID_LEN: usize = 46;

/// A request id, inline when short (no heap for fresh ids), small either way since the
/// request's state is moved a few times per request. Its text is only ever set from a `str`,
/// so reading it back needs no UTF-8 check; whether it needs logfmt quotes is known from the
/// start, so the lines that carry it need not scan it.
#[derive(Clone)]
pub(crate) struct RequestIdText {
    repr: IdRepr,
    plain: bool,
}

/// Private to this module: `RequestIdText::as_str` relies on `Inline` holding the bytes of a
/// `str` cut at a char boundary.
#[derive(Clone)]
enum IdRepr {
    Inline { len: u8, bytes: [u8; INLINE_ID_LEN] },
    Heap(Box<str>),
}

impl RequestIdText {
    /// The id, cut to [`MAX_REQUEST_ID_LEN`] bytes at a char boundary (callers pass checked
    /// ids, which are never cut).
    pub(crate) fn new(id: &str) -> Self {
        let mut end = id.len().min(MAX_REQUEST_ID_LEN);
        while !id.is_char_boundary(end) {
            end -= 1;
        }
        let id = &id[..end];
        RequestIdText::with_plain(id, !needs_quotes(id))
    }

    /// A fresh id: hex digits and dashes, which never need quotes.
    pub(crate) fn fresh(id: &IdText<36>) -> Self {
        RequestIdText::with_plain(id.as_str(), true)
    }

    fn with_plain(id: &str, plain: bool) -> Self {
        let repr = if id.len() > INLINE_ID_LEN {
            IdRepr::Heap(id.into())
        } else {
            let mut bytes = [0; INLINE_ID_LEN];
            bytes[..id.len()].copy_from_slice(id.as_bytes());
            // At most INLINE_ID_LEN: fits a u8.
            let len = id.len() as u8;
            IdRepr::Inline { len, bytes }
        };
        RequestIdText { repr, plain }
    }

    /// Whether the id is written in log lines without quotes.
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.repr {
            IdRepr::Inline { len, bytes } => {
                // SAFETY: `with_plain` is the only writer of `Inline`: the first `len` bytes
                // are those of a whole `str` (`new` cuts at a char boundary; a fresh id is
                // ASCII), hence UTF-8. The check skipped here ran on every log line of a
                // request.
                unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len)]) }
            }
            IdRepr::Heap(id) => id,
        }
    }
}

/// The request span as the thread-local slot holds it.
pub(crate) struct RequestScope {
    /// The request's trace id and span id; `None` when no request is being polled.
    pub(crate) ids: Option<(TraceId, SpanId)>,
    pub(crate) request_id: RequestIdText,
    /// Whether span events are collected (only when spans are exported).
    pub(crate) record_events: bool,
    /// Where the spans of the request's outgoing calls go (when spans are exported).
    pub(crate) exporter: Option<SpanSender>,
    /// The events logged in the request outside any span of the application's.
    pub(crate) events: Vec<SpanEvent>,
    /// Events past [`super::data::MAX_EVENTS`].
    pub(crate) dropped_events: u32,
}

impl RequestScope {
    /// The scope of a new request: its span's ids (`None` when its span is filtered out) and
    /// request id; span events are kept when spans are exported (to `exporter`).
    pub(crate) fn new(
        ids: Option<(TraceId, SpanId)>,
        request_id: RequestIdText,
        exporter: Option<SpanSender>,
    ) -> Self {
        RequestScope {
            ids,
            request_id,
            record_events: exporter.is_some(),
            exporter,
            events: Vec::new(),
            dropped_events: 0,
        }
    }

    /// Adds a span event, bounded as a registry span's are.
    pub(crate) fn add_event(&mut self, event: SpanEvent) {
        if self.events.len() < super::data::MAX_EVENTS {
            self.events.push(event);
        } else {
            self.dropped_events += 1;
        }
    }
}

thread_local! {
    /// The request being polled on this thread: null, or the scope an [`Entered`] guard
    /// borrows for as long as the pointer is here.
    static CURRENT: Cell<*const RefCell<RequestScope>> = const { Cell::new(std::ptr::null()) };
}

/// Publishes a request's scope in the thread's slot, and puts back the one it replaced (an
/// outer request, when requests are polled inside requests) when dropped, unwinding included.
/// Two pointer writes per poll: the scope itself never moves.
pub(crate) struct Entered<'a> {
    previous: *const RefCell<RequestScope>,
    /// The published scope stays borrowed (so alive and in place) while the guard lives.
    _scope: std::marker::PhantomData<&'a RefCell<RequestScope>>,
}

/// Makes `scope` the thread's current request until the guard drops.
pub(crate) fn enter(scope: &RefCell<RequestScope>) -> Entered<'_> {
    let previous = CURRENT
        .try_with(|slot| slot.replace(scope))
        .unwrap_or(std::ptr::null());
    Entered {
        previous,
        _scope: std::marker::PhantomData,
    }
}

impl Entered<'_> {
    /// The ids of the request that was current before this one.
    pub(crate) fn outer_ids(&self) -> Option<(TraceId, SpanId)> {
        // SAFETY: a non-null previous pointer was published by an enclosing guard, still
        // alive (guards live within one poll call and drop in reverse order), whose borrow
        // keeps the RefCell in place.
        let outer = unsafe { self.previous.as_ref() }?;
        outer.try_borrow().ok()?.ids
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|slot| slot.set(self.previous));
    }
}

/// Calls `f` with the cell of the request being polled on this thread, if any.
fn with_cell<R>(f: impl FnOnce(&RefCell<RequestScope>) -> Option<R>) -> Option<R> {
    let pointer = CURRENT.try_with(Cell::get).ok()?;
    // SAFETY: a non-null pointer in the slot was published by a live `Entered` guard on this
    // thread, whose borrow keeps the RefCell alive and in place until it resets the slot.
    let cell = unsafe { pointer.as_ref() }?;
    f(cell)
}

/// Calls `f` with the current request, if one is being polled on this thread (and `f` is not
/// already running for it).
pub(crate) fn with_current<R>(f: impl FnOnce(&mut RequestScope) -> R) -> Option<R> {
    with_cell(|cell| {
        let mut current = cell.try_borrow_mut().ok()?;
        current.ids?;
        Some(f(&mut current))
    })
}

/// The request id of the request being polled on this thread, traced or not.
pub(crate) fn current_request_id() -> Option<String> {
    with_cell(|cell| Some(cell.try_borrow().ok()?.request_id.as_str().to_string()))
}

/// The ids of the current request.
pub(crate) fn current_ids() -> Option<(TraceId, SpanId)> {
    with_cell(|cell| cell.try_borrow().ok()?.ids)
}

/// Where "the current span" is: see the module documentation.
pub(crate) enum Effective<'a> {
    /// A registry span (the application's, or one outside any request).
    Registry(&'a SpanData),
    /// The request being polled.
    Request,
    /// Nothing traced.
    None,
}

/// Chooses between the registry's span (`registry`, if any) and the request in the slot
/// (`request`, its ids if any).
pub(crate) fn effective<'a>(
    registry: Option<&'a SpanData>,
    request: Option<(TraceId, SpanId)>,
) -> Effective<'a> {
    match (registry, request) {
        (Some(data), Some((trace_id, _))) if data.trace_id == trace_id => Effective::Registry(data),
        (_, Some(_)) => Effective::Request,
        (Some(data), None) => Effective::Registry(data),
        (None, None) => Effective::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entering_publishes_and_nests() {
        assert_eq!(current_ids(), None);
        let outer = RefCell::new(RequestScope::new(
            Some(([1; 16], [2; 8])),
            RequestIdText::new("outer"),
            None,
        ));
        {
            let entered = enter(&outer);
            assert_eq!(entered.outer_ids(), None);
            assert_eq!(current_ids(), Some(([1; 16], [2; 8])));
            let inner = RefCell::new(RequestScope::new(
                Some(([3; 16], [4; 8])),
                RequestIdText::new("inner"),
                None,
            ));
            {
                let nested = enter(&inner);
                assert_eq!(nested.outer_ids(), Some(([1; 16], [2; 8])));
                assert_eq!(
                    with_current(|s| s.request_id.as_str().to_string()).as_deref(),
                    Some("inner")
                );
                // Not re-entered while `f` runs.
                assert_eq!(with_current(|_| with_current(|_| ())), Some(None));
            }
            assert_eq!(current_ids(), Some(([1; 16], [2; 8])));
        }
        assert_eq!(current_ids(), None);
        assert_eq!(with_current(|_| ()), None);
    }

    #[test]
    fn request_id_text_knows_whether_it_needs_quotes() {
        assert!(RequestIdText::new("req-1").is_plain());
        assert!(!RequestIdText::new("a\"b").is_plain());
        assert!(!RequestIdText::new("x=y").is_plain());
        let fresh = crate::ids::new_request_id_text();
        let id = RequestIdText::fresh(&fresh);
        assert!(id.is_plain());
        assert_eq!(id.as_str(), fresh.as_str());
        assert!(!needs_quotes(id.as_str()));
    }

    #[test]
    fn request_id_text_is_cut_at_the_limit_on_a_char_boundary() {
        assert_eq!(RequestIdText::new("abc").as_str(), "abc");
        let long = "x".repeat(100);
        assert_eq!(RequestIdText::new(&long).as_str(), long);
        let long = "é".repeat(MAX_REQUEST_ID_LEN);
        let cut = RequestIdText::new(&long);
        assert!(cut.as_str().len() <= MAX_REQUEST_ID_LEN);
        assert!(cut.as_str().chars().all(|c| c == 'é'));
    }
}
