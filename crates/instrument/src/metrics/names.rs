//! Validation of metric and label names, with errors that name the offending name.

use crate::error::MetricsError;

/// Checks `[a-zA-Z_:][a-zA-Z0-9_:]*`, the metric name syntax of both exposition formats.
pub(crate) fn check_metric_name(name: &str) -> Result<(), MetricsError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(MetricsError::InvalidMetricName(name.to_string()))
    }
}

/// Checks a label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for
/// Prometheus), not repeated, and not a name the metric type reserves (`le` for histograms).
pub(crate) fn check_label_names(
    metric: &str,
    names: &[&str],
    reserved: &[&str],
) -> Result<(), MetricsError> {
    for (i, name) in names.iter().enumerate() {
        let mut chars = name.chars();
        let syntax_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !syntax_ok || name.starts_with("__") {
            return Err(MetricsError::InvalidLabelName {
                metric: metric.to_string(),
                label: name.to_string(),
            });
        }
        if reserved.contains(name) {
            return Err(MetricsError::ReservedLabelName {
                metric: metric.to_string(),
                label: name.to_string(),
            });
        }
        if names[..i].contains(name) {
            return Err(MetricsError::DuplicateLabelName {
                metric: metric.to_string(),
                label: name.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        assert!(check_metric_name("http_requests_total").is_ok());
        assert!(check_metric_name("a:b_c9").is_ok());
        assert!(check_metric_name("9abc").is_err());
        assert!(check_metric_name("").is_err());
        assert!(check_metric_name("a-b").is_err());
    }

    #[test]
    fn label_names() {
        assert!(check_label_names("m", &["method", "path"], &[]).is_ok());
        let err = check_label_names("m", &["a", "a"], &[]).unwrap_err();
        assert!(err.to_string().contains("\"a\""), "{err}");
        assert!(check_label_names("m", &["__x"], &[]).is_err());
        assert!(check_label_names("m", &["le"], &["le"]).is_err());
        assert!(check_label_names("m", &["1a"], &[]).is_err());
    }
}
