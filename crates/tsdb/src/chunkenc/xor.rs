//! Gorilla XOR chunks: delta-of-delta timestamps and XOR-compressed float values.
//!
//! Layout (bits, most significant first): the first sample's timestamp and value as 64 bits
//! each; then per sample the timestamp's delta-of-delta in a prefix-coded bucket and the value
//! XORed with the previous one, coded as in the Gorilla paper (`0` = same value; `10` = reuse the
//! previous leading/trailing-zero window; `11` = new window, 5 bits of leading zeros and 6 bits of
//! meaningful-bit count, 0 meaning 64). The sample count is kept outside the bits.
//! NaN payloads survive bit-exactly because only bit patterns are encoded.

use super::bstream::{BitReader, BitWriter};
use model::Sample;

/// A chunk's bits did not decode.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("XOR chunk ends early at sample {at} of {expected}")]
pub struct ChunkError {
    /// Index of the sample that could not be read.
    pub at: usize,
    /// Samples the chunk claimed to hold.
    pub expected: usize,
}

/// Delta-of-delta buckets: (prefix bits, prefix length, payload bits).
const DOD_BUCKETS: [(u64, u8, u8); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

/// A chunk being appended to. Appends must come in increasing time order.
#[derive(Debug, Clone)]
pub struct XorChunk {
    bits: BitWriter,
    n: u16,
    mint: i64,
    maxt: i64,
    delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        XorChunk {
            bits: BitWriter::default(),
            n: 0,
            mint: i64::MAX,
            maxt: i64::MIN,
            delta: 0,
            v: 0,
            leading: u8::MAX,
            trailing: 0,
        }
    }

    /// Appends a sample newer than every sample in the chunk.
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        if self.n == 0 {
            self.bits.write_bits(t as u64, 64);
            self.bits.write_bits(vb, 64);
            self.mint = t;
        } else {
            let delta = t.wrapping_sub(self.maxt);
            let dod = delta.wrapping_sub(self.delta);
            self.write_dod(dod);
            self.delta = delta;
            self.write_value(vb);
        }
        self.v = vb;
        self.maxt = t;
        self.n += 1;
    }

    fn write_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.bits.write_bit(false);
            return;
        }
        for (prefix, plen, bits) in DOD_BUCKETS {
            let lim = 1i64 << (bits - 1);
            if dod >= -lim && dod < lim {
                self.bits.write_bits(prefix, plen);
                self.bits
                    .write_bits(dod as u64 & ((1u64 << bits) - 1), bits);
                return;
            }
        }
        self.bits.write_bits(0b1111, 4);
        self.bits.write_bits(dod as u64, 64);
    }

    fn write_value(&mut self, vb: u64) {
        let x = vb ^ self.v;
        if x == 0 {
            self.bits.write_bit(false);
            return;
        }
        self.bits.write_bit(true);
        let leading = (x.leading_zeros() as u8).min(31);
        let trailing = x.trailing_zeros() as u8;
        if self.leading != u8::MAX && leading >= self.leading && trailing >= self.trailing {
            self.bits.write_bit(false);
            let sig = 64 - self.leading - self.trailing;
            self.bits.write_bits(x >> self.trailing, sig);
        } else {
            self.bits.write_bit(true);
            let sig = 64 - leading - trailing;
            self.bits.write_bits(u64::from(leading), 5);
            // 64 meaningful bits do not fit in 6 bits; 0 stands for it (0 cannot occur).
            self.bits.write_bits(u64::from(sig % 64), 6);
            self.bits.write_bits(x >> trailing, sig);
            self.leading = leading;
            self.trailing = trailing;
        }
    }

    /// Number of samples.
    pub fn num_samples(&self) -> usize {
        self.n as usize
    }

    /// Timestamp of the first sample (`i64::MAX` when empty).
    pub fn mint(&self) -> i64 {
        self.mint
    }

    /// Timestamp of the last sample (`i64::MIN` when empty).
    pub fn maxt(&self) -> i64 {
        self.maxt
    }

    /// The encoded bits so far.
    pub fn bytes(&self) -> &[u8] {
        self.bits.bytes()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bits.capacity()
    }

    /// The encoded bytes, trimmed to size.
    pub fn into_bytes(self) -> Box<[u8]> {
        self.bits.into_bytes().into_boxed_slice()
    }

    /// Decodes every sample into `out`.
    pub fn decode_into(&self, out: &mut Vec<Sample>) -> Result<(), ChunkError> {
        decode_xor(self.bits.bytes(), self.n as usize, out)
    }
}

