//! Reading: series selected by matchers from the blocks and the head, merged by label set
//! (samples deduplicated by timestamp, since a cut range can briefly be in both) and produced
//! one at a time so only one series' samples are decoded at once.

use crate::block::Block;
use crate::db::DbInner;
use crate::head::MemSeries;
use crate::interface::*;
use model::{Label, Labels, Matcher, Sample};
use std::sync::Arc;

/// Where one series' samples come from.
enum Source {
    Head(Arc<MemSeries>),
    Block(usize, u32),
}

/// One source of a matching series, with the series' labels as shared strings: a head
/// series holds its own, a block series' are looked up in the block's symbols. Sorting and
/// comparing these allocates nothing, and [`Labels`] are built only when asked for (by a
/// split select's readers, on their own threads).
struct Found {
    src: Source,
    /// A block series' label pairs; empty for a head series.
    block_pairs: Vec<(Arc<str>, Arc<str>)>,
}

impl Found {
    fn pairs(&self) -> &[(Arc<str>, Arc<str>)] {
        match &self.src {
            Source::Head(s) => &s.labels,
            Source::Block(..) => &self.block_pairs,
        }
    }

    fn labels(&self) -> Labels {
        Labels::from_sorted(
            self.pairs()
                .iter()
                .map(|(n, v)| Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
        )
    }
}

/// The series matching a select, sorted by labels: series `i`'s sources (blocks in order,
/// then the head) are `found[starts[i]..starts[i + 1]]`.
struct Matched {
    found: Vec<Found>,
    starts: Vec<usize>,
}

impl Matched {
    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    fn sources(&self, i: usize) -> Option<&[Found]> {
        let (lo, hi) = (*self.starts.get(i)?, *self.starts.get(i + 1)?);
        self.found.get(lo..hi)
    }

    /// Each series' labels and sources, in order.
    fn iter(&self) -> impl Iterator<Item = (Labels, &[Found])> {
        self.starts.windows(2).filter_map(|w| {
            let sources = self.found.get(w[0]..w[1])?;
            Some((sources.first()?.labels(), sources))
        })
    }
}

/// Compares label pairs as [`Labels`] compare: by name, then value, label by label.
fn cmp_pairs(a: &[(Arc<str>, Arc<str>)], b: &[(Arc<str>, Arc<str>)]) -> std::cmp::Ordering {
    a.iter()
        .map(|(n, v)| (&**n, &**v))
        .cmp(b.iter().map(|(n, v)| (&**n, &**v)))
}

pub(crate) struct DbQuerier {
    db: Arc<DbInner>,
    mint: i64,
    maxt: i64,
    /// Blocks overlapping the range, fixed when the querier is made.
    blocks: Vec<Arc<Block>>,
}

impl DbQuerier {
    pub(crate) fn new(db: Arc<DbInner>, mint: i64, maxt: i64) -> Self {
        let blocks = db
            .blocks
            .read()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .cloned()
            .collect();
        DbQuerier {
            db,
            mint,
            maxt,
            blocks,
        }
    }

    /// Series matching `matchers` with data overlapping the range, sorted by labels, each with
    /// its sources (blocks in order, then the head).
    fn matching(&self, matchers: &[Matcher], skip_covered: bool) -> Matched {
        let mut found: Vec<Found> = Vec::new();
        for (bi, b) in self.blocks.iter().enumerate() {
            if skip_covered && self.covers(b) {
                continue;
            }
            for r in b.select(matchers, self.mint, self.maxt) {
                found.push(Found {
                    block_pairs: b.label_pairs(r),
                    src: Source::Block(bi, r),
                });
            }
        }
        let head = &self.db.head;
        for id in head.postings.select(matchers) {
            let Some(s) = head.by_id(id) else { continue };
            let overlaps = {
                let d = s.data.lock();
                !d.is_empty() && d.mint() <= self.maxt && d.maxt() >= self.mint
            };
            if overlaps {
                found.push(Found {
                    src: Source::Head(s),
                    block_pairs: Vec::new(),
                });
            }
        }
        // One sort instead of a tree insert per series; stable, so a series' sources keep
        // their order (which decides the winner among equal timestamps).
        found.sort_by(|a, b| cmp_pairs(a.pairs(), b.pairs()));
        let mut starts = Vec::with_capacity(found.len() + 1);
        for (i, f) in found.iter().enumerate() {
            if i == 0 || cmp_pairs(found[i - 1].pairs(), f.pairs()).is_ne() {
                starts.push(i);
            }
        }
        starts.push(found.len());
        Matched { found, starts }
    }

