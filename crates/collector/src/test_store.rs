//! What the receivers' tests read back from the reference store.

use tsdb::mem::MemStorage;
use tsdb::{Queryable, SelectHints};

/// Every stored series as (labels text, samples), in the store's order.
pub fn dump(store: &MemStorage) -> Vec<(String, Vec<(i64, f64)>)> {
    let q = store.querier(i64::MIN, i64::MAX).unwrap();
    let m = model::Matcher::new(model::MatchOp::Regex, "__name__", ".+").unwrap();
    q.select(&SelectHints::default(), &[m])
        .map(|s| {
            let s = s.unwrap();
            (
                s.labels.to_string(),
                s.samples.iter().map(|x| (x.t, x.v)).collect(),
            )
        })
        .collect()
}
