//! Identifiers: W3C trace and span ids, the `traceparent` header, and request ids.
//!
//! Random ids come from a per-thread SplitMix64 generator seeded from std's randomly keyed
//! hasher, the clock and a process-wide counter: unpredictable enough for correlation ids
//! (they are not secrets) and cheap, without a dependency.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A W3C trace id: 16 bytes, never all zero.
pub type TraceId = [u8; 16];
/// A W3C span id: 8 bytes, never all zero.
pub type SpanId = [u8; 8];

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The two lowercase hex digits of every byte: one load per byte of an id instead of two
/// shifts, two lookups and two stores (ids are hex-encoded several times per request).
static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut pairs = [[0; 2]; 256];
    let mut b = 0;
    while b < 256 {
        pairs[b] = [HEX_DIGITS[b >> 4], HEX_DIGITS[b & 0xf]];
        b += 1;
    }
    pairs
};

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX_DIGITS[usize::from(b >> 4)] as char);
        s.push(HEX_DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// The text of an id kept on the stack, so the per-request ids of log lines and headers need
/// no heap: lowercase hex (`IdText::<32>` for a trace id, `<16>` for a span id), a request id
/// (hex with dashes) or a `traceparent` value. Always ASCII.
#[derive(Clone, Copy)]
pub(crate) struct IdText<const N: usize>([u8; N]);

impl<const N: usize> IdText<N> {
    /// The lowercase hex of `bytes`; `bytes` must be `N / 2` long (longer input is cut,
    /// shorter leaves zero digits), which the callers' id types guarantee.
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let mut out = [b'0'; N];
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
        }
        IdText(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        // SAFETY: only ASCII is ever stored: '0's and digits from HEX_PAIRS (`new`), and the
        // dashes and flag digits that `new_request_id_text` and `traceparent_text` add; so the
        // bytes are UTF-8. Skipping the check matters: every log line of a request hex-encodes
        // two ids.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

static SEED_COUNTER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(SEED_COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(nanos);
    h.finish()
}

fn next_u64() -> u64 {
    RNG.with(|state| {
        // SplitMix64.
        let s = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A new random trace id.
pub fn new_trace_id() -> TraceId {
    loop {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&next_u64().to_be_bytes());
        id[8..].copy_from_slice(&next_u64().to_be_bytes());
        if id != [0; 16] {
            return id;
        }
    }
}

/// A new random span id.
pub fn new_span_id() -> SpanId {
    loop {
        let id = next_u64().to_be_bytes();
        if id != [0; 8] {
            return id;
        }
    }
}

/// A new request id: 32 random hex digits in the 8-4-4-4-12 layout of a UUID.
pub fn new_request_id() -> String {
    new_request_id_text().as_str().to_string()
}

/// A new request id as [`new_request_id`] makes them, on the stack.
pub(crate) fn new_request_id_text() -> IdText<36> {
    let digits = IdText::<32>::new(&new_trace_id());
    let mut id = [b'-'; 36];
    let mut from = 0;
    for (start, end) in [(0, 8), (9, 13), (14, 18), (19, 23), (24, 36)] {
        let len = end - start;
        id[start..end].copy_from_slice(&digits.0[from..from + len]);
        from += len;
    }
    IdText(id)
}

/// The remote parent of a request: what a W3C `traceparent` header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanContext {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id of the caller's span.
    pub span_id: SpanId,
    /// Whether the caller sampled the trace (flag `01`).
    pub sampled: bool,
}

impl SpanContext {
    /// Parses a `traceparent` header value (`00-<32 hex>-<16 hex>-<2 hex>`). Versions other
    /// than `00` are read by the version-00 layout as the spec asks; `ff`, all-zero ids,
    /// uppercase hex and wrong lengths are refused (`None`: the request starts a new trace).
    pub fn from_traceparent(value: &str) -> Option<SpanContext> {
        let mut parts = value.trim().split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let span = parts.next()?;
        let flags = parts.next()?;
        let version: [u8; 1] = parse_hex(version)?;
        if version[0] == 0xff || (version[0] == 0 && parts.next().is_some()) {
            return None;
        }
        let trace_id: TraceId = parse_hex(trace)?;
        let span_id: SpanId = parse_hex(span)?;
        let flags: [u8; 1] = parse_hex(flags)?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(SpanContext {
            trace_id,
            span_id,
            sampled: flags[0] & 1 == 1,
        })
    }

    /// The `traceparent` header value for this context.
    pub fn to_traceparent(&self) -> String {
        self.traceparent_text().as_str().to_string()
    }

    /// The `traceparent` header value on the stack: every outgoing call of a request makes
    /// one, and the formatting machinery cost more than the call's other header work.
    pub(crate) fn traceparent_text(&self) -> IdText<55> {
        let mut text = [b'-'; 55];
        text[..2].copy_from_slice(b"00");
        text[3..35].copy_from_slice(&IdText::<32>::new(&self.trace_id).0);
        text[36..52].copy_from_slice(&IdText::<16>::new(&self.span_id).0);
        text[53..].copy_from_slice(if self.sampled { b"01" } else { b"00" });
        IdText(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trip() {
        let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let c = SpanContext::from_traceparent(v).unwrap();
        assert_eq!(hex(&c.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&c.span_id), "00f067aa0ba902b7");
        assert!(c.sampled);
        assert_eq!(c.to_traceparent(), v);
        let unsampled = SpanContext {
            sampled: false,
            ..c
        };
        assert_eq!(
            unsampled.to_traceparent(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        );
    }

    #[test]
    fn bad_traceparents_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(SpanContext::from_traceparent(bad), None, "{bad}");
        }
        // A future version may append fields.
        assert!(
            SpanContext::from_traceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x"
            )
            .is_some()
        );
    }

    #[test]
    fn random_ids_differ() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_ne!(a, b);
        assert_ne!(new_span_id(), new_span_id());
        let r = new_request_id();
        assert_eq!(r.len(), 36);
        let groups: Vec<usize> = r.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(r.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
    }

    #[test]
    fn stack_hex_matches_heap_hex() {
        let id = [0x00, 0x1f, 0xa0, 0xff, 0x42, 0x07, 0x99, 0xc3];
        assert_eq!(IdText::<16>::new(&id).as_str(), hex(&id));
        assert_eq!(IdText::<16>::new(&id).as_str(), "001fa0ff420799c3");
        let trace = [0xab; 16];
        assert_eq!(IdText::<32>::new(&trace).as_str(), hex(&trace));
    }
}
