//! Choosing the exposition format from a scraper's `Accept` header, as the Go client library
//! (`expfmt.NegotiateIncludingOpenMetrics`) does: media ranges ordered by `q` (highest first,
//! then the more specific), the first one we can serve wins; OpenMetrics for
//! `application/openmetrics-text` with version `1.0.0`, `0.0.1` or none, the text format for
//! `text/plain` with version `0.0.4` or none; anything else (no header, `*/*`, protobuf only)
//! gets the text format.

use super::exposition::Format;

struct MediaRange<'a> {
    media: &'a str,
    version: Option<&'a str>,
    q: f64,
    specificity: u8,
}

fn parse(accept: &str) -> Vec<MediaRange<'_>> {
    let mut out = Vec::new();
    for part in accept.split(',') {
        let mut params = part.split(';');
        let media = params.next().unwrap_or("").trim();
        if media.is_empty() {
            continue;
        }
        let mut version = None;
        let mut q = 1.0;
        for p in params {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim() {
                "version" => version = Some(v),
                "q" => q = v.parse().unwrap_or(0.0),
                _ => {}
            }
        }
        let specificity = match media.split_once('/') {
            Some(("*", _)) => 0,
            Some((_, "*")) => 1,
            _ => 2,
        };
        out.push(MediaRange {
            media,
            version,
            q,
            specificity,
        });
    }
    // Stable: equal ranges keep the order the client wrote them in.
    out.sort_by(|a, b| {
        b.q.total_cmp(&a.q)
            .then_with(|| b.specificity.cmp(&a.specificity))
    });
    out
}

/// The format to answer a scrape with, given its `Accept` header.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Text;
    };
    for range in parse(accept) {
        let media = range.media.to_ascii_lowercase();
        if media == "application/openmetrics-text"
            && matches!(range.version, None | Some("1.0.0") | Some("0.0.1"))
        {
            return Format::OpenMetrics;
        }
        if media == "text/plain" && matches!(range.version, None | Some("0.0.4")) {
            return Format::Text;
        }
    }
    Format::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_scrape_header_gets_openmetrics() {
        let prometheus_2_42 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prometheus_2_42)), Format::OpenMetrics);
    }

    #[test]
    fn text_by_default_and_by_preference() {
        assert_eq!(negotiate(None), Format::Text);
        assert_eq!(negotiate(Some("*/*")), Format::Text);
        assert_eq!(negotiate(Some("")), Format::Text);
        assert_eq!(
            negotiate(Some(
                "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"
            )),
            Format::Text
        );
        assert_eq!(
            negotiate(Some(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            )),
            Format::Text
        );
    }

    #[test]
    fn openmetrics_versions() {
        assert_eq!(
            negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
        assert_eq!(
            negotiate(Some("application/openmetrics-text; version=0.0.1")),
            Format::OpenMetrics
        );
        // An unknown version is skipped in favour of the next acceptable range.
        assert_eq!(
            negotiate(Some("application/openmetrics-text;version=2.0.0,*/*;q=0.1")),
            Format::Text
        );
        assert_eq!(
            negotiate(Some("*/*;q=0.1,application/openmetrics-text;version=1.0.0")),
            Format::OpenMetrics
        );
    }
}
