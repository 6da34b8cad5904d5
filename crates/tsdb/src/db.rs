//! The store: opening a data dir, replaying the WAL, and the trait implementations.

use crate::block::Block;
use crate::exemplars::ExemplarRing;
use crate::head::{Appended, Head, MemSeries, Rejected};
use crate::head_append::HeadAppender;
use crate::head_chunks::ChunkFiles;
use crate::head_wal::{self, WalRecord};
use crate::interface::*;
use crate::metadata::MetadataStore;
use crate::querier::DbQuerier;
use model::time::{Clock, SystemClock};
use model::{Matcher, Metadata};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;
use storage::{DirLock, FsyncPolicy, StorageIoError, Wal, WalOptions};

/// Two hours: Prometheus' block range and chunk range.
pub const DEFAULT_BLOCK_RANGE_MS: i64 = 2 * 3600 * 1000;

/// Settings of a [`Db`].
#[derive(Clone)]
pub struct DbOptions {
    /// WAL segment size in bytes.
    pub wal_segment_size: u64,
    /// When commits fsync (see `docs/format/wal.md`).
    pub fsync: FsyncPolicy,
    /// How far behind a series' newest sample a sample may be and still be accepted; 0 rejects
    /// every out-of-order sample, as Prometheus does by default.
    pub out_of_order_window_ms: i64,
    /// How far ahead of now a timestamp may be.
    pub max_future_ms: i64,
    /// Most series in the head.
    pub max_series: usize,
    /// Most new series one append batch may create.
    pub max_series_per_batch: usize,
    /// Capacity of the exemplar buffer.
    pub max_exemplars: usize,
    /// Most metric families with metadata.
    pub max_metadata_families: usize,
    /// Chunk range of the head and time range of a freshly cut block.
    pub block_range_ms: i64,
    /// Blocks entirely older than this (relative to the newest data) are deleted; 0 keeps all.
    pub retention_ms: i64,
    /// Oldest blocks are deleted while blocks take more bytes than this; 0 means no limit.
    pub retention_bytes: u64,
    /// How often the background thread cuts blocks, merges them and applies retention.
    pub maintenance_interval: Duration,
    /// Source of "now", for the future-timestamp check.
    pub clock: Arc<dyn Clock>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            wal_segment_size: 64 << 20,
            fsync: FsyncPolicy::default(),
            out_of_order_window_ms: 0,
            max_future_ms: 10 * 60 * 1000,
            max_series: 5_000_000,
            max_series_per_batch: 1_000_000,
            max_exemplars: 100_000,
            max_metadata_families: 100_000,
            block_range_ms: DEFAULT_BLOCK_RANGE_MS,
            retention_ms: 15 * 24 * 3600 * 1000,
            retention_bytes: 0,
            maintenance_interval: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("wal_segment_size", &self.wal_segment_size)
            .field("fsync", &self.fsync)
            .field("out_of_order_window_ms", &self.out_of_order_window_ms)
            .field("max_future_ms", &self.max_future_ms)
            .field("max_series", &self.max_series)
            .field("max_series_per_batch", &self.max_series_per_batch)
            .field("max_exemplars", &self.max_exemplars)
            .field("block_range_ms", &self.block_range_ms)
            .field("retention_ms", &self.retention_ms)
            .field("retention_bytes", &self.retention_bytes)
            .field("maintenance_interval", &self.maintenance_interval)
            .finish_non_exhaustive()
    }
}

