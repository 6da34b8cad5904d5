//! tetrad's metrics storage.
//!
//! The public surface is the seam in [`interface`], shaped like Prometheus'
//! `storage/interface.go`: writers get an [`Appender`] from an [`Appendable`], add samples,
//! exemplars and metadata, then [`Appender::commit`] (durable once it returns) or
//! [`Appender::rollback`]. Readers get a [`Querier`] for a time range from a [`Queryable`] and
//! [`Querier::select`] series by label matchers. Engines (PromQL, rules, the HTTP API) and
//! receivers (scrape, remote_write, OTLP) only ever see these traits.
//!
//! [`mem::MemStorage`] is the simplest complete implementation: a sorted map in memory. It is
//! the reference model the persistent store is checked against, and a backend for engine tests.
//!
//! [`Db`] is the persistent store, laid out like Prometheus' TSDB:
//!
//! - the **head** (`head.rs`) keeps recent samples in memory: series sharded by label hash,
//!   label strings interned once (`symbols.rs`), samples in Gorilla XOR chunks
//!   (`chunkenc/xor.rs`), an in-memory postings index (`index/postings.rs`); closed chunks go
//!   to head chunk files read through a memory mapping (`head_chunks.rs`), so what the heap
//!   holds per series is its labels, its open chunk and 32 bytes per closed chunk;
//! - the **appender** (`head_append.rs`) writes each committed batch to the **WAL**
//!   (`head_wal.rs`, on `storage::Wal`) before making it visible, so acknowledged data survives
//!   a crash; batches become visible in WAL order, so opening the store and replaying the WAL
//!   (after the newest checkpoint, `checkpoint.rs`) rebuilds exactly the same head;
//! - the rules: out-of-order samples are accepted within `out_of_order_window_ms` (default 0:
//!   refused and counted as rejected at commit, as in Prometheus), an equal timestamp with a
//!   bit-identical value is ignored and with another value counted as a duplicate, timestamps
//!   more than `max_future_ms` ahead or behind what the store still accepts (blocks, or more
//!   than half a block range behind the head) are refused at `append`; `max_series` and
//!   `max_series_per_batch` bound series creation;
//! - **exemplars** live in one circular buffer (`exemplars.rs`), metadata in a bounded map
//!   (`metadata.rs`); reads go through `querier.rs`, which merges the head and the blocks;
//! - when the head spans 1.5 block ranges its oldest range is cut into an immutable **block**
//!   (`block.rs`: a dense per-series encoding, `chunkenc/dense.rs`, packed in zstd-compressed
//!   groups, about 1–1.5 bytes a sample; a compressed index kept in memory while open), the WAL is checkpointed (`checkpoint.rs`), adjacent blocks are merged into
//!   6 h and 24 h blocks (`compact.rs`) and old blocks deleted by age or total size
//!   (`retention.rs`). A background thread does this and the batch-policy fsync.
//! - [`Db::snapshot`] (`snapshot.rs`) writes a copy that opens as a store: blocks hard-linked,
//!   the head written as blocks.
//!
//! Durability: a commit returns after the batch is written to the WAL (so `kill -9` loses
//! nothing acknowledged); with `FsyncPolicy::Always` after an fsync too; with the default
//! `FsyncPolicy::Batch(100 ms)` an OS crash or power loss can lose the last 100 ms of commits.
//!
//! On-disk formats are documented in `docs/format/wal.md`, `docs/format/tsdb-block.md` and
//! `docs/format/head-chunks.md`.

#![warn(missing_docs)]

mod block;
mod checkpoint;
pub mod chunkenc;
mod compact;
mod db;
mod encoding;
mod exemplars;
mod head;
mod head_append;
mod head_chunks;
mod head_wal;
pub mod index;
pub mod interface;
pub mod mem;
mod metadata;
mod querier;
mod retention;
mod snapshot;
mod symbols;

pub use block::{BLOCK_FORMAT_VERSION, BlockMeta};
pub use compact::MERGE_LEVELS;
pub use db::{DEFAULT_BLOCK_RANGE_MS, Db, DbError, DbOptions, DbStats};
pub use exemplars::EXEMPLAR_MAX_LABEL_RUNES;
pub use interface::{
    AppendError, Appendable, Appender, HeadStatus, HeadStatusReadable, Querier, Queryable,
    SampleReader, SelectHints, Series, SeriesIter, Snapshottable, SplitSelect, StorageError,
};
pub use metadata::MAX_METADATA_PER_FAMILY;
pub use storage::FsyncPolicy;
