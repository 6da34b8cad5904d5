//! The head: the in-memory, writable part of the store holding recent samples.
//!
//! Series are sharded by [`series_hash`] into [`SHARDS`] maps with their own locks so
//! concurrent appenders rarely contend; each series has its own mutex over its chunks. A series
//! stores its labels as interned string pairs (see [`crate::symbols`]) and its samples in Gorilla
//! XOR chunks: one open chunk plus closed ones, a chunk closing after [`SAMPLES_PER_CHUNK`]
//! samples or when it spans the chunk range (2 h). Samples older than the series' newest but
//! within the out-of-order window go to a small sorted side buffer merged at read time.

use crate::chunkenc::{ChunkError, XorChunk, decode_xor};
use crate::head_chunks::{ChunkFiles, Segment};
use crate::index::MemPostings;
use crate::symbols::SymbolTable;
use model::{Label, Labels, Sample};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// Number of series shards.
pub const SHARDS: usize = 16;
/// Samples after which a head chunk is closed (as Prometheus).
pub const SAMPLES_PER_CHUNK: usize = 120;

/// The hash keying the head's series maps. It lives only in memory (replay recomputes it), so
/// unlike [`Labels::hash64`] it need not be stable across builds: it reads eight bytes at a
/// time, which made it several times cheaper than FNV's byte loop on the push path, where every
/// sample's series is looked up by it.
pub(crate) fn series_hash(labels: &Labels) -> u64 {
    hash_pairs(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
}

/// [`series_hash`] of the label set these pairs form (sorted by name, no empty values).
pub(crate) fn hash_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut h: u64 = 0x243f_6a88_85a3_08d3;
    for (name, value) in pairs {
        h = mix_bytes(h, name.as_bytes());
        h = mix_bytes(h, value.as_bytes());
    }
    // Final avalanche, so the low bits that pick a shard depend on every input bit.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 29)
}

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b))
            .wrapping_mul(MIX)
            .rotate_left(31);
    }
    let rest = words.remainder();
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(tail))
        .wrapping_mul(MIX)
        .rotate_left(31);
    // The length separates ("ab", "c") from ("a", "bc").
    (h ^ bytes.len() as u64).wrapping_mul(MIX).rotate_left(31)
}

/// Hasher for keys that are already hashes or dense ids: one multiply spreads them.
#[derive(Default, Clone, Copy)]
pub(crate) struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(crate) type U64Map<V> = HashMap<u64, V, BuildHasherDefault<U64Hasher>>;

/// A closed chunk: its bytes live in a head chunk file (see [`crate::head_chunks`]).
pub(crate) struct FrozenChunk {
    segment: Arc<Segment>,
    offset: u32,
    len: u16,
    pub(crate) n: u16,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
}

impl FrozenChunk {
    pub(crate) fn bytes(&self) -> &[u8] {
        self.segment.bytes(self.offset, self.len)
    }
}

/// The samples of one series.
#[derive(Default)]
pub(crate) struct SeriesData {
    pub(crate) frozen: Vec<FrozenChunk>,
    pub(crate) open: Option<XorChunk>,
    /// Out-of-order samples, sorted by time, never overlapping a timestamp in the chunks.
    pub(crate) ooo: Vec<Sample>,
    /// Newest exemplar, for Prometheus' out-of-order and duplicate exemplar rules (boxed: most
    /// series have none).
    pub(crate) last_exemplar: Option<Box<model::Exemplar>>,
}

/// Why a sample was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    OutOfOrder,
    Duplicate,
}

/// Result of [`MemSeries::append`] on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    Stored {
        new_chunk: bool,
    },
    /// Same timestamp and bit-identical value as a stored sample: nothing to do.
    Ignored,
}

impl SeriesData {
    pub(crate) fn maxt(&self) -> i64 {
        let chunks = self
            .open
            .as_ref()
            .map(|c| c.maxt())
            .or_else(|| self.frozen.last().map(|c| c.maxt))
            .unwrap_or(i64::MIN);
        chunks.max(self.ooo.last().map_or(i64::MIN, |s| s.t))
    }

    pub(crate) fn mint(&self) -> i64 {
        let chunks = self
            .frozen
            .first()
            .map(|c| c.mint)
            .or_else(|| {
                self.open
                    .as_ref()
                    .filter(|c| c.num_samples() > 0)
                    .map(|c| c.mint())
            })
            .unwrap_or(i64::MAX);
        chunks.min(self.ooo.first().map_or(i64::MAX, |s| s.t))
    }

