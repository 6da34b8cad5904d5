//! The appender of the store: buffers a batch, then commits it WAL-first.
//!
//! `append` validates what needs no I/O (labels, future timestamps, the head's minimum time,
//! series limits) and resolves the series by label hash without cloning labels when it exists.
//! `commit` then, under the store's commit lock, assigns ids to new series, encodes the series
//! records, samples, exemplars and metadata of the batch into one buffer and writes it to the WAL;
//! only if that succeeds are the new series inserted into the head. Outside the lock it waits for
//! the fsync the policy asks for (sharing it with concurrent commits), and only then applies the
//! samples to the series (out-of-order and duplicate rules are applied here, exactly as replay
//! applies them) and makes them visible.

use crate::db::DbInner;
use crate::exemplars;
use crate::head::{Appended, MemSeries};
use crate::head_wal::{encode_exemplars, encode_metadata, encode_samples, encode_series};
use crate::interface::{AppendError, Appender, CommitStats};
use model::{Exemplar, Labels, Metadata};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A series a batch refers to: one that exists, or the n-th new one of the batch.
enum Slot {
    Existing(Arc<MemSeries>),
    New(usize),
}

pub(crate) struct HeadAppender {
    db: Arc<DbInner>,
    new_series: Vec<(u64, Labels)>,
    /// Index of new series by label hash, to resolve repeats within the batch.
    new_by_hash: HashMap<u64, Vec<usize>>,
    samples: Vec<(Slot, i64, f64)>,
    /// Samples refused at `append` by the out-of-order or duplicate rule; counted at commit.
    pre_rejected: usize,
    exemplars: Vec<(Slot, Exemplar)>,
    metadata: Vec<(String, Metadata)>,
    /// The clock read at the batch's first append: the future check reuses it, since reading
    /// the clock per sample was a visible share of push CPU and a batch takes milliseconds.
    now_ms: Option<i64>,
}

impl HeadAppender {
    pub(crate) fn new(db: Arc<DbInner>) -> Self {
        HeadAppender {
            db,
            new_series: Vec::new(),
            new_by_hash: HashMap::new(),
            samples: Vec::new(),
            pre_rejected: 0,
            exemplars: Vec::new(),
            metadata: Vec::new(),
            now_ms: None,
        }
    }

    fn slot(&mut self, labels: &Labels) -> Result<Slot, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::InvalidLabels {
                labels: labels.to_string(),
                reason: "empty label set".into(),
            });
        }
        let hash = crate::head::series_hash(labels);
        if let Some(s) = self.db.head.get(hash, labels) {
            return Ok(Slot::Existing(s));
        }
        if let Some(idx) = self.new_by_hash.get(&hash) {
            for i in idx {
                if &self.new_series[*i].1 == labels {
                    return Ok(Slot::New(*i));
                }
            }
        }
        let opts = &self.db.opts;
        if self.new_series.len() >= opts.max_series_per_batch {
            return Err(AppendError::SeriesLimit {
                limit_name: "max_series_per_batch",
                limit: opts.max_series_per_batch,
            });
        }
        if self.db.head.num_series() + self.new_series.len() >= opts.max_series {
            return Err(AppendError::SeriesLimit {
                limit_name: "max_series",
                limit: opts.max_series,
            });
        }
        let i = self.new_series.len();
        self.new_series.push((hash, labels.clone()));
        self.new_by_hash.entry(hash).or_default().push(i);
        Ok(Slot::New(i))
    }
}

impl HeadAppender {
    /// The checks of `append` that need only the timestamp.
    fn check_time(&mut self, t: i64) -> Result<(), AppendError> {
        let max_ahead_ms = self.db.opts.max_future_ms;
        let db = &self.db;
        let now = *self.now_ms.get_or_insert_with(|| db.now_ms());
        if t > now.saturating_add(max_ahead_ms) {
            return Err(AppendError::TooFarInFuture { t, max_ahead_ms });
        }
        // As Prometheus: nothing older than what blocks hold, nor older than the head's newest
        // sample by more than half a block range (or the out-of-order window if larger), so one
        // stray old timestamp cannot stretch the head over a long span.
        let head = &self.db.head;
        let opts = &self.db.opts;
        let head_max = head.max_time.load(Ordering::Acquire);
        let lag = (opts.block_range_ms / 2).max(opts.out_of_order_window_ms);
        let lower = head
            .min_valid_time
            .load(Ordering::Acquire)
            .max(head_max.saturating_sub(lag));
        if t < lower {
            return Err(AppendError::OutOfBounds);
        }
        Ok(())
    }

