//! Validating and storing a decoded `WriteRequest`, with Prometheus' partial-batch semantics:
//! bad series and refused samples are reported, the valid rest of the batch is committed.

use super::borrowed::BorrowedRequest;
use super::proto::{self, MetricMetadataType, WriteRequest};
use model::{Exemplar, Labels, Metadata, is_valid_label_name, is_valid_metric_name};
use tsdb::{AppendError, Appendable};

/// Bounds on one write request.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How far ahead of the receiver's clock a sample may be, in ms.
    pub max_future_ms: i64,
    /// Series in one request.
    pub max_series_per_request: usize,
    /// Samples (plus exemplars) in one request.
    pub max_samples_per_request: usize,
    /// Labels on one series.
    pub max_labels_per_series: usize,
    /// Bytes of one label name.
    pub max_label_name_bytes: usize,
    /// Bytes of one label value.
    pub max_label_value_bytes: usize,
    /// How many error messages a response carries; the rest are only counted.
    pub max_reported_errors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_future_ms: 10 * 60 * 1000,
            max_series_per_request: 100_000,
            max_samples_per_request: 1_000_000,
            max_labels_per_series: 128,
            max_label_name_bytes: 1024,
            max_label_value_bytes: 64 * 1024,
            max_reported_errors: 10,
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Series in the request.
    pub series: usize,
    /// Samples stored.
    pub samples_stored: usize,
    /// Series created in the store.
    pub series_created: usize,
    /// Series refused for invalid labels.
    pub invalid_series: usize,
    /// Samples refused (invalid series, future timestamps, out of order, duplicates, limits).
    pub rejected_samples: usize,
    /// Exemplars accepted.
    pub exemplars: usize,
    /// Exemplars refused; like Prometheus these do not fail the request.
    pub rejected_exemplars: usize,
    /// Metadata entries recorded.
    pub metadata: usize,
    /// The first error messages, at most [`Limits::max_reported_errors`].
    pub errors: Vec<String>,
}

/// Why a write request was (partly) refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// Some series or samples were bad; the valid rest was stored. HTTP 400.
    #[error("{}", summary(.stats))]
    Partial {
        /// What was stored and what was refused.
        stats: IngestStats,
    },
    /// A store limit refused samples; the rest was stored. HTTP 429, the sender retries.
    #[error("{message}")]
    Limit {
        /// Which limit.
        message: String,
        /// What was stored.
        stats: IngestStats,
    },
    /// The request itself exceeds a request limit; nothing was stored. HTTP 413.
    #[error("{0}")]
    TooLarge(String),
    /// The store failed; nothing was stored. HTTP 500, the sender retries.
    #[error("{0}")]
    Storage(String),
}

fn summary(stats: &IngestStats) -> String {
    let mut s = stats.errors.join("; ");
    let shown = stats.errors.len();
    let total = stats.invalid_series + stats.rejected_samples;
    if total > shown {
        s.push_str(&format!(" (and {} more)", total - shown));
    }
    s
}

impl IngestError {
    /// The HTTP status a receiver answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            IngestError::Partial { .. } => 400,
            IngestError::Limit { .. } => 429,
            IngestError::TooLarge(_) => 413,
            IngestError::Storage(_) => 500,
        }
    }
}

/// Turns remote-write labels into a validated label set, or says what is wrong with them.
pub fn labels_from_proto(labels: &[proto::Label], limits: &Limits) -> Result<Labels, String> {
    if labels.len() > limits.max_labels_per_series {
        return Err(format!(
            "{} labels exceed the limit of {} per series",
            labels.len(),
            limits.max_labels_per_series
        ));
    }
    for l in labels {
        if l.name.len() > limits.max_label_name_bytes {
            return Err(format!(
                "label name of {} bytes exceeds the limit of {}",
                l.name.len(),
                limits.max_label_name_bytes
            ));
        }
        if l.value.len() > limits.max_label_value_bytes {
            return Err(format!(
                "value of label {:?} has {} bytes, the limit is {}",
                l.name,
                l.value.len(),
                limits.max_label_value_bytes
            ));
        }
        if !is_valid_label_name(&l.name) {
            return Err(format!("invalid label name {:?}", l.name));
        }
    }
    let set = Labels::from_pairs_checked(labels.iter().map(|l| (&*l.name, &*l.value)))
        .map_err(|dup| format!("duplicate label name {dup:?}"))?;
    let name = set.metric_name();
    if name.is_empty() {
        return Err("metric name (__name__) missing".into());
    }
    if !is_valid_metric_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    Ok(set)
}