    fn in_order_maxt(&self) -> i64 {
        self.open
            .as_ref()
            .filter(|c| c.num_samples() > 0)
            .map(|c| c.maxt())
            .or_else(|| self.frozen.last().map(|c| c.maxt))
            .unwrap_or(i64::MIN)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.frozen.is_empty()
            && self.open.as_ref().is_none_or(|c| c.num_samples() == 0)
            && self.ooo.is_empty()
    }

    /// The value stored at exactly `t` in the in-order chunks.
    fn in_order_value_at(&self, t: i64) -> Result<Option<f64>, ChunkError> {
        let mut buf = Vec::new();
        for c in &self.frozen {
            if c.mint <= t && t <= c.maxt {
                decode_xor(c.bytes(), c.n as usize, &mut buf)?;
            }
        }
        if let Some(c) = &self.open
            && c.num_samples() > 0
            && c.mint() <= t
            && t <= c.maxt()
        {
            c.decode_into(&mut buf)?;
        }
        Ok(buf.iter().find(|s| s.t == t).map(|s| s.v))
    }

    /// What appending `(t, v)` would do, without changing anything: `Ok(None)` for a sample
    /// newer than the newest, `Ok(Some(Appended::Ignored))` for a bit-identical repeat,
    /// `Ok(Some(Stored))` for an accepted out-of-order sample, or the rejection.
    pub(crate) fn classify(
        &self,
        t: i64,
        v: f64,
        ooo_window: i64,
    ) -> Result<Option<Appended>, Rejected> {
        let maxt = self.in_order_maxt();
        if t > maxt {
            return Ok(None);
        }
        let same = |old: f64| {
            if old.to_bits() == v.to_bits() {
                Ok(Some(Appended::Ignored))
            } else {
                Err(Rejected::Duplicate)
            }
        };
        if let Ok(i) = self.ooo.binary_search_by(|s| s.t.cmp(&t)) {
            return same(self.ooo[i].v);
        }
        // Decoding failure of our own chunk would be a bug; treat it as "not present".
        if let Ok(Some(old)) = self.in_order_value_at(t) {
            return same(old);
        }
        if maxt.saturating_sub(t) > ooo_window {
            return Err(Rejected::OutOfOrder);
        }
        Ok(Some(Appended::Stored { new_chunk: false }))
    }

    /// Appends with the store's rules: newer than the newest goes to the open chunk; an equal
    /// timestamp is a duplicate unless the value is bit-identical; older goes to the
    /// out-of-order buffer if within `ooo_window`.
    pub(crate) fn append(
        &mut self,
        t: i64,
        v: f64,
        ooo_window: i64,
        chunk_range: i64,
        files: &ChunkFiles,
    ) -> Result<Appended, Rejected> {
        match self.classify(t, v, ooo_window)? {
            None => {}
            Some(Appended::Ignored) => return Ok(Appended::Ignored),
            Some(stored) => {
                let i = self.ooo.partition_point(|s| s.t < t);
                self.ooo.insert(i, Sample { t, v });
                return Ok(stored);
            }
        }
        let cut = match &self.open {
            None => true,
            Some(c) => {
                c.num_samples() >= SAMPLES_PER_CHUNK || t.saturating_sub(c.mint()) >= chunk_range
            }
        };
        if cut {
            self.close_open_chunk(files);
            self.open = Some(XorChunk::new());
        }
        if let Some(c) = self.open.as_mut() {
            c.append(t, v);
        }
        // Keep the invariant that the out-of-order buffer never shares a timestamp with the
        // chunks (an equal one was handled by `classify`; this drops a stale copy if any).
        if let Ok(i) = self.ooo.binary_search_by(|s| s.t.cmp(&t)) {
            self.ooo.remove(i);
        }
        Ok(Appended::Stored { new_chunk: cut })
    }

    fn close_open_chunk(&mut self, files: &ChunkFiles) {
        if let Some(c) = self.open.take()
            && c.num_samples() > 0
        {
            let stored = files.store(c.bytes());
            // One more slot at a time: a chunk closes every half hour or so per series, and a
            // doubling vector would hold a quarter of its slots empty on average.
            self.frozen.reserve_exact(1);
            self.frozen.push(FrozenChunk {
                segment: stored.segment,
                offset: stored.offset,
                len: stored.len,
                n: c.num_samples() as u16,
                mint: c.mint(),
                maxt: c.maxt(),
            });
        }
    }