    /// Buffers a sample for a resolved series.
    fn push_sample(&mut self, slot: Slot, t: i64, v: f64) {
        if let Slot::Existing(s) = &slot {
            // Checked now (as Prometheus does) so refused samples never reach the WAL, and a
            // restart with other options replays only what was accepted.
            match s
                .data
                .lock()
                .classify(t, v, self.db.opts.out_of_order_window_ms)
            {
                Ok(Some(Appended::Ignored)) => return,
                Err(_) => {
                    self.pre_rejected += 1;
                    return;
                }
                Ok(_) => {}
            }
        }
        self.samples.push((slot, t, v));
    }
}

impl Appender for HeadAppender {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<(), AppendError> {
        self.check_time(t)?;
        let slot = self.slot(labels)?;
        self.push_sample(slot, t, v);
        Ok(())
    }

    fn append_sorted_pairs(
        &mut self,
        pairs: &[(&str, &str)],
        t: i64,
        v: f64,
    ) -> Result<(), AppendError> {
        self.check_time(t)?;
        // The common case, a series the head holds, needs no label set built.
        if !pairs.is_empty()
            && let Some(s) = self
                .db
                .head
                .get_by_pairs(crate::head::hash_pairs(pairs.iter().copied()), pairs)
        {
            self.push_sample(Slot::Existing(s), t, v);
            return Ok(());
        }
        let labels = Labels::from_sorted_pairs(pairs);
        let slot = self.slot(&labels)?;
        self.push_sample(slot, t, v);
        Ok(())
    }

    fn append_exemplar(&mut self, labels: &Labels, e: &Exemplar) -> Result<(), AppendError> {
        exemplars::validate(e).map_err(AppendError::InvalidExemplar)?;
        let slot = self.slot(labels)?;
        self.exemplars.push((slot, e.clone()));
        Ok(())
    }