/// Why the store could not be opened or maintained.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] StorageIoError),
    /// Stored data did not decode.
    #[error("corrupt data in {location}: {reason}")]
    Corrupt {
        /// File or block.
        location: String,
        /// What did not decode.
        reason: String,
    },
    /// The options are inconsistent.
    #[error("invalid tsdb option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Numbers for the status page and self-metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbStats {
    /// Series in the head.
    pub num_series: usize,
    /// Samples stored since the process started (including WAL replay).
    pub samples_appended: u64,
    /// Chunks in the head.
    pub head_chunks: u64,
    /// Estimated heap bytes of the head (series, chunks, postings).
    pub head_bytes: usize,
    /// Bytes of the head chunk files (closed head chunks, read through a mapping: page cache,
    /// not heap).
    pub head_chunk_file_bytes: u64,
    /// Distinct interned label strings.
    pub symbols: usize,
    /// Bytes of WAL segments on disk.
    pub wal_bytes: u64,
    /// Exemplars held.
    pub exemplars: usize,
    /// Metric families with metadata.
    pub metadata_families: usize,
    /// Persisted blocks.
    pub blocks: usize,
    /// Bytes of the blocks on disk.
    pub block_bytes: u64,
    /// Samples in the blocks.
    pub block_samples: u64,
    /// Oldest timestamp held (blocks or head), `None` when empty.
    pub min_time: Option<i64>,
    /// Newest timestamp held, `None` when empty.
    pub max_time: Option<i64>,
}

/// Folder of the head chunk files (see `head_chunks.rs`), under the data folder.
pub(crate) const HEAD_CHUNKS_DIR: &str = "chunks_head";

/// State guarded by the commit lock.
#[derive(Default)]
pub(crate) struct CommitState {
    /// Reusable encode buffer.
    pub(crate) buf: Vec<u8>,
    next_ticket: u64,
}

impl CommitState {
    /// The apply ticket of a batch just written to the WAL.
    pub(crate) fn take_ticket(&mut self) -> u64 {
        let t = self.next_ticket;
        self.next_ticket += 1;
        t
    }
}

/// A commit's turn to apply; the next ticket's turn comes when it is dropped.
pub(crate) struct ApplyTurn<'a> {
    db: &'a DbInner,
}

impl Drop for ApplyTurn<'_> {
    fn drop(&mut self) {
        *self.db.apply_turn.lock() += 1;
        self.db.apply_cv.notify_all();
    }
}

/// Shared state of an open store.
pub(crate) struct DbInner {
    pub(crate) dir: PathBuf,
    pub(crate) opts: DbOptions,
    pub(crate) head: Head,
    pub(crate) wal: Wal,
    /// Serializes series creation with the WAL write and hands out apply tickets.
    pub(crate) commit_lock: Mutex<CommitState>,
    /// The ticket whose commit may apply next: commits apply in WAL order, so a restart
    /// (which replays in WAL order) rebuilds exactly the same head.
    apply_turn: Mutex<u64>,
    apply_cv: Condvar,
    pub(crate) exemplars: Mutex<ExemplarRing>,
    pub(crate) metadata: Mutex<MetadataStore>,
    /// Persisted blocks, sorted by time.
    pub(crate) blocks: RwLock<Vec<Arc<Block>>>,
    /// One maintenance pass at a time.
    maintenance: Mutex<()>,
    _lock: DirLock,
}

impl DbInner {
    pub(crate) fn now_ms(&self) -> i64 {
        self.opts.clock.now_ms()
    }

    /// Adds a sample to a series with the out-of-order and duplicate rules.
    pub(crate) fn apply_sample(&self, s: &MemSeries, t: i64, v: f64) -> Result<Appended, Rejected> {
        self.head.apply_sample(s, t, v, &self.opts)
    }

    pub(crate) fn blocks_dir(&self) -> PathBuf {
        self.dir.join("blocks")
    }

    pub(crate) fn add_block(&self, b: Arc<Block>) {
        let mut blocks = self.blocks.write();
        blocks.push(b);
        blocks.sort_by_key(|b| (b.meta.mint, b.meta.maxt));
    }

    /// Swaps merged sources for their merge and deletes the sources' directories.
    pub(crate) fn replace_blocks(&self, old: &[Arc<Block>], new: Arc<Block>) {
        {
            let mut blocks = self.blocks.write();
            blocks.retain(|b| !old.iter().any(|o| Arc::ptr_eq(o, b)));
            blocks.push(new);
            blocks.sort_by_key(|b| (b.meta.mint, b.meta.maxt));
        }
        for b in old {
            if let Err(e) = delete_block_dir(&b.dir) {
                tracing::warn!(error = %e, "removing merged block");
            }
        }
    }

