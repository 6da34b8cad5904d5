//! In-memory postings: for every label name and value, the sorted ids of the series that carry
//! it. Selection by matchers intersects the lists of positive matchers and subtracts those of
//! negative ones, as Prometheus' `PostingsForMatchers` does.

use model::{MatchOp, Matcher};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

type ValueMap = BTreeMap<Arc<str>, Vec<u64>>;

/// Postings lists of the head.
#[derive(Default)]
pub struct MemPostings {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_name: BTreeMap<Arc<str>, ValueMap>,
    all: Vec<u64>,
}

fn insert_sorted(v: &mut Vec<u64>, id: u64) {
    // Ids mostly arrive in increasing order, so this is usually a push.
    match v.last() {
        Some(last) if *last >= id => {
            if let Err(i) = v.binary_search(&id) {
                v.insert(i, id);
            }
        }
        _ => v.push(id),
    }
}

fn remove_sorted(v: &mut Vec<u64>, id: u64) {
    if let Ok(i) = v.binary_search(&id) {
        v.remove(i);
    }
}

impl MemPostings {
    /// Indexes series `id` under each of its label pairs.
    pub fn add(&self, id: u64, labels: &[(Arc<str>, Arc<str>)]) {
        let mut inner = self.inner.write();
        insert_sorted(&mut inner.all, id);
        for (n, v) in labels {
            let values = inner.by_name.entry(n.clone()).or_default();
            insert_sorted(values.entry(v.clone()).or_default(), id);
        }
    }

    /// Removes series `id` (garbage collection of series without data).
    pub fn delete(&self, id: u64, labels: &[(Arc<str>, Arc<str>)]) {
        let mut inner = self.inner.write();
        remove_sorted(&mut inner.all, id);
        for (n, v) in labels {
            let mut drop_name = false;
            if let Some(values) = inner.by_name.get_mut(n) {
                if let Some(ids) = values.get_mut(v) {
                    remove_sorted(ids, id);
                    if ids.is_empty() {
                        values.remove(v);
                    }
                }
                drop_name = values.is_empty();
            }
            if drop_name {
                inner.by_name.remove(n);
            }
        }
    }

    /// Sorted ids of the series that satisfy every matcher.
    pub fn select(&self, matchers: &[Matcher]) -> Vec<u64> {
        let inner = self.inner.read();
        let mut positive: Vec<Vec<u64>> = Vec::new();
        let mut negative: Vec<Vec<u64>> = Vec::new();
        for m in matchers {
            let values = inner.by_name.get(m.name.as_str());
            if m.matches_empty() {
                // Matches series without the label too: subtract those whose value fails.
                let Some(values) = values else { continue };
                let excluded = union(values.iter().filter(|(v, _)| !m.matches(v)).map(|x| x.1));
                negative.push(excluded);
            } else {
                let Some(values) = values else {
                    return Vec::new();
                };
                positive.push(matching_ids(values, m));
            }
        }
        let mut result = if positive.is_empty() {
            inner.all.clone()
        } else {
            positive.sort_by_key(|p| p.len());
            let mut it = positive.into_iter();
            let mut acc = it.next().unwrap_or_default();
            for p in it {
                acc = intersect(&acc, &p);
            }
            acc
        };
        for n in negative {
            result = subtract(&result, &n);
        }
        result
    }

    /// All label names in use, sorted.
    pub fn label_names(&self) -> Vec<String> {
        self.inner
            .read()
            .by_name
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    /// All values of `name`, sorted.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.inner
            .read()
            .by_name
            .get(name)
            .map(|vs| vs.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default()
    }

    /// Cardinality figures of the index as Prometheus' `/api/v1/status/tsdb` reports them: the
    /// `limit` largest entries of each list, largest first (ties by name). `metric_label` is the
    /// label whose values count as metric names (`__name__`).
    pub fn stats(&self, metric_label: &str, limit: usize) -> PostingsStats {
        let inner = self.inner.read();
        let mut out = PostingsStats::default();
        let mut metrics = Vec::new();
        let mut names = Vec::new();
        let mut value_bytes = Vec::new();
        let mut pairs = Vec::new();
        for (name, values) in &inner.by_name {
            names.push((name.to_string(), values.len() as u64));
            out.num_label_pairs += values.len();
            let mut bytes = 0u64;
            for (value, ids) in values {
                let series = ids.len() as u64;
                if name.as_ref() == metric_label {
                    metrics.push((value.to_string(), series));
                }
                // Kept bounded: only pairs that can still reach the top are remembered.
                pairs.push((format!("{name}={value}"), series));
                if pairs.len() > limit.saturating_mul(4).max(1024) {
                    top(&mut pairs, limit);
                }
                bytes += value.len() as u64 * series;
            }
            value_bytes.push((name.to_string(), bytes));
        }
        drop(inner);
        for (list, dst) in [
            (metrics, &mut out.series_count_by_metric_name),
            (names, &mut out.label_value_count_by_label_name),
            (value_bytes, &mut out.memory_in_bytes_by_label_name),
            (pairs, &mut out.series_count_by_label_value_pair),
        ] {
            let mut list = list;
            top(&mut list, limit);
            *dst = list;
        }
        out
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        let inner = self.inner.read();
        let lists: usize = inner
            .by_name
            .values()
            .flat_map(|vs| vs.values())
            .map(|ids| ids.capacity() * 8 + 48)
            .sum();
        lists + inner.all.capacity() * 8
    }
}

/// Cardinality lists of [`MemPostings::stats`]: `(name, count)`, largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostingsStats {
    /// Series per metric name.
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Distinct values per label name.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// Bytes of values per label name, each value counted once per series carrying it.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// Series per `name=value` pair.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
    /// Distinct `name=value` pairs.
    pub num_label_pairs: usize,
}

