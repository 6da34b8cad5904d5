//! The traits every metrics store implements and every engine and receiver uses.

use model::{Exemplar, Labels, Matcher, Metadata, Sample};

/// Why an append was refused. Each variant says which rule or limit was hit, so a receiver can
/// report it to its client (HTTP 400 for bad data, 429 for limits).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppendError {
    /// Older than the newest sample of the series by more than the out-of-order window.
    #[error("out of order sample")]
    OutOfOrder,
    /// Older than what the store still accepts at all (before the head's minimum valid time).
    #[error("out of bounds")]
    OutOfBounds,
    /// Same timestamp as a stored sample but a different value.
    #[error("duplicate sample for timestamp")]
    DuplicateSample,
    /// The timestamp is too far in the future.
    #[error("timestamp {t} is too far in the future (more than {max_ahead_ms} ms ahead)")]
    TooFarInFuture {
        /// The timestamp given.
        t: i64,
        /// The allowed lead.
        max_ahead_ms: i64,
    },
    /// The label set is not acceptable (empty, invalid names, missing metric name).
    #[error("invalid labels {labels}: {reason}")]
    InvalidLabels {
        /// The offending labels, formatted.
        labels: String,
        /// What is wrong.
        reason: String,
    },
    /// Creating the series would exceed a series limit.
    #[error("series limit exceeded: {limit_name} is {limit}")]
    SeriesLimit {
        /// The name of the setting that holds the limit, e.g. `max_series`.
        limit_name: &'static str,
        /// Its value.
        limit: usize,
    },
    /// The exemplar is not acceptable.
    #[error("invalid exemplar: {0}")]
    InvalidExemplar(String),
    /// The store failed (I/O); nothing of the batch was committed.
    #[error("storage error: {0}")]
    Storage(String),
}

impl AppendError {
    /// Whether the error is a limit (retryable later, HTTP 429) rather than bad data.
    pub fn is_limit(&self) -> bool {
        matches!(self, AppendError::SeriesLimit { .. })
    }
}

/// A read-side failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StorageError {
    /// Reading stored data failed.
    #[error("storage read error: {0}")]
    Io(String),
    /// Stored data did not decode: corruption, reported with where it was found.
    #[error("corrupt data in {location}: {reason}")]
    Corrupt {
        /// File or block.
        location: String,
        /// What did not decode.
        reason: String,
    },
    /// A query limit was hit in the store.
    #[error("{0}")]
    Limit(String),
}

/// A batch writer. Samples become visible to queries and durable on [`Appender::commit`].
pub trait Appender: Send {
    /// Adds a float sample. Validation that needs no I/O (labels, timestamp) happens here, so a
    /// caller can report per-sample errors and still commit the rest.
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<(), AppendError>;
    /// [`Appender::append`] for a label set given as pairs that are already sorted by name, with
    /// unique names and no empty values (the caller checks this). A store may override it to
    /// find an existing series without building a [`Labels`]: push receivers get one sample per
    /// series per request, so building label sets dominated their cost.
    fn append_sorted_pairs(
        &mut self,
        pairs: &[(&str, &str)],
        t: i64,
        v: f64,
    ) -> Result<(), AppendError> {
        let labels = Labels::from_sorted_pairs(pairs);
        self.append(&labels, t, v)
    }
    /// Adds an exemplar for the series with `labels`.
    fn append_exemplar(&mut self, labels: &Labels, exemplar: &Exemplar) -> Result<(), AppendError>;
    /// Records TYPE/HELP/UNIT for the metric family `metric_name`.
    fn update_metadata(&mut self, metric_name: &str, meta: &Metadata) -> Result<(), AppendError>;
    /// Makes the batch durable and visible. Per-sample rejections (out of order, duplicates)
    /// found at commit are counted, not returned: the rest of the batch still commits.
    fn commit(self: Box<Self>) -> Result<CommitStats, AppendError>;
    /// Drops the batch.
    fn rollback(self: Box<Self>);
}

/// What a commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Samples stored.
    pub samples: usize,
    /// Series created by this batch.
    pub series_created: usize,
    /// Samples dropped as out of order / out of bounds / duplicates.
    pub rejected: usize,
}

pub use CommitStats as AppendStats;

/// Something that hands out appenders.
pub trait Appendable: Send + Sync {
    /// A new batch writer.
    fn appender(&self) -> Box<dyn Appender>;
}

/// Hints from the engine to the store about what a select is for; a store may ignore them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectHints {
    /// Start of the data needed, ms.
    pub start: i64,
    /// End of the data needed, ms.
    pub end: i64,
    /// Query step, ms; 0 for instant queries.
    pub step: i64,
    /// Range of a range selector, ms; 0 for instant selectors.
    pub range: i64,
    /// The function the selector feeds, if any (`rate`, `series` for metadata-only selects).
    pub func: Option<String>,
}

