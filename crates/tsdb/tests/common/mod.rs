//! Helpers shared by the integration tests.

#![allow(dead_code)]

use model::{Labels, MatchOp, Matcher};
use tsdb::{DbOptions, Queryable, SelectHints};

/// Every series in `[mint, maxt]` as (labels, [(t, value bits)]), for exact comparison
/// (NaN != NaN, so values compare by bits).
pub fn dump(q: &dyn Queryable, mint: i64, maxt: i64) -> Vec<(Labels, Vec<(i64, u64)>)> {
    let querier = q.querier(mint, maxt).unwrap();
    let m = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    querier
        .select(&SelectHints::default(), &m)
        .map(|s| {
            let s = s.unwrap();
            (
                s.labels,
                s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect(),
            )
        })
        .collect()
}

/// The label set `{__name__="m", i="<i>"}`.
pub fn series(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())])
}

/// Options for tests that write at timestamps from 0: no retention, and "now" refusing nothing.
pub fn backfill_opts() -> DbOptions {
    DbOptions {
        retention_ms: 0,
        max_future_ms: i64::MAX / 2,
        ..DbOptions::default()
    }
}