/// The fast path of [`labels_from_proto`]: true when `pairs` pass every check of
/// `labels_from_proto` and are already in the form a [`Labels`] holds (strictly sorted by name,
/// no empty value), as Prometheus senders send them. False means "take the general path", which
/// also words any error.
pub(crate) fn sorted_pairs_valid(pairs: &[(&str, &str)], limits: &Limits) -> bool {
    if pairs.len() > limits.max_labels_per_series {
        return false;
    }
    let mut metric_name_ok = false;
    let mut prev: Option<&str> = None;
    for &(name, value) in pairs {
        if name.len() > limits.max_label_name_bytes
            || value.len() > limits.max_label_value_bytes
            || value.is_empty()
            || prev.is_some_and(|p| p >= name)
            || !is_valid_label_name(name)
        {
            return false;
        }
        if name == model::METRIC_NAME {
            if !is_valid_metric_name(value) {
                return false;
            }
            metric_name_ok = true;
        }
        prev = Some(name);
    }
    metric_name_ok
}

fn describe(labels: &[proto::Label]) -> String {
    let mut s = String::from("{");
    for (i, l) in labels.iter().take(16).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let v: String = l.value.chars().take(64).collect();
        s.push_str(&format!(
            "{}={:?}",
            l.name.chars().take(64).collect::<String>(),
            v
        ));
    }
    if labels.len() > 16 {
        s.push_str(", ...");
    }
    s.push('}');
    s
}

/// Validates and stores `req`, then commits. Invalid series, future samples and samples the
/// store refuses are skipped and reported; everything valid is committed.
pub fn ingest_write_request(
    req: &WriteRequest,
    store: &dyn Appendable,
    limits: &Limits,
) -> Result<IngestStats, IngestError> {
    ingest_at(req, store, limits, model::time::now_ms())
}

/// What a batch has done so far: counts, reported errors, the first store limit hit.
struct Batch {
    stats: IngestStats,
    limit_hit: Option<String>,
    max_reported_errors: usize,
}

impl Batch {
    fn new(series: usize, limits: &Limits) -> Self {
        Batch {
            stats: IngestStats {
                series,
                ..Default::default()
            },
            limit_hit: None,
            max_reported_errors: limits.max_reported_errors,
        }
    }

    fn report(&mut self, msg: String) {
        if self.stats.errors.len() < self.max_reported_errors {
            self.stats.errors.push(msg);
        }
    }

    /// Counts and reports a sample the store refused; a storage failure ends the request.
    fn refused(&mut self, labels: &Labels, t: i64, e: AppendError) -> Result<(), IngestError> {
        self.stats.rejected_samples += 1;
        if let AppendError::Storage(msg) = e {
            return Err(IngestError::Storage(msg));
        }
        if e.is_limit() && self.limit_hit.is_none() {
            self.limit_hit = Some(e.to_string());
        }
        self.report(format!("series {labels}, timestamp {t}: {e}"));
        Ok(())
    }

    fn too_far_in_future(&mut self, labels: &Labels, t: i64, limits: &Limits) {
        self.stats.rejected_samples += 1;
        self.report(format!(
            "series {labels}: {}",
            AppendError::TooFarInFuture {
                t,
                max_ahead_ms: limits.max_future_ms
            }
        ));
    }

    /// Commits and turns the counts into the answer.
    fn finish(mut self, app: Box<dyn tsdb::Appender>) -> Result<IngestStats, IngestError> {
        let committed = app
            .commit()
            .map_err(|e| IngestError::Storage(e.to_string()))?;
        self.stats.samples_stored = committed.samples;
        self.stats.series_created = committed.series_created;
        if committed.rejected > 0 {
            self.stats.rejected_samples += committed.rejected;
            self.report(format!(
                "{} samples refused as out of order, out of bounds or duplicate",
                committed.rejected
            ));
        }
        let stats = self.stats;
        if let Some(message) = self.limit_hit {
            return Err(IngestError::Limit { message, stats });
        }
        if stats.invalid_series > 0 || stats.rejected_samples > 0 {
            return Err(IngestError::Partial { stats });
        }
        Ok(stats)
    }
}

/// Appends one series' samples given its labels as pairs [`sorted_pairs_valid`] accepted: the
/// store finds an existing series without a label set being built.
fn append_sorted(
    app: &mut dyn tsdb::Appender,
    pairs: &[(&str, &str)],
    samples: impl Iterator<Item = (i64, f64)>,
    now_ms: i64,
    limits: &Limits,
    batch: &mut Batch,
) -> Result<(), IngestError> {
    for (t, v) in samples {
        if t > now_ms.saturating_add(limits.max_future_ms) {
            batch.too_far_in_future(&Labels::from_sorted_pairs(pairs), t, limits);
            continue;
        }
        if let Err(e) = app.append_sorted_pairs(pairs, t, v) {
            // Only errors need the label set built.
            batch.refused(&Labels::from_sorted_pairs(pairs), t, e)?;
        }
    }
    Ok(())
}