    /// Samples in `[mint, maxt]`, sorted by time.
    pub(crate) fn samples(&self, mint: i64, maxt: i64) -> Result<Vec<Sample>, ChunkError> {
        let overlaps = |lo: i64, hi: i64| hi >= mint && lo <= maxt;
        let open = self
            .open
            .as_ref()
            .filter(|c| c.num_samples() > 0 && overlaps(c.mint(), c.maxt()));
        // Sized once: decoding chunk after chunk into a growing vector reallocates and copies.
        let cap = self
            .frozen
            .iter()
            .filter(|c| overlaps(c.mint, c.maxt))
            .map(|c| c.n as usize)
            .sum::<usize>()
            + open.map_or(0, |c| c.num_samples());
        let mut buf = Vec::with_capacity(cap);
        for c in &self.frozen {
            if overlaps(c.mint, c.maxt) {
                decode_xor(c.bytes(), c.n as usize, &mut buf)?;
            }
        }
        if let Some(c) = open {
            c.decode_into(&mut buf)?;
        }
        // In-order chunks are sorted: only the edge chunks can hold samples outside the range.
        let lo = buf.partition_point(|s: &Sample| s.t < mint);
        let hi = buf.partition_point(|s: &Sample| s.t <= maxt);
        buf.truncate(hi);
        if lo > 0 {
            buf.drain(..lo);
        }
        if self.ooo.is_empty() {
            return Ok(buf);
        }
        let ooo = self.ooo.iter().filter(|s| s.t >= mint && s.t <= maxt);
        let mut merged: Vec<Sample> = buf.into_iter().chain(ooo.copied()).collect();
        merged.sort_by_key(|s| s.t);
        Ok(merged)
    }

    /// Drops data older than `before`; returns how many chunks were dropped. Chunks spanning
    /// `before` stay (readers filter by the head's minimum time).
    pub(crate) fn truncate_before(&mut self, before: i64) -> usize {
        let n = self.frozen.len();
        self.frozen.retain(|c| c.maxt >= before);
        let mut dropped = n - self.frozen.len();
        if dropped > 0 {
            self.frozen.shrink_to_fit();
        }
        if let Some(c) = &self.open
            && c.num_samples() > 0
            && c.maxt() < before
        {
            self.open = None;
            dropped += 1;
        }
        self.ooo.retain(|s| s.t >= before);
        if self.ooo.is_empty() {
            // Out-of-order bursts are rare: give their buffer back.
            self.ooo = Vec::new();
        }
        dropped
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.frozen
            .iter()
            .map(|c| {
                let heap = if c.segment.is_heap() {
                    c.bytes().len()
                } else {
                    0
                };
                heap + std::mem::size_of::<FrozenChunk>()
            })
            .sum::<usize>()
            + self.open.as_ref().map_or(0, |c| c.heap_bytes())
            + self.ooo.capacity() * std::mem::size_of::<Sample>()
    }
}

/// One series of the head.
pub(crate) struct MemSeries {
    pub(crate) id: u64,
    pub(crate) hash: u64,
    pub(crate) labels: Box<[(Arc<str>, Arc<str>)]>,
    pub(crate) data: Mutex<SeriesData>,
    /// Set when garbage collection dropped the series from the head; an appender still holding
    /// it must resolve its labels again. Written and read under the store's commit lock.
    pub(crate) removed: std::sync::atomic::AtomicBool,
}

impl MemSeries {
    pub(crate) fn labels_eq(&self, l: &Labels) -> bool {
        self.labels.len() == l.len()
            && self
                .labels
                .iter()
                .zip(l.iter())
                .all(|((n, v), x)| **n == *x.name && **v == *x.value)
    }

    /// [`MemSeries::labels_eq`] for pairs sorted by name.
    pub(crate) fn pairs_eq(&self, pairs: &[(&str, &str)]) -> bool {
        self.labels.len() == pairs.len()
            && self
                .labels
                .iter()
                .zip(pairs)
                .all(|((n, v), (pn, pv))| **n == **pn && **v == **pv)
    }