    /// Drops blocks from the store and deletes their directories.
    pub(crate) fn remove_blocks(&self, doomed: &[Arc<Block>]) -> Result<(), DbError> {
        self.blocks
            .write()
            .retain(|b| !doomed.iter().any(|o| Arc::ptr_eq(o, b)));
        for b in doomed {
            delete_block_dir(&b.dir)?;
        }
        Ok(())
    }

    /// Holds off maintenance (block cuts, merges, retention) while the guard lives.
    pub(crate) fn maintenance_guard(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.maintenance.lock()
    }

    /// Cuts head blocks while the head is long enough, merges blocks, applies retention.
    pub(crate) fn maintain(&self) -> Result<(), DbError> {
        let _g = self.maintenance.lock();
        while crate::compact::cut_head(self)? {}
        while crate::compact::merge_blocks(self)? {}
        crate::retention::apply(self)?;
        Ok(())
    }

    /// Waits until every batch written to the WAL before `ticket` has been applied.
    pub(crate) fn wait_turn(&self, ticket: u64) -> ApplyTurn<'_> {
        let mut next = self.apply_turn.lock();
        while *next != ticket {
            self.apply_cv.wait(&mut next);
        }
        ApplyTurn { db: self }
    }

    /// Waits for the durability the fsync policy promises for WAL write `seq`.
    pub(crate) fn sync_wal(&self, seq: u64) -> Result<(), StorageIoError> {
        match self.opts.fsync {
            FsyncPolicy::Always => self.wal.sync_to(seq),
            FsyncPolicy::Batch(_) => self.wal.sync_if_due(),
        }
    }
}

/// The parts of the store the WAL is replayed into.
struct ReplayTarget<'a> {
    head: &'a Head,
    exemplars: &'a Mutex<ExemplarRing>,
    metadata: &'a Mutex<MetadataStore>,
    opts: &'a DbOptions,
}

impl ReplayTarget<'_> {
    /// Reads the newest checkpoint, then the segments after it, applying every record with
    /// the same rules as a live commit.
    fn replay_wal(&self, wal_dir: &Path) -> Result<(), DbError> {
        // WAL ids of series whose labels were already known under another id.
        let mut alias: HashMap<u64, u64> = HashMap::new();
        let mut unknown_refs = 0u64;
        let mut undecodable = 0u64;
        let mut apply = |rtype: u8, payload: &[u8]| -> Result<(), String> {
            // A record that passed its checksum but does not decode (e.g. written by a newer
            // version) is skipped rather than making the store unopenable.
            let Ok(rec) = head_wal::decode(rtype, payload) else {
                undecodable += 1;
                return Ok(());
            };
            match rec {
                WalRecord::Series(v) => {
                    for (id, labels) in v {
                        let hash = crate::head::series_hash(&labels);
                        match self.head.get(hash, &labels) {
                            Some(s) if s.id != id => {
                                alias.insert(id, s.id);
                            }
                            Some(_) => {}
                            None => {
                                self.head.insert(id, hash, &labels);
                            }
                        }
                    }
                }
                WalRecord::Samples(v) => {
                    for (id, t, val) in v {
                        let id = alias.get(&id).copied().unwrap_or(id);
                        match self.head.by_id(id) {
                            Some(s) => {
                                let _ = self.head.apply_sample(&s, t, val, self.opts);
                            }
                            None => unknown_refs += 1,
                        }
                    }
                }
                WalRecord::Exemplars(v) => {
                    let mut ring = self.exemplars.lock();
                    for (id, e) in v {
                        let id = alias.get(&id).copied().unwrap_or(id);
                        if let Some(s) = self.head.by_id(id) {
                            ring.add(&s, e);
                        }
                    }
                }
                WalRecord::Metadata(v) => {
                    let mut m = self.metadata.lock();
                    for (name, meta) in &v {
                        m.add(name, meta);
                    }
                }
                WalRecord::MinValidTime(t) => {
                    self.head.min_valid_time.fetch_max(t, Ordering::AcqRel);
                }
            }
            Ok(())
        };
        let (checkpoint, first_segment) = crate::checkpoint::latest(wal_dir)?;
        // Leftovers of a crash during a checkpoint: older checkpoints and temporaries.
        crate::checkpoint::remove_older_than(wal_dir, first_segment)?;
        if let Some(path) = &checkpoint {
            let rep = storage::read_records_file(path, &mut apply)?;
            if let Some(torn) = rep.torn {
                return Err(DbError::Corrupt {
                    location: path.display().to_string(),
                    reason: torn.to_string(),
                });
            }
        }
        let rep = storage::replay(wal_dir, first_segment, &mut apply)?;
        if let Some(torn) = &rep.torn {
            tracing::warn!(%torn, "metrics WAL had a damaged tail; data after it was dropped");
        }
        if undecodable > 0 {
            tracing::warn!(undecodable, "skipped WAL records that did not decode");
        }
        if unknown_refs > 0 {
            tracing::warn!(unknown_refs, "WAL samples referenced unknown series");
        }
        tracing::info!(
            records = rep.records,
            segments = rep.segments,
            series = self.head.num_series(),
            "metrics WAL replayed"
        );
        Ok(())
    }
}