fn check_request_size(series: usize, points: usize, limits: &Limits) -> Result<(), IngestError> {
    if series > limits.max_series_per_request {
        return Err(IngestError::TooLarge(format!(
            "{series} series in one request exceed the limit of {}",
            limits.max_series_per_request
        )));
    }
    if points > limits.max_samples_per_request {
        return Err(IngestError::TooLarge(format!(
            "{points} samples and exemplars in one request exceed the limit of {}",
            limits.max_samples_per_request
        )));
    }
    Ok(())
}

/// [`ingest_at`] for a request decoded by the borrowing decoder. `None` (nothing stored) when a
/// series' labels are not already valid and sorted: the caller then takes the general path,
/// which words the errors.
pub(crate) fn ingest_borrowed(
    req: &BorrowedRequest<'_>,
    store: &dyn Appendable,
    limits: &Limits,
    now_ms: i64,
) -> Option<Result<IngestStats, IngestError>> {
    if let Err(e) = check_request_size(req.series.len(), req.samples.len(), limits) {
        return Some(Err(e));
    }
    if !req
        .series
        .iter()
        .all(|s| sorted_pairs_valid(&req.labels[s.labels.clone()], limits))
    {
        return None;
    }
    let mut batch = Batch::new(req.series.len(), limits);
    let mut app = store.appender();
    for s in &req.series {
        let pairs = &req.labels[s.labels.clone()];
        let samples = req.samples[s.samples.clone()].iter().copied();
        if let Err(e) = append_sorted(&mut *app, pairs, samples, now_ms, limits, &mut batch) {
            app.rollback();
            return Some(Err(e));
        }
    }
    Some(batch.finish(app))
}

/// [`ingest_write_request`] with an explicit "now" for the future-timestamp check.
pub fn ingest_at(
    req: &WriteRequest,
    store: &dyn Appendable,
    limits: &Limits,
    now_ms: i64,
) -> Result<IngestStats, IngestError> {
    let points: usize = req
        .timeseries
        .iter()
        .map(|t| t.samples.len() + t.exemplars.len())
        .sum();
    check_request_size(req.timeseries.len(), points, limits)?;
    let mut batch = Batch::new(req.timeseries.len(), limits);
    let mut app = store.appender();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for ts in &req.timeseries {
        if ts.exemplars.is_empty() {
            pairs.clear();
            pairs.extend(
                ts.labels
                    .iter()
                    .map(|l| (l.name.as_str(), l.value.as_str())),
            );
            if sorted_pairs_valid(&pairs, limits) {
                let samples = ts.samples.iter().map(|s| (s.timestamp, s.value));
                if let Err(e) =
                    append_sorted(&mut *app, &pairs, samples, now_ms, limits, &mut batch)
                {
                    app.rollback();
                    return Err(e);
                }
                continue;
            }
        }
        let labels = match labels_from_proto(&ts.labels, limits) {
            Ok(l) => l,
            Err(reason) => {
                batch.stats.invalid_series += 1;
                batch.stats.rejected_samples += ts.samples.len();
                batch.report(format!("series {}: {reason}", describe(&ts.labels)));
                continue;
            }
        };
        for s in &ts.samples {
            if s.timestamp > now_ms.saturating_add(limits.max_future_ms) {
                batch.too_far_in_future(&labels, s.timestamp, limits);
                continue;
            }
            if let Err(e) = app.append(&labels, s.timestamp, s.value)
                && let Err(e) = batch.refused(&labels, s.timestamp, e)
            {
                app.rollback();
                return Err(e);
            }
        }
        for ex in &ts.exemplars {
            let ex_labels = Labels::from_pairs(ex.labels.iter().map(|l| (&*l.name, &*l.value)));
            let exemplar = Exemplar {
                labels: ex_labels,
                value: ex.value,
                t: ex.timestamp,
            };
            match app.append_exemplar(&labels, &exemplar) {
                Ok(()) => batch.stats.exemplars += 1,
                Err(e) => {
                    tracing::debug!(series = %labels, error = %e, "exemplar refused");
                    batch.stats.rejected_exemplars += 1;
                }
            }
        }
    }
    for md in &req.metadata {
        if !is_valid_metric_name(&md.metric_family_name) {
            continue;
        }
        let t = MetricMetadataType::try_from(md.r#type).unwrap_or(MetricMetadataType::Unknown);
        let meta = Metadata {
            metric_type: t.to_model(),
            help: md.help.clone(),
            unit: md.unit.clone(),
        };
        if app.update_metadata(&md.metric_family_name, &meta).is_ok() {
            batch.stats.metadata += 1;
        }
    }
    batch.finish(app)
}