    pub(crate) fn labels(&self) -> Labels {
        Labels::from_sorted(
            self.labels
                .iter()
                .map(|(n, v)| Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
        )
    }
}

#[derive(Default)]
struct HashShard {
    by_hash: U64Map<Arc<MemSeries>>,
    /// Series whose hash collides with another's: rare, scanned linearly.
    collisions: Vec<Arc<MemSeries>>,
}

/// The in-memory series of the store, indexed by label hash, by id and by postings.
pub(crate) struct Head {
    hash_shards: Vec<RwLock<HashShard>>,
    id_shards: Vec<RwLock<U64Map<Arc<MemSeries>>>>,
    pub(crate) postings: MemPostings,
    /// Where closed chunks go.
    pub(crate) chunk_files: ChunkFiles,
    symbols: SymbolTable,
    next_id: AtomicU64,
    num_series: AtomicUsize,
    /// Samples older than this are in blocks; the head refuses and hides them.
    pub(crate) min_valid_time: AtomicI64,
    /// Lower bound of the head's sample times (`i64::MAX` when empty).
    pub(crate) min_time: AtomicI64,
    /// Newest sample time in the head (`i64::MIN` when empty).
    pub(crate) max_time: AtomicI64,
    pub(crate) samples_appended: AtomicU64,
    pub(crate) chunks_created: AtomicU64,
    pub(crate) chunks_removed: AtomicU64,
}

impl Head {
    pub(crate) fn new(chunk_files: ChunkFiles) -> Self {
        Head {
            hash_shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            id_shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            postings: MemPostings::default(),
            chunk_files,
            symbols: SymbolTable::default(),
            next_id: AtomicU64::new(1),
            num_series: AtomicUsize::new(0),
            min_valid_time: AtomicI64::new(i64::MIN),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            samples_appended: AtomicU64::new(0),
            chunks_created: AtomicU64::new(0),
            chunks_removed: AtomicU64::new(0),
        }
    }

    pub(crate) fn num_series(&self) -> usize {
        self.num_series.load(Ordering::Relaxed)
    }

    pub(crate) fn num_symbols(&self) -> usize {
        self.symbols.len()
    }

    /// The series with these labels, without allocating.
    pub(crate) fn get(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        let shard = self.hash_shards[(hash as usize) % SHARDS].read();
        if let Some(s) = shard.by_hash.get(&hash)
            && s.labels_eq(labels)
        {
            return Some(s.clone());
        }
        shard
            .collisions
            .iter()
            .find(|s| s.hash == hash && s.labels_eq(labels))
            .cloned()
    }

    /// [`Head::get`] for a label set given as sorted pairs, `hash` being its [`hash_pairs`].
    pub(crate) fn get_by_pairs(&self, hash: u64, pairs: &[(&str, &str)]) -> Option<Arc<MemSeries>> {
        let shard = self.hash_shards[(hash as usize) % SHARDS].read();
        if let Some(s) = shard.by_hash.get(&hash)
            && s.pairs_eq(pairs)
        {
            return Some(s.clone());
        }
        shard
            .collisions
            .iter()
            .find(|s| s.hash == hash && s.pairs_eq(pairs))
            .cloned()
    }

    pub(crate) fn by_id(&self, id: u64) -> Option<Arc<MemSeries>> {
        self.id_shards[(id as usize) % SHARDS]
            .read()
            .get(&id)
            .cloned()
    }

    /// Reserves the next series id.
    pub(crate) fn allocate_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Inserts a series under a known id (from [`Head::allocate_id`] or the WAL). Callers
    /// serialize creation (the commit lock), so no two series with equal labels are inserted.
    pub(crate) fn insert(&self, id: u64, hash: u64, labels: &Labels) -> Arc<MemSeries> {
        self.next_id.fetch_max(id + 1, Ordering::Relaxed);
        let pairs: Box<[(Arc<str>, Arc<str>)]> = labels
            .iter()
            .map(|l| (self.symbols.intern(&l.name), self.symbols.intern(&l.value)))
            .collect();
        let s = Arc::new(MemSeries {
            id,
            hash,
            labels: pairs,
            data: Mutex::new(SeriesData::default()),
            removed: std::sync::atomic::AtomicBool::new(false),
        });
        {
            let mut guard = self.hash_shards[(hash as usize) % SHARDS].write();
            let shard = &mut *guard;
            match shard.by_hash.entry(hash) {
                std::collections::hash_map::Entry::Occupied(_) => shard.collisions.push(s.clone()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(s.clone());
                }
            }
        }
        self.id_shards[(id as usize) % SHARDS]
            .write()
            .insert(id, s.clone());
        self.postings.add(id, &s.labels);
        self.num_series.fetch_add(1, Ordering::Relaxed);
        s
    }