    fn samples_of(&self, sources: &[Found]) -> Result<Vec<Sample>, StorageError> {
        let mut all: Vec<Sample> = Vec::new();
        for src in sources {
            match &src.src {
                Source::Block(bi, r) => {
                    let b = &self.blocks[*bi];
                    let got =
                        b.samples(*r, self.mint, self.maxt)
                            .map_err(|e| StorageError::Corrupt {
                                location: b.dir.display().to_string(),
                                reason: e.to_string(),
                            })?;
                    // The common single source needs no copy.
                    if all.is_empty() {
                        all = got;
                    } else {
                        all.extend(got);
                    }
                }
                Source::Head(s) => {
                    let got = s.data.lock().samples(self.mint, self.maxt).map_err(|e| {
                        StorageError::Corrupt {
                            location: format!("head series {}", s.id),
                            reason: e.to_string(),
                        }
                    })?;
                    // The common single source needs no copy.
                    if all.is_empty() {
                        all = got;
                    } else {
                        all.extend(got);
                    }
                }
            }
        }
        if sources.len() > 1 {
            all.sort_by_key(|s| s.t);
            all.dedup_by_key(|s| s.t);
        }
        Ok(all)
    }

    /// Whether a block lies entirely inside the range: without matchers, its label names and
    /// values then come straight from its postings (every block series has samples).
    fn covers(&self, b: &Block) -> bool {
        b.meta.mint >= self.mint && b.meta.maxt <= self.maxt
    }

    /// Whether a source's samples all lie inside the range (so it has some without decoding).
    fn inside(&self, src: &Source) -> bool {
        let bounds = match src {
            Source::Head(s) => {
                let d = s.data.lock();
                (!d.is_empty()).then(|| (d.mint(), d.maxt()))
            }
            Source::Block(bi, r) => self.blocks[*bi].series_bounds(*r),
        };
        bounds.is_some_and(|(lo, hi)| lo >= self.mint && hi <= self.maxt)
    }

    /// Label sets of matching series that have samples in the range. Samples are decoded only
    /// for series that straddle the range's edges.
    fn selected_labels(
        &self,
        matchers: &[Matcher],
        skip_covered: bool,
    ) -> Result<Vec<Labels>, StorageError> {
        let mut out = Vec::new();
        for (labels, sources) in self.matching(matchers, skip_covered).iter() {
            if sources.iter().any(|s| self.inside(&s.src)) || !self.samples_of(sources)?.is_empty()
            {
                out.push(labels);
            }
        }
        Ok(out)
    }
}

/// The matched series of a split select, read by index (from any thread).
struct SplitReader<'a> {
    querier: &'a DbQuerier,
    matched: Matched,
}

impl SeriesReader for SplitReader<'_> {
    fn labels(&self, i: usize) -> Option<Labels> {
        Some(self.matched.sources(i)?.first()?.labels())
    }

    fn samples(&self, i: usize) -> Result<Vec<Sample>, StorageError> {
        match self.matched.sources(i) {
            Some(sources) => self.querier.samples_of(sources),
            None => Err(StorageError::Io(format!(
                "series {i} is not part of this select ({} series)",
                self.matched.len()
            ))),
        }
    }
}

impl Querier for DbQuerier {
    fn select<'a>(&'a self, _hints: &SelectHints, matchers: &[Matcher]) -> SeriesIter<'a> {
        let matched = self.matching(matchers, false);
        Box::new((0..matched.len()).filter_map(move |i| {
            let sources = matched.sources(i)?;
            match self.samples_of(sources) {
                Ok(samples) if samples.is_empty() => None,
                Ok(samples) => Some(Ok(Series {
                    labels: sources.first()?.labels(),
                    samples,
                })),
                Err(e) => Some(Err(e)),
            }
        }))
    }

    fn select_split<'a>(
        &'a self,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Option<SplitSelect<'a>> {
        let matched = self.matching(matchers, false);
        Some(SplitSelect {
            len: matched.len(),
            reader: Box::new(SplitReader {
                querier: self,
                matched,
            }),
        })
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let fast = matchers.is_empty();
        let mut names = std::collections::BTreeSet::new();
        for l in self.selected_labels(matchers, fast)? {
            names.extend(l.iter().map(|x| x.name.clone()));
        }
        if fast {
            for b in self.blocks.iter().filter(|b| self.covers(b)) {
                names.extend(b.label_names());
            }
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let fast = matchers.is_empty();
        let mut values = std::collections::BTreeSet::new();
        for l in self.selected_labels(matchers, fast)? {
            let v = l.get(name);
            if !v.is_empty() {
                values.insert(v.to_string());
            }
        }
        if fast {
            for b in self.blocks.iter().filter(|b| self.covers(b)) {
                values.extend(b.label_values(name));
            }
        }
        Ok(values.into_iter().collect())
    }
}