/// Decodes `n` samples of an XOR chunk's bytes, appending them to `out`.
///
/// This is the hot loop of every query. Each field is decoded from one peeked 64-bit window:
/// the common sample (regular interval, value unchanged or within the previous XOR window)
/// costs two or three loads and no per-bit calls. Bits past the end read as zeros, so the loop
/// checks once per sample whether it overran the data.
pub fn decode_xor(data: &[u8], n: usize, out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    if n == 0 {
        return Ok(());
    }
    let err = |at| ChunkError { at, expected: n };
    // The first sample is two whole big-endian words at the start.
    let (Some(t0), Some(v0)) = (data.get(..8), data.get(8..16)) else {
        return Err(err(0));
    };
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        u64::from_be_bytes(w)
    };
    let mut t = word(t0) as i64;
    let mut v = word(v0);
    let mut r = BitReader::new(data);
    r.skip(128);
    out.reserve(n);
    out.push(Sample {
        t,
        v: f64::from_bits(v),
    });
    let (mut delta, mut leading, mut trailing) = (0i64, 0u32, 0u32);
    for i in 1..n {
        let w = r.peek();
        let sig = 64 - leading - trailing;
        // The two common samples of a regular scrape, whole from one window: delta-of-delta `0`
        // and either an unchanged value (`0`) or one within the previous XOR window (`10` and
        // `sig` bits: 3 + 54 bits fit the 57 a peek guarantees).
        if w >> 62 == 0b00 {
            r.skip(2);
            t = t.wrapping_add(delta);
        } else if w >> 61 == 0b010 && sig <= 54 {
            r.skip(3 + sig);
            t = t.wrapping_add(delta);
            v ^= ((w << 3) >> (64 - sig)) << trailing;
        } else {
            delta = delta.wrapping_add(read_dod(&mut r));
            t = t.wrapping_add(delta);
            read_value(&mut r, &mut v, &mut leading, &mut trailing).ok_or(err(i))?;
        }
        if r.overrun() {
            return Err(err(i));
        }
        out.push(Sample {
            t,
            v: f64::from_bits(v),
        });
    }
    Ok(())
}

/// One value: `0` (unchanged), `10` (XOR within the previous window) or `11` (a new window),
/// applied to `v`. `None` for a window description that cannot be.
#[inline(always)]
fn read_value(
    r: &mut BitReader<'_>,
    v: &mut u64,
    leading: &mut u32,
    trailing: &mut u32,
) -> Option<()> {
    let w = r.peek();
    if w >> 63 == 0 {
        r.skip(1);
        return Some(());
    }
    if (w >> 62) & 1 == 0 {
        r.skip(2);
    } else {
        // `11`, 5 bits of leading zeros, 6 bits of meaningful-bit count (0 = 64).
        *leading = ((w >> 57) & 0x1f) as u32;
        let mut sig = ((w >> 51) & 0x3f) as u32;
        if sig == 0 {
            sig = 64;
        }
        if *leading + sig > 64 {
            return None;
        }
        *trailing = 64 - *leading - sig;
        r.skip(13);
    }
    // Before any `11` window, leading = trailing = 0 reads all 64 bits. `trailing` is at most
    // 63 since a window holds at least one meaningful bit.
    let bits = r.take(64 - *leading - *trailing);
    *v ^= bits << *trailing;
    Some(())
}

