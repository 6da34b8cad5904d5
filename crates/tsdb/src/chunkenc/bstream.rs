//! Bit-level writer and reader, most significant bit first.

/// Appends bits to a byte vector.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Free bits left in the last byte (0 when it is full or there is none).
    free: u8,
}

impl BitWriter {
    /// Starts a new byte. The buffer grows by a quarter (at least 16 bytes) rather than
    /// doubling: a head holds one open chunk per series, and doubling left a third of that
    /// memory unused on average.
    fn push_byte(&mut self) {
        if self.buf.len() == self.buf.capacity() {
            self.buf.reserve_exact((self.buf.len() / 4).max(16));
        }
        self.buf.push(0);
        self.free = 8;
    }

    pub(crate) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.push_byte();
        }
        self.free -= 1;
        if bit {
            // A byte was pushed above when none was free, so the vector is not empty.
            if let Some(last) = self.buf.last_mut() {
                *last |= 1 << self.free;
            }
        }
    }

    /// Writes the low `n` bits of `v` (n ≤ 64), high bit first.
    pub(crate) fn write_bits(&mut self, v: u64, mut n: u8) {
        while n > 0 {
            if self.free == 0 {
                self.push_byte();
            }
            let take = n.min(self.free);
            let shift = n - take;
            let chunk = ((v >> shift) & ((1u64 << take) - 1)) as u8;
            self.free -= take;
            if let Some(last) = self.buf.last_mut() {
                *last |= chunk << self.free;
            }
            n -= take;
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// Reads bits from a byte slice. Decoders peek a 64-bit window at the current position and
/// consume what they used, so a typical sample costs one or two loads; past the end the window
/// holds zeros, and [`BitReader::overrun`] tells a decoder that it read beyond the data.
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, pos: 0 }
    }

    /// The next 64 bits, first bit highest, zeros past the end. Only the top 57 bits are
    /// guaranteed to be the stream's (a load starts at a byte boundary up to 7 bits back).
    #[inline(always)]
    pub(crate) fn peek(&self) -> u64 {
        let byte = self.pos / 8;
        let word = match self.buf.get(byte..byte.saturating_add(8)) {
            Some(b) => {
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                u64::from_be_bytes(w)
            }
            None => self.peek_tail(byte),
        };
        word << (self.pos % 8)
    }

    /// The bytes from `byte` to the end, zero-padded to a word: the buffer's last word shifted
    /// (no copy loop; the last few samples of every chunk come here).
    #[inline(always)]
    fn peek_tail(&self, byte: usize) -> u64 {
        let len = self.buf.len();
        if len < 8 {
            return self.peek_short(byte);
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.buf[len - 8..]);
        // `byte > len - 8` here; past the end everything reads as zero.
        let shift = (byte - (len - 8)).saturating_mul(8);
        u32::try_from(shift)
            .ok()
            .and_then(|s| u64::from_be_bytes(w).checked_shl(s))
            .unwrap_or(0)
    }

    /// [`BitReader::peek_tail`] for buffers shorter than a word.
    #[cold]
    #[inline(never)]
    fn peek_short(&self, byte: usize) -> u64 {
        let mut w = [0u8; 8];
        let tail = self.buf.get(byte..).unwrap_or(&[]);
        w[..tail.len()].copy_from_slice(tail);
        u64::from_be_bytes(w)
    }

    /// Consumes `n` bits.
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// Reads `n` bits (n ≤ 64) as the low bits of the result, without checking the end: past
    /// it the bits read are zeros and [`BitReader::overrun`] turns true.
    #[inline(always)]
    pub(crate) fn take(&mut self, n: u32) -> u64 {
        if n > 56 {
            return self.take_wide(n);
        }
        // Two shifts: a shift by 64 (n = 0) would overflow.
        let v = (self.peek() >> 1) >> (63 - n);
        self.pos += n as usize;
        v
    }

    /// Reads 57..=64 bits in two loads (rare: values whose XOR spans nearly the whole word).
    #[inline(never)]
    fn take_wide(&mut self, n: u32) -> u64 {
        let hi = self.take(n - 32);
        let lo = self.take(32);
        (hi << 32) | lo
    }

    /// Whether more bits were consumed than the data holds.
    #[inline(always)]
    pub(crate) fn overrun(&self) -> bool {
        self.pos > self.buf.len() * 8
    }

    /// Reads one bit; `None` past the end.
    #[cfg(test)]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        self.read_bits(1).map(|b| b == 1)
    }

    /// Reads `n` bits (n ≤ 64) as the low bits of the result; `None` past the end.
    #[cfg(test)]
    pub(crate) fn read_bits(&mut self, n: u8) -> Option<u64> {
        if self.pos + n as usize > self.buf.len() * 8 {
            return None;
        }
        Some(self.take(u32::from(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(0b101, 3);
        w.write_bits(u64::MAX, 64);
        w.write_bits(0x1234, 14);
        w.write_bit(false);
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.read_bit(), Some(true));
        assert_eq!(r.read_bits(3), Some(0b101));
        assert_eq!(r.read_bits(64), Some(u64::MAX));
        assert_eq!(r.read_bits(14), Some(0x1234));
        assert_eq!(r.read_bit(), Some(false));
        assert_eq!(r.read_bits(64), None);
    }

    #[test]
    fn reads_every_width_at_every_offset() {
        // Each width 1..=64 written after a 0..8-bit prefix, near the end of the buffer too.
        for prefix in 0..8u8 {
            for n in 1..=64u8 {
                let v = 0xA5C3_96F0_1E2D_4B87u64 >> (64 - u32::from(n));
                let mut w = BitWriter::default();
                w.write_bits(0b1011_0110, prefix);
                w.write_bits(v, n);
                let bytes = w.into_bytes();
                let mut r = BitReader::new(&bytes);
                assert_eq!(
                    r.read_bits(prefix),
                    Some(0b1011_0110 & ((1u64 << prefix) - 1))
                );
                assert_eq!(r.read_bits(n), Some(v), "prefix {prefix} width {n}");
                assert_eq!(r.read_bits(8), None);
            }
        }
    }
}
