//! A little real CPU work for `/items/{id}`, so CPU profiles of the demo show named frames
//! (`sort_readings`, `checksum`) rather than only the runtime idling.

use crate::random::Rng;

/// How many 32-bit readings an item's work sorts: 16 KiB, some tens of microseconds when
/// optimised — visible in a profile, invisible in the latency panels.
const READINGS: usize = 4096;

/// A deterministic fingerprint of an item: generates its readings, sorts them and hashes the
/// sorted bytes. Same id, same answer.
pub(crate) fn item_fingerprint(id: u64) -> u64 {
    let mut readings = generate_readings(id);
    sort_readings(&mut readings);
    checksum(&readings)
}

fn generate_readings(id: u64) -> Vec<u32> {
    let mut rng = Rng::from_seed(id);
    // Truncation to the low 32 bits is the intent: any 32 bits of the stream will do.
    (0..READINGS).map(|_| rng.next_u64() as u32).collect()
}

// Not inlined so the frame keeps its name in flame graphs.
#[inline(never)]
fn sort_readings(readings: &mut [u32]) {
    readings.sort_unstable();
}

/// FNV-1a over the readings' bytes.
#[inline(never)]
fn checksum(readings: &[u32]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for reading in readings {
        for byte in reading.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_deterministic_per_id() {
        assert_eq!(item_fingerprint(42), item_fingerprint(42));
        assert_ne!(item_fingerprint(42), item_fingerprint(43));
    }

    #[test]
    fn checksum_of_nothing_is_the_fnv_offset() {
        assert_eq!(checksum(&[]), 0xcbf2_9ce4_8422_2325);
    }
}