/// Keeps the `limit` largest entries, largest first, ties by name.
fn top(list: &mut Vec<(String, u64)>, limit: usize) {
    list.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(limit);
}

fn matching_ids(values: &ValueMap, m: &Matcher) -> Vec<u64> {
    if m.op == MatchOp::Equal {
        return values.get(m.value.as_str()).cloned().unwrap_or_default();
    }
    if let Some(set) = m.set_matches() {
        return union(set.iter().filter_map(|v| values.get(v.as_str())));
    }
    union(values.iter().filter(|(v, _)| m.matches(v)).map(|x| x.1))
}

fn union<'a>(lists: impl Iterator<Item = &'a Vec<u64>>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for l in lists {
        out.extend_from_slice(l);
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter()
        .copied()
        .filter(|x| b.binary_search(x).is_err())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Vec<(Arc<str>, Arc<str>)> {
        pairs
            .iter()
            .map(|(n, v)| (Arc::from(*n), Arc::from(*v)))
            .collect()
    }

    #[test]
    fn select_with_all_matcher_kinds() {
        let p = MemPostings::default();
        p.add(1, &l(&[("__name__", "up"), ("job", "a")]));
        p.add(2, &l(&[("__name__", "up"), ("job", "b")]));
        p.add(3, &l(&[("__name__", "up")]));
        p.add(4, &l(&[("__name__", "down"), ("job", "a")]));
        let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
        assert_eq!(p.select(&[Matcher::equal("__name__", "up")]), vec![1, 2, 3]);
        assert_eq!(
            p.select(&[
                Matcher::equal("__name__", "up"),
                m(MatchOp::NotEqual, "job", "a")
            ]),
            vec![2, 3]
        );
        assert_eq!(p.select(&[m(MatchOp::Regex, "job", "a|b")]), vec![1, 2, 4]);
        assert_eq!(p.select(&[m(MatchOp::Regex, "job", "[ab]")]), vec![1, 2, 4]);
        assert_eq!(
            p.select(&[Matcher::equal("__name__", "up"), Matcher::equal("job", "")]),
            vec![3]
        );
        assert_eq!(
            p.select(&[
                Matcher::equal("__name__", "up"),
                m(MatchOp::NotRegex, "job", "b|")
            ]),
            vec![1]
        );
        assert!(p.select(&[Matcher::equal("nope", "x")]).is_empty());
        p.delete(1, &l(&[("__name__", "up"), ("job", "a")]));
        assert_eq!(p.label_values("job"), vec!["a", "b"]);
        p.delete(4, &l(&[("__name__", "down"), ("job", "a")]));
        assert_eq!(p.label_values("job"), vec!["b"]);
        assert_eq!(p.label_names(), vec!["__name__", "job"]);
    }

    #[test]
    fn stats_rank_largest_first_and_cap_at_limit() {
        let p = MemPostings::default();
        p.add(1, &l(&[("__name__", "up"), ("job", "a")]));
        p.add(2, &l(&[("__name__", "up"), ("job", "bb")]));
        p.add(3, &l(&[("__name__", "up"), ("job", "bb")]));
        p.add(4, &l(&[("__name__", "down")]));
        let s = p.stats("__name__", 10);
        let v = |x: &[(&str, u64)]| -> Vec<(String, u64)> {
            x.iter().map(|(n, c)| (n.to_string(), *c)).collect()
        };
        assert_eq!(s.series_count_by_metric_name, v(&[("up", 3), ("down", 1)]));
        assert_eq!(
            s.label_value_count_by_label_name,
            v(&[("__name__", 2), ("job", 2)])
        );
        // __name__: "up" x3 + "down" x1 = 10 bytes; job: "a" + "bb" x2 = 5.
        assert_eq!(
            s.memory_in_bytes_by_label_name,
            v(&[("__name__", 10), ("job", 5)])
        );
        assert_eq!(
            s.series_count_by_label_value_pair,
            v(&[
                ("__name__=up", 3),
                ("job=bb", 2),
                ("__name__=down", 1),
                ("job=a", 1)
            ])
        );
        assert_eq!(s.num_label_pairs, 4);
        let capped = p.stats("__name__", 1);
        assert_eq!(
            capped.series_count_by_label_value_pair,
            v(&[("__name__=up", 3)])
        );
        assert_eq!(capped.num_label_pairs, 4);
    }
}