    /// Every series, in no particular order.
    pub(crate) fn all_series(&self) -> Vec<Arc<MemSeries>> {
        let mut out = Vec::with_capacity(self.num_series());
        for shard in &self.id_shards {
            out.extend(shard.read().values().cloned());
        }
        out
    }

    /// Drops data older than `before` and the series left without data; returns the ids of
    /// removed series. Callers hold the store's commit lock, so no commit is between resolving
    /// its series and writing them to the WAL.
    pub(crate) fn truncate(&self, before: i64) -> Vec<u64> {
        self.min_valid_time.fetch_max(before, Ordering::AcqRel);
        let mut removed = Vec::new();
        let mut new_min = i64::MAX;
        for s in self.all_series() {
            let empty = {
                let mut d = s.data.lock();
                let n = d.truncate_before(before);
                self.chunks_removed.fetch_add(n as u64, Ordering::Relaxed);
                // Chunks spanning the cut still hold older samples; they no longer count.
                if !d.is_empty() {
                    new_min = new_min.min(d.mint().max(before));
                }
                d.is_empty()
            };
            // A series referenced elsewhere (an appender holds it) is kept for a later pass.
            if empty && Arc::strong_count(&s) <= 3 {
                self.remove(&s);
                removed.push(s.id);
            }
        }
        self.min_time.store(new_min, Ordering::Release);
        self.symbols.purge_unused();
        removed
    }

    pub(crate) fn remove(&self, s: &Arc<MemSeries>) {
        s.removed.store(true, Ordering::Release);
        {
            let mut shard = self.hash_shards[(s.hash as usize) % SHARDS].write();
            if shard.by_hash.get(&s.hash).is_some_and(|x| x.id == s.id) {
                shard.by_hash.remove(&s.hash);
                // Promote a colliding series into the primary map.
                if let Some(i) = shard.collisions.iter().position(|x| x.hash == s.hash) {
                    let c = shard.collisions.swap_remove(i);
                    shard.by_hash.insert(c.hash, c);
                }
            } else {
                shard.collisions.retain(|x| x.id != s.id);
            }
        }
        self.id_shards[(s.id as usize) % SHARDS]
            .write()
            .remove(&s.id);
        self.postings.delete(s.id, &s.labels);
        self.num_series.fetch_sub(1, Ordering::Relaxed);
    }

    /// Adds a sample to a series with the store's out-of-order and duplicate rules, refusing
    /// samples before the minimum valid time.
    pub(crate) fn apply_sample(
        &self,
        s: &MemSeries,
        t: i64,
        v: f64,
        opts: &crate::DbOptions,
    ) -> Result<Appended, Rejected> {
        if t < self.min_valid_time.load(Ordering::Acquire) {
            return Err(Rejected::OutOfOrder);
        }
        let r = s.data.lock().append(
            t,
            v,
            opts.out_of_order_window_ms,
            opts.block_range_ms,
            &self.chunk_files,
        );
        if let Ok(Appended::Stored { new_chunk }) = r {
            self.min_time.fetch_min(t, Ordering::AcqRel);
            self.max_time.fetch_max(t, Ordering::AcqRel);
            self.samples_appended.fetch_add(1, Ordering::Relaxed);
            if new_chunk {
                self.chunks_created.fetch_add(1, Ordering::Relaxed);
            }
        }
        r
    }

