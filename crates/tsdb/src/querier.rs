//! Reading: series selected by matchers from the blocks and the head, merged by label set
//! (samples deduplicated by timestamp, since a cut range can briefly be in both) and produced
//! one at a time so only one series' samples are decoded at once.

use crate::block::Block;
use crate::db::DbInner;
use crate::head::MemSeries;
use crate::interface::*;
use model::{Labels, Matcher, Sample};
use std::sync::Arc;

/// Where one series' samples come from.
enum Source {
    Head(Arc<MemSeries>),
    Block(usize, u32),
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
    fn matching(&self, matchers: &[Matcher], skip_covered: bool) -> Vec<(Labels, Vec<Source>)> {
        let mut found: Vec<(Labels, Source)> = Vec::new();
        for (bi, b) in self.blocks.iter().enumerate() {
            if skip_covered && self.covers(b) {
                continue;
            }
            for r in b.select(matchers, self.mint, self.maxt) {
                found.push((b.labels(r), Source::Block(bi, r)));
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
                found.push((s.labels(), Source::Head(s)));
            }
        }
        // One sort instead of a tree insert per series; stable, so a series' sources keep
        // their order (which decides the winner among equal timestamps).
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Labels, Vec<Source>)> = Vec::with_capacity(found.len());
        for (labels, src) in found {
            match out.last_mut() {
                Some((l, sources)) if *l == labels => sources.push(src),
                _ => out.push((labels, vec![src])),
            }
        }
        out
    }

    fn samples_of(&self, sources: &[Source]) -> Result<Vec<Sample>, StorageError> {
        let mut all: Vec<Sample> = Vec::new();
        for src in sources {
            match src {
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
        for (labels, sources) in self.matching(matchers, skip_covered) {
            if sources.iter().any(|s| self.inside(s)) || !self.samples_of(&sources)?.is_empty() {
                out.push(labels);
            }
        }
        Ok(out)
    }
}

/// The sources of a split select's series, read by index (from any thread).
struct SplitReader<'a> {
    querier: &'a DbQuerier,
    sources: Vec<Vec<Source>>,
}

impl SampleReader for SplitReader<'_> {
    fn samples(&self, i: usize) -> Result<Vec<Sample>, StorageError> {
        match self.sources.get(i) {
            Some(sources) => self.querier.samples_of(sources),
            None => Err(StorageError::Io(format!(
                "series {i} is not part of this select ({} series)",
                self.sources.len()
            ))),
        }
    }
}

impl Querier for DbQuerier {
    fn select<'a>(&'a self, _hints: &SelectHints, matchers: &[Matcher]) -> SeriesIter<'a> {
        let matched = self.matching(matchers, false);
        Box::new(matched.into_iter().filter_map(move |(labels, sources)| {
            match self.samples_of(&sources) {
                Ok(samples) if samples.is_empty() => None,
                Ok(samples) => Some(Ok(Series { labels, samples })),
                Err(e) => Some(Err(e)),
            }
        }))
    }

    fn select_split<'a>(
        &'a self,
        _hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Option<SplitSelect<'a>> {
        let (labels, sources) = self.matching(matchers, false).into_iter().unzip();
        Some(SplitSelect {
            labels,
            reader: Box::new(SplitReader {
                querier: self,
                sources,
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
