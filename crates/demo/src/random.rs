//! A tiny pseudo-random source for sleep times and jitter. The demo needs variety, not quality
//! or security, so a xorshift generator seeded from the standard library's per-process random
//! hash keys is enough and avoids a dependency.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// xorshift64* state; never zero.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator with a fresh seed: each `RandomState` on a thread has different keys.
    pub(crate) fn seeded() -> Rng {
        let seed = RandomState::new().hash_one(0x5eed_u64);
        Rng(seed | 1)
    }

    /// A generator with a fixed seed, for deterministic data derived from an item id.
    pub(crate) fn from_seed(seed: u64) -> Rng {
        // Mix the seed so neighbouring ids give unrelated sequences; `| 1` keeps it non-zero.
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `low..=high` (`low` when the range is empty).
    pub(crate) fn in_range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_range_stays_inside_and_varies() {
        let mut rng = Rng::seeded();
        let values: Vec<u64> = (0..1000).map(|_| rng.in_range(500, 2000)).collect();
        assert!(values.iter().all(|v| (500..=2000).contains(v)));
        assert!(values.iter().any(|&v| v != values[0]));
        assert_eq!(rng.in_range(7, 3), 7);
    }

    #[test]
    fn fixed_seed_repeats() {
        let a: Vec<u64> = (0..4).map(|_| Rng::from_seed(3).next_u64()).collect();
        assert!(a.iter().all(|&v| v == a[0]));
        assert_ne!(Rng::from_seed(3).next_u64(), Rng::from_seed(4).next_u64());
    }
}