/// One delta-of-delta: `0`, or a prefix of 1s (`10`, `110`, `1110` with 14, 17, 20 bits of
/// two's complement payload; `1111` with 64 bits).
#[inline(always)]
fn read_dod(r: &mut BitReader<'_>) -> i64 {
    let w = r.peek();
    let ones = (!w).leading_zeros();
    let bits = match ones {
        0 => {
            r.skip(1);
            return 0;
        }
        1 => 14,
        2 => 17,
        3 => 20,
        _ => {
            r.skip(4);
            return r.take(64) as i64;
        }
    };
    // The prefix is `ones` 1s and a 0; the payload follows in the same window (≤ 24 bits).
    let plen = ones + 1;
    r.skip(plen + bits);
    // Sign-extend the `bits`-wide two's complement payload.
    ((w << plen) as i64) >> (64 - bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(samples: &[(i64, u64)]) -> Vec<(i64, u64)> {
        let mut c = XorChunk::new();
        for (t, v) in samples {
            c.append(*t, f64::from_bits(*v));
        }
        let mut out = Vec::new();
        decode_xor(c.bytes(), c.num_samples(), &mut out).unwrap();
        out.iter().map(|s| (s.t, s.v.to_bits())).collect()
    }

    #[test]
    fn regular_scrape_is_small_and_exact() {
        let mut c = XorChunk::new();
        for i in 0..120 {
            c.append(1_700_000_000_000 + i * 15_000, (i * 3) as f64);
        }
        assert_eq!(c.num_samples(), 120);
        assert!(c.bytes().len() < 400, "{} bytes", c.bytes().len());
        let mut out = Vec::new();
        c.decode_into(&mut out).unwrap();
        assert_eq!(out[119].t, 1_700_000_000_000 + 119 * 15_000);
        assert_eq!(out[119].v, 357.0);
    }

    #[test]
    fn nan_and_stale_marker_bits_survive() {
        let s = [
            (1, model::STALE_NAN_BITS),
            (2, f64::NAN.to_bits()),
            (3, 0x7ff8_0000_0000_0001),
            (4, (-0.0f64).to_bits()),
        ];
        assert_eq!(round_trip(&s), s.to_vec());
    }

    #[test]
    fn truncated_bytes_error_not_panic() {
        let mut c = XorChunk::new();
        for i in 0..10 {
            c.append(i * 1000 + i * i, i as f64 * 1.5);
        }
        let bytes = c.bytes();
        for cut in 0..bytes.len() - 1 {
            let mut out = Vec::new();
            assert!(
                decode_xor(&bytes[..cut], 10, &mut out).is_err(),
                "cut {cut}"
            );
        }
    }

    proptest! {
        #[test]
        fn regular_scrapes_round_trip(
            start in any::<i64>().prop_map(|t| t / 4),
            jitter in proptest::collection::vec(prop_oneof![9 => Just(0i64), 1 => -3i64..3], 1..200),
            steps in proptest::collection::vec(prop_oneof![4 => Just(0.0f64), 4 => 0.0f64..8.0, 1 => any::<f64>()], 200),
        ) {
            // Mostly the same interval and values that grow by small steps or stay: the
            // decoder's one-window paths, mixed with the general ones.
            let (mut t, mut v) = (start, 1000.0f64);
            let mut s = vec![(t, v.to_bits())];
            for (i, j) in jitter.iter().enumerate() {
                t += 15_000 + j;
                v = (v + steps[i % steps.len()]).round();
                s.push((t, v.to_bits()));
            }
            prop_assert_eq!(round_trip(&s), s);
        }

        #[test]
        fn any_increasing_series_round_trips(
            start in any::<i64>().prop_map(|t| t / 4),
            deltas in proptest::collection::vec(1i64..(1 << 40), 0..200),
            values in proptest::collection::vec(any::<u64>(), 200),
        ) {
            let mut t = start;
            let mut s = vec![(t, values[0])];
            for (i, d) in deltas.iter().enumerate() {
                t += d;
                s.push((t, values[(i + 1) % values.len()]));
            }
            prop_assert_eq!(round_trip(&s), s);
        }
    }
}
