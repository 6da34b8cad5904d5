//! Writing the registry in the Prometheus text format 0.0.4 and in OpenMetrics 1.0.
//!
//! The formats differ in a few places, all handled here: OpenMetrics names a counter family
//! without `_total` (the sample keeps it), escapes `"` in HELP, writes bucket bounds as
//! canonical floats (`1.0`, not `1`), carries exemplars on bucket lines and ends with `# EOF`.
//! Families without any label set are left out, as the Go client does.

use super::registry::{Registered, counter_family_name};
use super::value::Exemplar;
use crate::ids::hex;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// The Content-Type header for a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

fn push_escaped(out: &mut String, s: &str, escape_quote: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if escape_quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// A float as both formats spell it (`+Inf`, `-Inf`, `NaN`, shortest round-trip digits).
fn push_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v != 0.0 && !(1e-4..1e21).contains(&v.abs()) {
        // Exponent form at the extremes, as Go's 'g' formatting does, instead of hundreds of
        // digits.
        let _ = write!(out, "{v:e}");
    } else {
        // Writing to a String cannot fail.
        let _ = write!(out, "{v}");
    }
}

/// A bucket bound: OpenMetrics wants the canonical float form, so integers get `.0`.
fn push_bound(out: &mut String, v: f64, format: Format) {
    let start = out.len();
    push_float(out, v);
    if format == Format::OpenMetrics && v.is_finite() && !out[start..].contains(['.', 'e']) {
        out.push_str(".0");
    }
}

fn push_metadata(out: &mut String, family: &str, help: &str, metric_type: &str, format: Format) {
    out.push_str("# HELP ");
    out.push_str(family);
    out.push(' ');
    push_escaped(out, help, format == Format::OpenMetrics);
    out.push_str("\n# TYPE ");
    out.push_str(family);
    out.push(' ');
    out.push_str(metric_type);
    out.push('\n');
}

/// `name{a="x",b="y",le="z"} ` (the braces only when there are labels; `le` for buckets).
fn push_series(
    out: &mut String,
    name: &str,
    label_names: &[String],
    label_values: &[String],
    le: Option<(f64, Format)>,
) {
    out.push_str(name);
    if !label_names.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (n, v) in label_names.iter().zip(label_values) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(n);
            out.push_str("=\"");
            push_escaped(out, v, true);
            out.push('"');
        }
        if let Some((bound, format)) = le {
            if !first {
                out.push(',');
            }
            out.push_str("le=\"");
            push_bound(out, bound, format);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
}

fn push_exemplar(out: &mut String, e: &Exemplar) {
    out.push_str(" # {trace_id=\"");
    out.push_str(&hex(&e.trace_id));
    out.push_str("\",span_id=\"");
    out.push_str(&hex(&e.span_id));
    out.push_str("\"} ");
    push_float(out, e.value);
    // Seconds with millisecond precision, as the Go and Python clients write them.
    let _ = write!(out, " {:.3}", e.timestamp);
}

