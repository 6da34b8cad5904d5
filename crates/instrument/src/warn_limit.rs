//! At most one warning a minute per call site: a collector that is away fails every batch, and
//! its warnings must not drown the service's own log lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds between two warnings of one site.
const INTERVAL_SECS: u64 = 60;

/// The last time (Unix seconds + 1; 0 = never) a site warned.
pub(crate) struct WarnLimit(AtomicU64);

impl WarnLimit {
    pub(crate) const fn new() -> Self {
        WarnLimit(AtomicU64::new(0))
    }

    /// Whether to warn now; the first call always may.
    pub(crate) fn allow(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 1;
        let last = self.0.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < INTERVAL_SECS {
            return false;
        }
        // Of racing threads only one wins the swap, so only one warns.
        self.0
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_allowed_then_quiet() {
        let w = WarnLimit::new();
        assert!(w.allow());
        assert!(!w.allow());
        assert!(!w.allow());
    }
}
