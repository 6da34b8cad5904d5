//! The [`Registry`]: the set of metric families a service exposes, in registration order.

use super::exposition::{self, Format};
use super::family::{CounterVec, Family, GaugeVec, HistogramVec, Kind, Value};
use super::names::{check_label_names, check_metric_name};
use super::value::{Counter, Gauge, Histogram};
use crate::error::MetricsError;
use parking_lot::RwLock;
use std::sync::Arc;

/// The default limit of label sets per family.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 10_000;

/// One registered family, of any type.
#[derive(Clone)]
pub(crate) enum Registered {
    Counter(Arc<Family<Counter>>),
    Gauge(Arc<Family<Gauge>>),
    Histogram(Arc<Family<Histogram>>),
}

impl Registered {
    fn name(&self) -> &str {
        match self {
            Registered::Counter(f) => &f.name,
            Registered::Gauge(f) => &f.name,
            Registered::Histogram(f) => &f.name,
        }
    }
}

/// A counter's family name as OpenMetrics sees it: without the `_total` suffix.
pub(crate) fn counter_family_name(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}

/// The metric families of a service. Cloning shares the registry.
///
/// Registering a name again with the same type, help, label names (and buckets) returns the
/// existing family, so code may look metrics up where it uses them; anything else is a
/// [`MetricsError::Conflict`].
#[derive(Clone)]
pub struct Registry {
    inner: Arc<RwLock<Vec<Registered>>>,
    limit: usize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .inner
            .read()
            .iter()
            .map(|r| r.name().to_string())
            .collect();
        f.debug_struct("Registry")
            .field("families", &names)
            .field("limit", &self.limit)
            .finish()
    }
}

impl Registry {
    /// An empty registry with [`DEFAULT_CARDINALITY_LIMIT`] label sets per family.
    pub fn new() -> Self {
        Registry::with_cardinality_limit(DEFAULT_CARDINALITY_LIMIT)
    }

    /// An empty registry allowing at most `limit` label sets per family.
    pub fn with_cardinality_limit(limit: usize) -> Self {
        Registry {
            inner: Arc::new(RwLock::new(Vec::new())),
            limit,
        }
    }

    /// Registers (or finds) a counter. By convention its name ends in `_total`; the text format
    /// shows the name as given, OpenMetrics names the family without `_total` and the sample
    /// with it.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<CounterVec, MetricsError> {
        check_label_names(name, label_names, &[])?;
        let family = self.register(
            name,
            help,
            label_names,
            Kind::Counter,
            |r| match r {
                Registered::Counter(f) => Some(f.clone()),
                _ => None,
            },
            Registered::Counter,
        )?;
        Ok(CounterVec(family))
    }

    /// Registers (or finds) a gauge.
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<GaugeVec, MetricsError> {
        check_label_names(name, label_names, &[])?;
        let family = self.register(
            name,
            help,
            label_names,
            Kind::Gauge,
            |r| match r {
                Registered::Gauge(f) => Some(f.clone()),
                _ => None,
            },
            Registered::Gauge,
        )?;
        Ok(GaugeVec(family))
    }

    /// Registers (or finds) a histogram with these bucket upper bounds (finite, strictly
    /// increasing; `+Inf` is added). The label name `le` is reserved.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        buckets: &[f64],
    ) -> Result<HistogramVec, MetricsError> {
        check_label_names(name, label_names, &["le"])?;
        let increasing = buckets.windows(2).all(|w| w[0] < w[1]);
        if buckets.is_empty() || !increasing || buckets.iter().any(|b| !b.is_finite()) {
            return Err(MetricsError::InvalidBuckets {
                metric: name.to_string(),
                buckets: buckets.to_vec(),
            });
        }
        let kind = Kind::Histogram(Arc::from(buckets));
        let family = self.register(
            name,
            help,
            label_names,
            kind,
            |r| match r {
                Registered::Histogram(f) => Some(f.clone()),
                _ => None,
            },
            Registered::Histogram,
        )?;
        Ok(HistogramVec(family))
    }

    fn register<V: Value>(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        kind: Kind,
        same_type: impl Fn(&Registered) -> Option<Arc<Family<V>>>,
        wrap: impl Fn(Arc<Family<V>>) -> Registered,
    ) -> Result<Arc<Family<V>>, MetricsError> {
        check_metric_name(name)?;
        let mut families = self.inner.write();
        // Names are compared as OpenMetrics families, where `x_total` (counter) and `x` collide.
        let family_name = |n: &str, k: &Kind| match k {
            Kind::Counter => counter_family_name(n).to_string(),
            _ => n.to_string(),
        };
        let wanted = family_name(name, &kind);
        for existing in families.iter() {
            let (existing_name, existing_kind) = match existing {
                Registered::Counter(f) => (f.name.as_str(), &f.kind),
                Registered::Gauge(f) => (f.name.as_str(), &f.kind),
                Registered::Histogram(f) => (f.name.as_str(), &f.kind),
            };
            if existing_name != name && family_name(existing_name, existing_kind) != wanted {
                continue;
            }
            if let Some(f) = same_type(existing) {
                let same_labels = f
                    .label_names
                    .iter()
                    .map(String::as_str)
                    .eq(label_names.iter().copied());
                if f.name == name && f.help == help && f.kind == kind && same_labels {
                    return Ok(f);
                }
            }
            return Err(MetricsError::Conflict(name.to_string()));
        }
        let family = Arc::new(Family::new(name, help, label_names, kind, self.limit));
        families.push(wrap(family.clone()));
        Ok(family)
    }

    /// The whole registry in one exposition format.
    pub fn encode(&self, format: Format) -> String {
        let families: Vec<Registered> = self.inner.read().clone();
        exposition::encode(&families, format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registering_again_finds_the_same_family() {
        let r = Registry::new();
        let a = r.counter("orders_total", "Orders.", &["kind"]).unwrap();
        let b = r.counter("orders_total", "Orders.", &["kind"]).unwrap();
        a.with(&["book"]).inc();
        assert_eq!(b.with(&["book"]).get(), 1.0);
    }

    #[test]
    fn conflicts_are_errors() {
        let r = Registry::new();
        r.counter("orders_total", "Orders.", &["kind"]).unwrap();
        assert_eq!(
            r.gauge("orders_total", "Orders.", &["kind"]).unwrap_err(),
            MetricsError::Conflict("orders_total".into())
        );
        assert!(r.counter("orders_total", "Other help.", &["kind"]).is_err());
        assert!(r.counter("orders_total", "Orders.", &["other"]).is_err());
        // The OpenMetrics family `orders` is taken by `orders_total`.
        assert!(r.gauge("orders", "x", &[]).is_err());
        assert!(r.counter("orders", "Orders.", &["kind"]).is_err());
    }

    #[test]
    fn bad_buckets_and_names_are_errors() {
        let r = Registry::new();
        for bad in [&[][..], &[1.0, 1.0], &[2.0, 1.0], &[1.0, f64::INFINITY]] {
            let err = r.histogram("h", "h", &[], bad).unwrap_err();
            assert!(matches!(err, MetricsError::InvalidBuckets { .. }), "{err}");
        }
        assert!(matches!(
            r.histogram("h", "h", &["le"], &[1.0]).unwrap_err(),
            MetricsError::ReservedLabelName { .. }
        ));
        assert!(matches!(
            r.gauge("bad-name", "h", &[]).unwrap_err(),
            MetricsError::InvalidMetricName(_)
        ));
    }
}