/// A persistent metrics store in one data directory: head + WAL (see the crate docs).
pub struct Db {
    inner: Arc<DbInner>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    background: Option<JoinHandle<()>>,
}

impl Db {
    /// Opens (or creates) the store in `dir`: takes the data-dir lock, replays the WAL, and
    /// starts the background fsync timer of the batch policy.
    pub fn open(dir: &Path, opts: DbOptions) -> Result<Db, DbError> {
        if opts.block_range_ms <= 0 {
            return Err(DbError::InvalidOption {
                name: "block_range_ms",
                reason: format!("must be positive, got {}", opts.block_range_ms),
            });
        }
        if opts.out_of_order_window_ms < 0 {
            return Err(DbError::InvalidOption {
                name: "out_of_order_window_ms",
                reason: format!("must not be negative, got {}", opts.out_of_order_window_ms),
            });
        }
        let lock = DirLock::acquire(dir)?;
        let wal_dir = dir.join("wal");
        std::fs::create_dir_all(&wal_dir)
            .map_err(|e| StorageIoError::io("create dir", &wal_dir, e))?;
        let blocks = load_blocks(&dir.join("blocks"))?;
        let head = Head::new(ChunkFiles::open(&dir.join(HEAD_CHUNKS_DIR))?);
        if let Some(maxt) = blocks.iter().map(|b| b.meta.maxt).max() {
            head.min_valid_time
                .store(maxt.saturating_add(1), Ordering::Release);
        }
        let exemplars = Mutex::new(ExemplarRing::new(opts.max_exemplars));
        let metadata = Mutex::new(MetadataStore::new(opts.max_metadata_families));
        ReplayTarget {
            head: &head,
            exemplars: &exemplars,
            metadata: &metadata,
            opts: &opts,
        }
        .replay_wal(&wal_dir)?;
        // Opened after replay: it starts a fresh segment, and replay may repair old ones.
        let wal = Wal::open(
            &wal_dir,
            WalOptions {
                segment_size: opts.wal_segment_size,
                fsync: opts.fsync,
            },
        )?;
        let inner = Arc::new(DbInner {
            dir: dir.to_path_buf(),
            head,
            wal,
            commit_lock: Mutex::new(CommitState::default()),
            apply_turn: Mutex::new(0),
            apply_cv: Condvar::new(),
            exemplars,
            metadata,
            blocks: RwLock::new(blocks),
            maintenance: Mutex::new(()),
            opts,
            _lock: lock,
        });
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let tick = match inner.opts.fsync {
            FsyncPolicy::Batch(every) => every.min(inner.opts.maintenance_interval),
            FsyncPolicy::Always => inner.opts.maintenance_interval,
        };
        let background = Some(spawn_background(&inner, &stop, tick)?);
        Ok(Db {
            inner,
            stop,
            background,
        })
    }