    /// Approximate heap bytes of series, chunks and index.
    pub(crate) fn heap_bytes(&self) -> usize {
        let per_series_fixed = std::mem::size_of::<MemSeries>() + 64;
        let series: usize = self
            .all_series()
            .iter()
            .map(|s| per_series_fixed + s.labels.len() * 32 + s.data.lock().heap_bytes())
            .sum();
        series + self.postings.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_hash_of_labels_and_of_pairs_agree_and_separate_fields() {
        let l = Labels::from_pairs([("job", "api"), ("__name__", "http_requests_total")]);
        let pairs = [("__name__", "http_requests_total"), ("job", "api")];
        assert_eq!(series_hash(&l), hash_pairs(pairs));
        assert_ne!(hash_pairs([("ab", "c")]), hash_pairs([("a", "bc")]));
        assert_ne!(
            hash_pairs([("a", "12345678")]),
            hash_pairs([("a", "12345679")])
        );
        assert_ne!(hash_pairs([("a", "")]), hash_pairs([]));
    }

    const RANGE: i64 = 2 * 3600 * 1000;

    #[test]
    fn append_rules() {
        let mut d = SeriesData::default();
        let files = ChunkFiles::in_memory();
        assert_eq!(
            d.append(10, 1.0, 0, RANGE, &files),
            Ok(Appended::Stored { new_chunk: true })
        );
        assert_eq!(
            d.append(20, 2.0, 0, RANGE, &files),
            Ok(Appended::Stored { new_chunk: false })
        );
        assert_eq!(d.append(20, 2.0, 0, RANGE, &files), Ok(Appended::Ignored));
        assert_eq!(
            d.append(20, 3.0, 0, RANGE, &files),
            Err(Rejected::Duplicate)
        );
        assert_eq!(d.append(10, 1.0, 0, RANGE, &files), Ok(Appended::Ignored));
        assert_eq!(
            d.append(15, 1.0, 0, RANGE, &files),
            Err(Rejected::OutOfOrder)
        );
        assert_eq!(
            d.append(15, 1.5, 5, RANGE, &files),
            Ok(Appended::Stored { new_chunk: false })
        );
        assert_eq!(
            d.append(15, 9.0, 5, RANGE, &files),
            Err(Rejected::Duplicate)
        );
        assert_eq!(
            d.append(14, 1.0, 5, RANGE, &files),
            Err(Rejected::OutOfOrder)
        );
        let got: Vec<i64> = d.samples(0, 100).unwrap().iter().map(|s| s.t).collect();
        assert_eq!(got, vec![10, 15, 20]);
        assert_eq!((d.mint(), d.maxt()), (10, 20));
    }

    #[test]
    fn chunks_cut_by_count_and_range_and_truncate() {
        let mut d = SeriesData::default();
        let files = ChunkFiles::in_memory();
        for i in 0..250 {
            d.append(i * 1000, i as f64, 0, RANGE, &files).unwrap();
        }
        assert_eq!(d.frozen.len(), 2);
        d.append(RANGE * 2, 0.0, 0, RANGE, &files).unwrap();
        assert_eq!(d.frozen.len(), 3);
        assert_eq!(d.samples(0, i64::MAX).unwrap().len(), 251);
        assert_eq!(d.truncate_before(240_000), 2);
        assert_eq!(d.samples(0, i64::MAX).unwrap()[0].t, 240_000);
    }

    #[test]
    fn samples_are_trimmed_to_the_range_across_chunks() {
        let mut d = SeriesData::default();
        let files = ChunkFiles::in_memory();
        for i in 0..250 {
            d.append(i * 1000, i as f64, 0, RANGE, &files).unwrap();
        }
        // From inside the first frozen chunk to inside the open one, bounds inclusive.
        let got = d.samples(100_000, 245_000).unwrap();
        assert_eq!(got.len(), 146);
        assert_eq!((got[0].t, got[145].t), (100_000, 245_000));
        assert!(got.windows(2).all(|w| w[1].t == w[0].t + 1000));
        // Between two samples: nothing.
        assert!(d.samples(1_500, 1_900).unwrap().is_empty());
    }

    #[test]
    fn head_lookup_insert_remove() {
        let h = Head::new(ChunkFiles::in_memory());
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let hash = series_hash(&l);
        assert!(h.get(hash, &l).is_none());
        let id = h.allocate_id();
        let s = h.insert(id, hash, &l);
        assert_eq!(h.get(hash, &l).unwrap().id, id);
        assert_eq!(s.labels(), l);
        // A different label set forced onto the same hash lands in the collision list.
        let other = Labels::from_pairs([("__name__", "up"), ("job", "b")]);
        let s2 = h.insert(h.allocate_id(), hash, &other);
        assert_eq!(h.get(hash, &other).unwrap().id, s2.id);
        drop((s, s2));
        assert_eq!(h.truncate(0).len(), 2);
        assert_eq!(h.num_series(), 0);
        assert!(h.get(hash, &l).is_none());
    }
}