pub(crate) fn encode(families: &[Registered], format: Format) -> String {
    let mut out = String::with_capacity(4096);
    for family in families {
        match family {
            Registered::Counter(f) => {
                let children = f.snapshot();
                if children.is_empty() {
                    continue;
                }
                let (family_name, sample_name) = match format {
                    Format::Text => (f.name.clone(), f.name.clone()),
                    Format::OpenMetrics => {
                        let base = counter_family_name(&f.name);
                        (base.to_string(), format!("{base}_total"))
                    }
                };
                push_metadata(&mut out, &family_name, &f.help, "counter", format);
                for c in children {
                    push_series(
                        &mut out,
                        &sample_name,
                        &f.label_names,
                        &c.label_values,
                        None,
                    );
                    push_float(&mut out, c.value.get());
                    out.push('\n');
                }
            }
            Registered::Gauge(f) => {
                let children = f.snapshot();
                if children.is_empty() {
                    continue;
                }
                push_metadata(&mut out, &f.name, &f.help, "gauge", format);
                for c in children {
                    push_series(&mut out, &f.name, &f.label_names, &c.label_values, None);
                    push_float(&mut out, c.value.get());
                    out.push('\n');
                }
            }
            Registered::Histogram(f) => {
                let children = f.snapshot();
                if children.is_empty() {
                    continue;
                }
                push_metadata(&mut out, &f.name, &f.help, "histogram", format);
                let bucket_name = format!("{}_bucket", f.name);
                let sum_name = format!("{}_sum", f.name);
                let count_name = format!("{}_count", f.name);
                for c in children {
                    let h = &c.value.0;
                    // Counts are read once, so buckets, +Inf and _count agree with each other.
                    let counts: Vec<u64> =
                        h.counts.iter().map(|n| n.load(Ordering::Relaxed)).collect();
                    let sum = h.sum.get();
                    let mut cumulative = 0u64;
                    for (i, n) in counts.iter().enumerate() {
                        cumulative += n;
                        let bound = h.bounds.get(i).copied().unwrap_or(f64::INFINITY);
                        push_series(
                            &mut out,
                            &bucket_name,
                            &f.label_names,
                            &c.label_values,
                            Some((bound, format)),
                        );
                        let _ = write!(out, "{cumulative}");
                        if format == Format::OpenMetrics
                            && let Some(e) = *h.exemplars[i].lock()
                        {
                            push_exemplar(&mut out, &e);
                        }
                        out.push('\n');
                    }
                    push_series(&mut out, &sum_name, &f.label_names, &c.label_values, None);
                    push_float(&mut out, sum);
                    out.push('\n');
                    push_series(&mut out, &count_name, &f.label_names, &c.label_values, None);
                    let _ = writeln!(out, "{cumulative}");
                }
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Registry;

    fn sample_registry() -> Registry {
        let r = Registry::new();
        let c = r
            .counter(
                "orders_total",
                "Orders \"placed\".\nSecond line \\.",
                &["kind"],
            )
            .unwrap();
        c.with(&["bo\"ok"]).inc();
        c.with(&["a\\b\nc"]).inc_by(2.0);
        r.gauge("temperature", "Degrees.", &[])
            .unwrap()
            .with(&[])
            .set(-1.5);
        let h = r
            .histogram("latency_seconds", "Latency.", &["path"], &[0.1, 1.0])
            .unwrap();
        h.with(&["/x"])
            .observe_with_trace(0.05, Some(([0xab; 16], [0xcd; 8])));
        h.with(&["/x"]).observe(3.0);
        r.counter("unused_total", "Never touched.", &["x"]).unwrap();
        r
    }

    #[test]
    fn text_format() {
        let text = sample_registry().encode(Format::Text);
        let expected = r#"# HELP orders_total Orders "placed".\nSecond line \\.
# TYPE orders_total counter
orders_total{kind="a\\b\nc"} 2
orders_total{kind="bo\"ok"} 1
# HELP temperature Degrees.
# TYPE temperature gauge
temperature -1.5
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{path="/x",le="0.1"} 1
latency_seconds_bucket{path="/x",le="1"} 1
latency_seconds_bucket{path="/x",le="+Inf"} 2
latency_seconds_sum{path="/x"} 3.05
latency_seconds_count{path="/x"} 2
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn openmetrics_format() {
        let text = sample_registry().encode(Format::OpenMetrics);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(r#"# HELP orders Orders \"placed\".\nSecond line \\."#)
        );
        assert_eq!(lines.next(), Some("# TYPE orders counter"));
        assert_eq!(lines.next(), Some(r#"orders_total{kind="a\\b\nc"} 2"#));
        assert!(text.contains("temperature -1.5\n"));
        let bucket = text
            .lines()
            .find(|l| l.starts_with("latency_seconds_bucket{path=\"/x\",le=\"0.1\"}"))
            .unwrap();
        let want = format!(
            "latency_seconds_bucket{{path=\"/x\",le=\"0.1\"}} 1 # {{trace_id=\"{}\",span_id=\"{}\"}} 0.05 ",
            "ab".repeat(16),
            "cd".repeat(8)
        );
        assert!(bucket.starts_with(&want), "{bucket}");
        assert!(
            text.contains("latency_seconds_bucket{path=\"/x\",le=\"1.0\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("le=\"+Inf\"} 2\n"));
        assert!(text.ends_with("# EOF\n"));
        assert!(!text.contains("unused"));
    }

    #[test]
    fn floats() {
        let mut s = String::new();
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.25,
            3.0,
            0.0,
            1e21,
            -1.5e-7,
            1e20,
        ] {
            push_float(&mut s, v);
            s.push(' ');
        }
        assert_eq!(
            s,
            "NaN +Inf -Inf 0.25 3 0 1e21 -1.5e-7 100000000000000000000 "
        );
        let mut s = String::new();
        push_bound(&mut s, 2.0, Format::OpenMetrics);
        push_bound(&mut s, 2.5, Format::OpenMetrics);
        push_bound(&mut s, 2.0, Format::Text);
        assert_eq!(s, "2.02.52");
    }
}
