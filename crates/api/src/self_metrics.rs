//! tetrad's own metrics, rendered in the Prometheus text format at `/metrics`.
//!
//! A deliberately small registry: counters and gauges keyed by name and label pairs, plus
//! collectors (closures) that report figures owned elsewhere (store sizes, process stats) at
//! render time, so hot paths only bump an atomic.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }
    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One rendered sample of a collector.
#[derive(Debug, Clone)]
pub struct CollectedSample {
    /// Metric name.
    pub name: String,
    /// Label pairs.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

type CollectFn = Box<dyn Fn() -> Vec<CollectedSample> + Send + Sync>;

struct Family {
    help: String,
    kind: &'static str,
    counters: BTreeMap<Vec<(String, String)>, Arc<Counter>>,
}

/// The registry.
#[derive(Default)]
pub struct Registry {
    families: Mutex<BTreeMap<String, Family>>,
    collectors: Mutex<Vec<(String, &'static str, String, CollectFn)>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter `name{labels}`, created on first use.
    pub fn counter(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<Counter> {
        let mut fams = self.families.lock();
        let fam = fams.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind: "counter",
            counters: BTreeMap::new(),
        });
        let key: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        fam.counters.entry(key).or_default().clone()
    }

    /// Every series of the counter family `name` with its value; empty when unknown.
    pub fn counter_values(&self, name: &str) -> Vec<(Vec<(String, String)>, u64)> {
        self.families
            .lock()
            .get(name)
            .map(|f| {
                f.counters
                    .iter()
                    .map(|(l, c)| (l.clone(), c.get()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Registers a collector for the family `name` of type `kind` (`gauge` or `counter`).
    pub fn register_collector(
        &self,
        name: &str,
        kind: &'static str,
        help: &str,
        f: impl Fn() -> Vec<CollectedSample> + Send + Sync + 'static,
    ) {
        self.collectors
            .lock()
            .push((name.to_string(), kind, help.to_string(), Box::new(f)));
    }

    /// Renders everything in the text format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, fam) in self.families.lock().iter() {
            let _ = writeln!(out, "# HELP {name} {}", fam.help);
            let _ = writeln!(out, "# TYPE {name} {}", fam.kind);
            for (labels, c) in &fam.counters {
                write_sample(&mut out, name, labels, c.get() as f64);
            }
        }
        for (name, kind, help, f) in self.collectors.lock().iter() {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for s in f() {
                write_sample(&mut out, &s.name, &s.labels, s.value);
            }
        }
        out
    }
}

fn write_sample(out: &mut String, name: &str, labels: &[(String, String)], v: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, val)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let escaped = val
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{escaped}\"");
        }
        out.push('}');
    }
    out.push(' ');
    crate::json::write_float(out, v);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_collectors() {
        let r = Registry::new();
        r.counter(
            "tetrad_http_requests_total",
            "Requests.",
            &[("handler", "/q")],
        )
        .add(3);
        r.register_collector("tetrad_series", "gauge", "Series.", || {
            vec![CollectedSample {
                name: "tetrad_series".into(),
                labels: vec![],
                value: 7.0,
            }]
        });
        let s = r.render();
        assert!(
            s.contains("tetrad_http_requests_total{handler=\"/q\"} 3\n"),
            "{s}"
        );
        assert!(
            s.contains("# TYPE tetrad_series gauge\ntetrad_series 7\n"),
            "{s}"
        );
    }
}