    #[cfg(test)]
    pub(crate) fn inner(&self) -> &DbInner {
        &self.inner
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs maintenance now: cuts head blocks, merges blocks, applies retention (the
    /// background thread does this every `maintenance_interval`).
    pub fn maintain(&self) -> Result<(), DbError> {
        self.inner.maintain()
    }

    /// Writes a snapshot into `dir` (which must not exist): the blocks hard-linked and, with
    /// `with_head`, the head's samples written as blocks. The snapshot opens as a store of its
    /// own (see `snapshot.rs`).
    pub fn snapshot(&self, dir: &Path, with_head: bool) -> Result<(), DbError> {
        crate::snapshot::snapshot(&self.inner, dir, with_head)
    }

    /// Fsyncs the WAL now.
    pub fn sync(&self) -> Result<(), DbError> {
        Ok(self.inner.wal.sync()?)
    }

    /// Current numbers.
    pub fn stats(&self) -> DbStats {
        let h = &self.inner.head;
        let blocks = self.inner.blocks.read().clone();
        DbStats {
            num_series: h.num_series(),
            samples_appended: h.samples_appended.load(Ordering::Relaxed),
            head_chunks: h
                .chunks_created
                .load(Ordering::Relaxed)
                .saturating_sub(h.chunks_removed.load(Ordering::Relaxed)),
            head_bytes: h.heap_bytes(),
            head_chunk_file_bytes: folder_bytes(&self.inner.dir.join(HEAD_CHUNKS_DIR)),
            symbols: h.num_symbols(),
            wal_bytes: self.inner.wal.size_bytes(),
            exemplars: self.inner.exemplars.lock().len(),
            metadata_families: self.inner.metadata.lock().len(),
            blocks: blocks.len(),
            block_bytes: blocks.iter().map(|b| b.size_bytes()).sum(),
            block_samples: blocks.iter().map(|b| b.meta.num_samples).sum(),
            min_time: blocks
                .first()
                .map(|b| b.meta.mint)
                .or(Some(h.min_time.load(Ordering::Relaxed)).filter(|t| *t != i64::MAX)),
            max_time: Some(h.max_time.load(Ordering::Relaxed))
                .filter(|t| *t != i64::MIN)
                .or(blocks.iter().map(|b| b.meta.maxt).max()),
        }
    }
}

/// Total size of the files directly in `dir` (0 if it cannot be read).
fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The background thread: fsync for the batch policy, and maintenance (block cutting,
/// merging, retention) every `maintenance_interval`.
fn spawn_background(
    inner: &Arc<DbInner>,
    stop: &Arc<(Mutex<bool>, Condvar)>,
    tick: Duration,
) -> Result<JoinHandle<()>, DbError> {
    let inner = inner.clone();
    let stop = stop.clone();
    let dir = inner.dir.clone();
    let spawned = std::thread::Builder::new()
        .name("tsdb-background".into())
        .spawn(move || {
            let (flag, cv) = &*stop;
            let mut last_maintenance = std::time::Instant::now();
            let mut stopped = flag.lock();
            while !*stopped {
                cv.wait_for(&mut stopped, tick.max(Duration::from_millis(1)));
                if *stopped {
                    break;
                }
                if let Err(e) = inner.wal.sync_if_due() {
                    tracing::error!(error = %e, "periodic WAL fsync failed");
                }
                if last_maintenance.elapsed() >= inner.opts.maintenance_interval {
                    last_maintenance = std::time::Instant::now();
                    // Maintenance may take a while; let `Drop` in meanwhile.
                    let result =
                        parking_lot::MutexGuard::unlocked(&mut stopped, || inner.maintain());
                    if let Err(e) = result {
                        tracing::error!(error = %e, "tsdb maintenance failed");
                    }
                }
            }
        });
    spawned.map_err(|e| DbError::Io(StorageIoError::io("spawn background thread for", &dir, e)))
}

/// Deletes a block directory so a crash midway cannot leave a half-deleted block that looks
/// like a damaged one: it is first renamed to `<name>.deleting` (removed again at open).
fn delete_block_dir(dir: &Path) -> Result<(), StorageIoError> {
    let mut doomed = dir.as_os_str().to_owned();
    doomed.push(".deleting");
    let doomed = PathBuf::from(doomed);
    std::fs::rename(dir, &doomed).map_err(|e| StorageIoError::io("rename", dir, e))?;
    if let Some(parent) = dir.parent() {
        storage::fsync_dir(parent)?;
    }
    std::fs::remove_dir_all(&doomed).map_err(|e| StorageIoError::io("remove dir", &doomed, e))
}

/// Opens every block under `dir`: removes unfinished (`.tmp`) and half-deleted (`.deleting`)
/// ones and sources already merged into another block; skips (with an error log) blocks that
/// do not open.
fn load_blocks(dir: &Path) -> Result<Vec<Arc<Block>>, DbError> {
    std::fs::create_dir_all(dir).map_err(|e| StorageIoError::io("create dir", dir, e))?;
    let mut blocks = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| StorageIoError::io("read dir", dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| StorageIoError::io("read dir", dir, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path
            .extension()
            .is_some_and(|e| e == "tmp" || e == "deleting")
        {
            std::fs::remove_dir_all(&path)
                .map_err(|e| StorageIoError::io("remove dir", &path, e))?;
            continue;
        }
        match Block::open(&path) {
            Ok(b) => blocks.push(Arc::new(b)),
            Err(e) => tracing::error!(error = %e, "skipping block that does not open"),
        }
    }
    let merged: std::collections::HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.sources.iter().cloned())
        .collect();
    let (stale, mut live): (Vec<_>, Vec<_>) =
        blocks.into_iter().partition(|b| merged.contains(&b.name()));
    for b in stale {
        delete_block_dir(&b.dir)?;
    }
    live.sort_by_key(|b| (b.meta.mint, b.meta.maxt));
    Ok(live)
}

impl Drop for Db {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(h) = self.background.take() {
            let _ = h.join();
        }
        if let Err(e) = self.inner.wal.sync() {
            tracing::error!(error = %e, "WAL fsync at close failed");
        }
    }
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(HeadAppender::new(self.inner.clone()))
    }
}

impl Queryable for Db {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        Ok(Box::new(DbQuerier::new(self.inner.clone(), mint, maxt)))
    }
}