/// One series: its labels and its samples in the querier's time range, sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// Samples in `[mint, maxt]` of the querier, ascending by `t`, without duplicates.
    pub samples: Vec<Sample>,
}

/// Series of a select, in ascending label order, produced lazily so an engine holds one
/// series' raw samples at a time.
pub type SeriesIter<'a> = Box<dyn Iterator<Item = Result<Series, StorageError>> + 'a>;

/// Reads the samples of the series of a [`SplitSelect`] by index, from any thread.
pub trait SampleReader: Send + Sync {
    /// Samples of series `i` in the querier's range, ascending by `t`, without duplicates;
    /// empty when the series has none there (it is then not part of the select's answer).
    fn samples(&self, i: usize) -> Result<Vec<Sample>, StorageError>;
}

/// A select whose series are known up front and whose samples are read on demand, so an
/// engine can decode several series at once on worker threads: series `i` has labels
/// `labels[i]` (ascending, as [`Querier::select`] yields them) and samples
/// `reader.samples(i)`.
pub struct SplitSelect<'a> {
    /// The matching series' labels, ascending; some may turn out to have no samples.
    pub labels: Vec<Labels>,
    /// Reads series' samples by index into `labels`.
    pub reader: Box<dyn SampleReader + 'a>,
}

/// A read view of a time range.
pub trait Querier: Send + Sync {
    /// Series whose labels satisfy every matcher, sorted by labels. At least one matcher must
    /// not match the empty string (as in Prometheus); callers validate that.
    fn select<'a>(&'a self, hints: &SelectHints, matchers: &[Matcher]) -> SeriesIter<'a>;
    /// [`Querier::select`] as a [`SplitSelect`], for stores that can read series in parallel;
    /// `None` (the default) when the store cannot, and the caller then uses `select`. The
    /// series with samples, in order, are exactly those `select` yields.
    fn select_split<'a>(
        &'a self,
        _hints: &SelectHints,
        _matchers: &[Matcher],
    ) -> Option<SplitSelect<'a>> {
        None
    }
    /// Label names of series that satisfy the matchers (all series when empty), sorted.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
    /// Values of `name` among series that satisfy the matchers, sorted.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// Something that can be read.
pub trait Queryable: Send + Sync {
    /// A querier over `[mint, maxt]` (inclusive, ms).
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError>;
}

/// A store that can write a snapshot of itself (Prometheus' admin snapshot API).
pub trait Snapshottable: Send + Sync {
    /// Writes a snapshot under the store's `snapshots/` directory and returns its name (the
    /// directory's name); `skip_head` leaves out data not yet in blocks.
    fn snapshot(&self, skip_head: bool) -> Result<String, StorageError>;
}

/// The head's figures for status pages (Prometheus' `/api/v1/status/tsdb`) and the pipeline
/// view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadStatus {
    /// Series in the head.
    pub num_series: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Oldest sample time in the head, `i64::MAX` when empty (as Prometheus reports it).
    pub min_time: i64,
    /// Newest sample time in the head, `i64::MIN` when empty.
    pub max_time: i64,
    /// Samples stored since the process started.
    pub samples_appended: u64,
    /// Cardinality lists of the head's index.
    pub postings: crate::index::PostingsStats,
}

/// A store that reports its head's figures.
pub trait HeadStatusReadable: Send + Sync {
    /// The figures, each cardinality list cut to its `limit` largest entries.
    fn head_status(&self, limit: usize) -> HeadStatus;
}

/// Exemplars of one series, as the exemplar query API returns them.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesExemplars {
    /// The series.
    pub labels: Labels,
    /// Its exemplars in range, ascending by time.
    pub exemplars: Vec<Exemplar>,
}

/// Read access to exemplars and metadata, for the HTTP API.
pub trait ExemplarQueryable: Send + Sync {
    /// Exemplars in `[mint, maxt]` of series matching any of the matcher sets.
    fn exemplars(
        &self,
        mint: i64,
        maxt: i64,
        matcher_sets: &[Vec<Matcher>],
    ) -> Result<Vec<SeriesExemplars>, StorageError>;
}

/// Read access to metric metadata.
pub trait MetadataQueryable: Send + Sync {
    /// Metadata by metric family name; `metric` filters to one family, `limit` caps families.
    fn metadata(&self, metric: Option<&str>, limit: Option<usize>) -> Vec<(String, Vec<Metadata>)>;
}

/// Whether `labels` satisfy all `matchers`.
pub fn matches_all(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers.iter().all(|m| m.matches(labels.get(&m.name)))
}