    fn update_metadata(&mut self, metric_name: &str, meta: &Metadata) -> Result<(), AppendError> {
        self.metadata.push((metric_name.to_string(), meta.clone()));
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<CommitStats, AppendError> {
        let HeadAppender {
            db,
            mut new_series,
            mut samples,
            pre_rejected,
            mut exemplars,
            mut metadata,
            ..
        } = *self;
        let mut stats = CommitStats {
            rejected: pre_rejected,
            ..CommitStats::default()
        };
        // Scrapes repeat the same metadata every time: log only what is new.
        if !metadata.is_empty() {
            let known = db.metadata.lock();
            metadata.retain(|(name, m)| !known.contains(name, m));
            metadata.dedup();
        }
        if samples.is_empty() && exemplars.is_empty() && metadata.is_empty() {
            return Ok(stats);
        }
        let storage_err = |e: storage::StorageIoError| AppendError::Storage(e.to_string());

        // Under the commit lock: series creation and the WAL write, so a series record always
        // precedes the samples that use its id, in the WAL and in memory.
        let (seq, resolved, ticket) = {
            let mut state = db.commit_lock.lock();
            let state = &mut *state;
            let buf = &mut state.buf;
            buf.clear();
            // Series dropped by head garbage collection since `append` resolved them are
            // created again (the commit lock keeps collection out until the WAL write is done).
            let mut revived: HashMap<u64, usize> = HashMap::new();
            for slot in samples
                .iter_mut()
                .map(|x| &mut x.0)
                .chain(exemplars.iter_mut().map(|x| &mut x.0))
            {
                if let Slot::Existing(s) = slot
                    && s.removed.load(Ordering::Acquire)
                {
                    let i = *revived.entry(s.id).or_insert_with(|| {
                        new_series.push((s.hash, s.labels()));
                        new_series.len() - 1
                    });
                    *slot = Slot::New(i);
                }
            }
            let mut resolved: Vec<Option<Arc<MemSeries>>> = Vec::with_capacity(new_series.len());
            let mut to_create: Vec<(usize, u64)> = Vec::new();
            let mut series_recs: Vec<(u64, &Labels)> = Vec::new();
            for (i, (hash, labels)) in new_series.iter().enumerate() {
                // Another batch may have created it since `append`.
                match db.head.get(*hash, labels) {
                    Some(s) => resolved.push(Some(s)),
                    None if db.head.num_series() + to_create.len() >= db.opts.max_series => {
                        resolved.push(None);
                    }
                    None => {
                        let id = db.head.allocate_id();
                        to_create.push((i, id));
                        series_recs.push((id, labels));
                        resolved.push(None);
                    }
                }
            }
            let id_of = |slot: &Slot| -> Option<u64> {
                match slot {
                    Slot::Existing(s) => Some(s.id),
                    Slot::New(i) => resolved[*i]
                        .as_ref()
                        .map(|s| s.id)
                        .or_else(|| to_create.iter().find(|(j, _)| j == i).map(|(_, id)| *id)),
                }
            };
            let sample_recs: Vec<(u64, i64, f64)> = samples
                .iter()
                .filter_map(|(slot, t, v)| id_of(slot).map(|id| (id, *t, *v)))
                .collect();
            let exemplar_recs: Vec<(u64, &Exemplar)> = exemplars
                .iter()
                .filter_map(|(slot, e)| id_of(slot).map(|id| (id, e)))
                .collect();
            encode_series(buf, &series_recs).map_err(storage_err)?;
            encode_samples(buf, &sample_recs).map_err(storage_err)?;
            encode_exemplars(buf, &exemplar_recs).map_err(storage_err)?;
            encode_metadata(buf, &metadata).map_err(storage_err)?;
            let seq = db.wal.append(buf).map_err(storage_err)?;
            let ticket = state.take_ticket();
            for (i, id) in to_create {
                let (hash, labels) = &new_series[i];
                resolved[i] = Some(db.head.insert(id, *hash, labels));
                stats.series_created += 1;
            }
            (seq, resolved, ticket)
        };
        // Durable first (sharing the fsync with concurrent commits), then visible, in WAL order.
        let synced = db.sync_wal(seq);
        let _turn = db.wait_turn(ticket);
        synced.map_err(storage_err)?;

        let series_of = |slot: &Slot| -> Option<Arc<MemSeries>> {
            match slot {
                Slot::Existing(s) => Some(s.clone()),
                Slot::New(i) => resolved[*i].clone(),
            }
        };
        for (slot, t, v) in &samples {
            match series_of(slot) {
                Some(s) => match db.apply_sample(&s, *t, *v) {
                    Ok(Appended::Stored { .. }) => stats.samples += 1,
                    Ok(Appended::Ignored) => {}
                    Err(_) => stats.rejected += 1,
                },
                None => stats.rejected += 1,
            }
        }
        if !exemplars.is_empty() {
            let mut ring = db.exemplars.lock();
            for (slot, e) in exemplars {
                if let Some(s) = series_of(&slot) {
                    ring.add(&s, e);
                }
            }
        }
        if !metadata.is_empty() {
            let mut m = db.metadata.lock();
            for (name, meta) in &metadata {
                m.add(name, meta);
            }
        }
        Ok(stats)
    }

    fn rollback(self: Box<Self>) {}
}

#[cfg(test)]
mod tests {
    use crate::interface::{Appendable, Queryable, SelectHints};
    use crate::{Db, DbOptions};
    use model::{Labels, Matcher};

    #[test]
    fn series_collected_after_append_is_created_again_at_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), DbOptions::default()).unwrap();
        let l = Labels::from_pairs([("__name__", "up")]);
        let mut app = db.appender();
        app.append(&l, 0, 1.0).unwrap();
        app.commit().unwrap();
        let mut app = db.appender();
        app.append(&l, 100, 2.0).unwrap();
        // Garbage collection removes the series while the appender holds it.
        let head = &db.inner().head;
        let s = head.get(crate::head::series_hash(&l), &l).unwrap();
        head.remove(&s);
        drop(s);
        let st = app.commit().unwrap();
        assert_eq!((st.samples, st.series_created), (1, 1));
        let q = db.querier(0, 1000).unwrap();
        let got: Vec<_> = q
            .select(&SelectHints::default(), &[Matcher::equal("__name__", "up")])
            .map(|s| s.unwrap().samples.len())
            .collect();
        assert_eq!(got, vec![1]);
        drop(q);
        drop(db);
        // And the WAL agrees: the new series record precedes the sample.
        let db = Db::open(dir.path(), DbOptions::default()).unwrap();
        let q = db.querier(0, 1000).unwrap();
        let n: usize = q
            .select(&SelectHints::default(), &[Matcher::equal("__name__", "up")])
            .map(|s| s.unwrap().samples.len())
            .sum();
        // The sample at 0 belonged to the collected series' WAL records and comes back too.
        assert_eq!(n, 2);
    }
}
