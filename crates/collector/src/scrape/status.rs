//! Target state as `/api/v1/targets` reports it.

use model::Labels;
use serde::Serialize;
use std::collections::BTreeMap;

/// Target health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// Last scrape succeeded.
    Up,
    /// Last scrape failed.
    Down,
}

/// One active target, with Prometheus' JSON field names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// Labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
    /// Final target labels.
    pub labels: BTreeMap<String, String>,
    /// The job name.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The URL as seen from elsewhere (same as `scrape_url` here).
    pub global_url: String,
    /// Error of the last scrape, empty when it succeeded.
    pub last_error: String,
    /// RFC 3339 time of the last scrape (`0001-01-01T00:00:00Z` when never scraped).
    pub last_scrape: String,
    /// Last scrape time in ms since the epoch, 0 when never scraped.
    #[serde(skip)]
    pub last_scrape_ms: i64,
    /// Seconds the last scrape took.
    pub last_scrape_duration: f64,
    /// Health.
    pub health: Health,
    /// Interval, e.g. `15s`.
    pub scrape_interval: String,
    /// Timeout, e.g. `10s`.
    pub scrape_timeout: String,
}

/// A target relabeling dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedTarget {
    /// Labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
}

/// Labels as a JSON object.
pub fn label_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_names_match_prometheus() {
        let t = TargetStatus {
            discovered_labels: BTreeMap::new(),
            labels: BTreeMap::new(),
            scrape_pool: "p".into(),
            scrape_url: "u".into(),
            global_url: "u".into(),
            last_error: String::new(),
            last_scrape: model::time::rfc3339_ms(0),
            last_scrape_ms: 0,
            last_scrape_duration: 0.0,
            health: Health::Unknown,
            scrape_interval: "15s".into(),
            scrape_timeout: "10s".into(),
        };
        let v = serde_json::to_value(&t).unwrap();
        for k in [
            "discoveredLabels",
            "labels",
            "scrapePool",
            "scrapeUrl",
            "globalUrl",
            "lastError",
            "lastScrape",
            "lastScrapeDuration",
            "health",
            "scrapeInterval",
            "scrapeTimeout",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["health"], "unknown");
        assert!(v.get("lastScrapeMs").is_none());
    }
}