impl Snapshottable for Db {
    fn snapshot(&self, skip_head: bool) -> Result<String, StorageError> {
        let name = crate::snapshot::snapshot_name(self.inner.now_ms());
        let dir = self.inner.dir.join("snapshots").join(&name);
        Db::snapshot(self, &dir, !skip_head).map_err(|e| StorageError::Io(e.to_string()))?;
        Ok(name)
    }
}

impl crate::interface::HeadStatusReadable for Db {
    fn head_status(&self, limit: usize) -> crate::interface::HeadStatus {
        let h = &self.inner.head;
        let stats = self.stats();
        crate::interface::HeadStatus {
            num_series: stats.num_series as u64,
            chunk_count: stats.head_chunks,
            min_time: h.min_time.load(Ordering::Relaxed),
            max_time: h.max_time.load(Ordering::Relaxed),
            samples_appended: stats.samples_appended,
            postings: h.postings.stats(model::METRIC_NAME, limit),
        }
    }
}

impl ExemplarQueryable for Db {
    fn exemplars(
        &self,
        mint: i64,
        maxt: i64,
        matcher_sets: &[Vec<Matcher>],
    ) -> Result<Vec<SeriesExemplars>, StorageError> {
        let ring = self.inner.exemplars.lock();
        let found = ring.query(mint, maxt, |l| {
            matcher_sets.iter().any(|ms| matches_all(l, ms))
        });
        Ok(found
            .into_iter()
            .map(|(labels, exemplars)| SeriesExemplars { labels, exemplars })
            .collect())
    }
}

impl MetadataQueryable for Db {
    fn metadata(&self, metric: Option<&str>, limit: Option<usize>) -> Vec<(String, Vec<Metadata>)> {
        self.inner.metadata.lock().query(metric, limit)
    }
}
