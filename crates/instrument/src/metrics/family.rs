//! A metric family: name, help, label names, and one value per label set, bounded by a
//! cardinality limit. The `*Vec` handles users hold are thin wrappers around a family.

use super::value::{Counter, Gauge, Histogram};
use crate::error::MetricsError;
use parking_lot::RwLock;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a family holds, with what a new label set needs to start (histogram bounds).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram(Arc<[f64]>),
}

/// A value type a family can hold.
pub(crate) trait Value: Clone {
    fn new_for(kind: &Kind) -> Self;
}

impl Value for Counter {
    fn new_for(_: &Kind) -> Self {
        Counter::default()
    }
}

impl Value for Gauge {
    fn new_for(_: &Kind) -> Self {
        Gauge::default()
    }
}

impl Value for Histogram {
    fn new_for(kind: &Kind) -> Self {
        match kind {
            Kind::Histogram(bounds) => Histogram::new(bounds.clone()),
            // Families are built with the kind of their value type; empty bounds keep this total.
            _ => Histogram::new(Arc::from(Vec::new())),
        }
    }
}

/// One label set's values and its value.
pub(crate) struct Child<V> {
    pub(crate) label_values: Box<[String]>,
    pub(crate) value: V,
}

/// Label sets by key.
type Children<V> = HashMap<Box<[u8]>, Arc<Child<V>>>;

pub(crate) struct Family<V> {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) label_names: Box<[String]>,
    pub(crate) kind: Kind,
    limit: usize,
    /// Keyed by the label values, length-prefixed so that no two value lists share a key.
    children: RwLock<Children<V>>,
    /// Whether the limit or a label-count error was already logged (once per family).
    warned: AtomicBool,
}

fn write_key(key: &mut Vec<u8>, values: &[&str]) {
    key.clear();
    for v in values {
        key.extend_from_slice(&(v.len() as u64).to_le_bytes());
        key.extend_from_slice(v.as_bytes());
    }
}

thread_local! {
    /// The lookup key is built here, so a lookup of an existing label set allocates nothing.
    static KEY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with the key of `values`.
fn with_key<R>(values: &[&str], f: impl FnOnce(&[u8]) -> R) -> R {
    KEY.with(|cell| match cell.try_borrow_mut() {
        Ok(mut key) => {
            write_key(&mut key, values);
            f(&key)
        }
        // Only when `f` itself looked up a metric on this thread; fine to allocate then.
        Err(_) => {
            let mut key = Vec::new();
            write_key(&mut key, values);
            f(&key)
        }
    })
}

impl<V: Value> Family<V> {
    pub(crate) fn new(
        name: &str,
        help: &str,
        label_names: &[&str],
        kind: Kind,
        limit: usize,
    ) -> Self {
        let family = Family {
            name: name.to_string(),
            help: help.to_string(),
            label_names: label_names.iter().map(|s| s.to_string()).collect(),
            kind,
            limit,
            children: RwLock::new(HashMap::new()),
            warned: AtomicBool::new(false),
        };
        if label_names.is_empty() {
            // A metric without labels is exposed from the start, at zero.
            let _ = family.try_with(&[]);
        }
        family
    }

    pub(crate) fn try_with(&self, values: &[&str]) -> Result<V, MetricsError> {
        if values.len() != self.label_names.len() {
            return Err(MetricsError::LabelCount {
                metric: self.name.clone(),
                expected: self.label_names.len(),
                got: values.len(),
            });
        }
        with_key(values, |key| self.get_or_insert(key, values))
    }

    fn get_or_insert(&self, key: &[u8], values: &[&str]) -> Result<V, MetricsError> {
        if let Some(child) = self.children.read().get(key) {
            return Ok(child.value.clone());
        }
        let mut children = self.children.write();
        if let Some(child) = children.get(key) {
            return Ok(child.value.clone());
        }
        if children.len() >= self.limit {
            return Err(MetricsError::CardinalityLimit {
                metric: self.name.clone(),
                limit: self.limit,
            });
        }
        let value = V::new_for(&self.kind);
        children.insert(
            key.into(),
            Arc::new(Child {
                label_values: values.iter().map(|s| s.to_string()).collect(),
                value: value.clone(),
            }),
        );
        Ok(value)
    }

    /// Like `try_with`, but on error logs it once per family and returns a value that is
    /// counted nowhere, so instrumentation can never fail the code it observes.
    pub(crate) fn with(&self, values: &[&str]) -> V {
        match self.try_with(values) {
            Ok(v) => v,
            Err(err) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %err, "metric update dropped");
                }
                V::new_for(&self.kind)
            }
        }
    }

    /// The label sets, sorted by their values for a stable exposition.
    pub(crate) fn snapshot(&self) -> Vec<Arc<Child<V>>> {
        let mut out: Vec<_> = self.children.read().values().cloned().collect();
        out.sort_by(|a, b| a.label_values.cmp(&b.label_values));
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.children.read().len()
    }
}

macro_rules! vec_handle {
    ($vec:ident, $value:ident, $what:literal) => {
        #[doc = concat!("A ", $what, " family: one [`", stringify!($value), "`] per label set. Cloning shares it.")]
        #[derive(Clone)]
        pub struct $vec(pub(crate) Arc<Family<$value>>);

        impl $vec {
            /// The value for these label values (in the order of the label names), created on
            /// first use. A wrong number of values or a full family (cardinality limit) is
            /// logged once and yields a value that is not exported; use `try_with` to see the
            /// error instead.
            pub fn with(&self, label_values: &[&str]) -> $value {
                self.0.with(label_values)
            }

            /// The value for these label values, or the error naming the metric and the
            /// broken rule (label count, cardinality limit).
            pub fn try_with(&self, label_values: &[&str]) -> Result<$value, MetricsError> {
                self.0.try_with(label_values)
            }

            /// The metric name.
            pub fn name(&self) -> &str {
                &self.0.name
            }

            /// How many label sets exist.
            pub fn label_sets(&self) -> usize {
                self.0.len()
            }
        }

        impl std::fmt::Debug for $vec {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($vec))
                    .field("name", &self.0.name)
                    .field("label_names", &self.0.label_names)
                    .finish()
            }
        }
    };
}

vec_handle!(CounterVec, Counter, "counter");
vec_handle!(GaugeVec, Gauge, "gauge");
vec_handle!(HistogramVec, Histogram, "histogram");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_sets_are_shared_and_bounded() {
        let f: Family<Counter> = Family::new("c_total", "h", &["a", "b"], Kind::Counter, 2);
        f.with(&["x", "y"]).inc();
        f.with(&["x", "y"]).inc();
        assert_eq!(f.with(&["x", "y"]).get(), 2.0);
        // "x:" + "y" and "x" + ":y" must not collide.
        f.with(&["x:", "y"]).inc();
        assert_eq!(f.len(), 2);
        let err = f.try_with(&["z", "z"]).unwrap_err();
        assert_eq!(
            err,
            MetricsError::CardinalityLimit {
                metric: "c_total".into(),
                limit: 2
            }
        );
        assert!(err.to_string().contains("cardinality limit of 2"), "{err}");
        // Over the limit: a detached value; the family is unchanged.
        f.with(&["z", "z"]).inc();
        assert_eq!(f.len(), 2);
        let err = f.try_with(&["only-one"]).unwrap_err();
        assert!(
            err.to_string().contains("expected 2 label values, got 1"),
            "{err}"
        );
    }

    #[test]
    fn unlabelled_metric_exists_from_the_start() {
        let f: Family<Gauge> = Family::new("g", "h", &[], Kind::Gauge, 10);
        assert_eq!(f.snapshot().len(), 1);
    }
}
