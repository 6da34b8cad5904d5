//! Label sets: sorted name/value pairs.

use std::fmt;
use std::hash::{Hash, Hasher};

/// The label that holds a metric's name.
pub const METRIC_NAME: &str = "__name__";

/// One name/value pair.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value; an empty value means "label absent" in Prometheus semantics.
    pub value: String,
}

/// A set of labels sorted by name, with unique names and no empty values.
///
/// Equality, ordering and hashing are over the sorted pairs, so two sets with the same pairs
/// compare equal however they were built.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds from pairs in any order: sorts by name, drops empty values; on duplicate names the
    /// last one wins. Use [`Labels::from_pairs_checked`] where duplicates are an input error.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            b.set(n.into(), v.into());
        }
        b.build()
    }

    /// Builds from pairs, failing with the repeated name if a name occurs twice.
    pub fn from_pairs_checked<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Self, String> {
        let mut v: Vec<Label> = pairs
            .into_iter()
            .map(|(n, v)| Label {
                name: n.into(),
                value: v.into(),
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        for w in v.windows(2) {
            if w[0].name == w[1].name {
                return Err(w[0].name.clone());
            }
        }
        v.retain(|l| !l.value.is_empty());
        Ok(Labels(v))
    }

    /// Wraps a vector the caller guarantees is sorted by name with unique names.
    pub fn from_sorted(v: Vec<Label>) -> Self {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        Labels(v)
    }

    /// Builds from borrowed pairs already sorted by name with unique names (a decoder's view).
    pub fn from_sorted_pairs(pairs: &[(&str, &str)]) -> Self {
        Labels::from_sorted(
            pairs
                .iter()
                .map(|(n, v)| Label {
                    name: (*n).to_string(),
                    value: (*v).to_string(),
                })
                .collect(),
        )
    }

    /// The value of `name`, or `""` when absent (as Prometheus treats a missing label).
    pub fn get(&self, name: &str) -> &str {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) => &self.0[i].value,
            Err(_) => "",
        }
    }

    /// Whether a label called `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .is_ok()
    }

    /// The metric name (`__name__`), or `""`.
    pub fn metric_name(&self) -> &str {
        self.get(METRIC_NAME)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates the pairs in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The pairs as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Consumes into the sorted vector.
    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// A builder seeded with these labels.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.clone(),
        }
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| l.name != METRIC_NAME)
                .cloned()
                .collect(),
        )
    }

    /// Only the labels whose names are in `names`.
    pub fn keep(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        )
    }

    /// All labels except those whose names are in `names`.
    pub fn drop_names(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| !names.iter().any(|n| n.as_ref() == l.name))
                .cloned()
                .collect(),
        )
    }

    /// A 64-bit hash stable across runs and builds (FNV-1a over names and values with
    /// separators), used to shard series and as a series fingerprint.
    pub fn hash64(&self) -> u64 {
        let mut h = Fnv64::default();
        for l in &self.0 {
            h.write(l.name.as_bytes());
            h.write_u8(0xff);
            h.write(l.value.as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// Approximate heap bytes used, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Label>()
            + self
                .0
                .iter()
                .map(|l| l.name.capacity() + l.value.capacity())
                .sum::<usize>()
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Formats as Prometheus does: `name{a="b", c="d"}`, values escaped like Go's `%q`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        f.write_str(name)?;
        let rest: Vec<&Label> = self.0.iter().filter(|l| l.name != METRIC_NAME).collect();
        if rest.is_empty() && !name.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, l) in rest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}=\"", l.name)?;
            for c in l.value.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Mutable construction of a [`Labels`]: set and delete by name, then [`LabelsBuilder::build`].
#[derive(Clone, Debug, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        match self.labels.binary_search_by(|l| l.name.cmp(&name)) {
            Ok(i) => {
                if value.is_empty() {
                    self.labels.remove(i);
                } else {
                    self.labels[i].value = value;
                }
            }
            Err(i) => {
                if !value.is_empty() {
                    self.labels.insert(i, Label { name, value });
                }
            }
        }
        self
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        if let Ok(i) = self.labels.binary_search_by(|l| l.name.as_str().cmp(name)) {
            self.labels.remove(i);
        }
        self
    }

    /// The current value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        match self.labels.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) => &self.labels[i].value,
            Err(_) => "",
        }
    }

    /// Keeps only labels for which `f` returns true.
    pub fn retain(&mut self, f: impl FnMut(&Label) -> bool) -> &mut Self {
        self.labels.retain(f);
        self
    }

    /// The finished label set.
    pub fn build(&self) -> Labels {
        Labels(self.labels.clone())
    }
}

/// Whether `s` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
}

/// Whether `s` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// FNV-1a, 64 bit: tiny, fast on short keys, and stable across releases (unlike `DefaultHasher`).
#[derive(Clone, Copy)]
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl Hash for Fnv64 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_empty_values_dropped() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", "")]);
        assert_eq!(l.len(), 2);
        assert_eq!(l.as_slice()[0].name, "a");
        assert_eq!(l.get("b"), "2");
        assert_eq!(l.get("c"), "");
    }

    #[test]
    fn duplicate_names_rejected() {
        let err = Labels::from_pairs_checked([("a", "1"), ("a", "2")]).unwrap_err();
        assert_eq!(err, "a");
    }

    #[test]
    fn display_like_prometheus() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        assert_eq!(l.to_string(), r#"up{job="a\"b"}"#);
        let l = Labels::from_pairs([("__name__", "up")]);
        assert_eq!(l.to_string(), "up");
        let l = Labels::from_pairs([("job", "x")]);
        assert_eq!(l.to_string(), r#"{job="x"}"#);
    }

    #[test]
    fn names_validated() {
        assert!(is_valid_metric_name("http_requests_total"));
        assert!(is_valid_metric_name("a:b"));
        assert!(!is_valid_metric_name("1abc"));
        assert!(!is_valid_label_name("a:b"));
        assert!(!is_valid_label_name(""));
    }

    #[test]
    fn hash_stable_and_order_independent() {
        let a = Labels::from_pairs([("a", "1"), ("b", "2")]);
        let b = Labels::from_pairs([("b", "2"), ("a", "1")]);
        assert_eq!(a.hash64(), b.hash64());
        // Separators keep ("ab","c") and ("a","bc") apart.
        let c = Labels::from_pairs([("ab", "c")]);
        let d = Labels::from_pairs([("a", "bc")]);
        assert_ne!(c.hash64(), d.hash64());
    }
}
