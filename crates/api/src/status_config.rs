//! The collection config as Prometheus' `/api/v1/status/config` shows it: YAML in the order and
//! style Prometheus 2.42 prints (go-yaml v2), defaults filled in, and every secret (passwords,
//! bearer tokens, credentials) replaced by `<secret>`.
//!
//! Written by hand rather than through a YAML serializer because the exact shape matters to
//! tools that diff it against Prometheus (field order, flow-style `source_labels`, which strings
//! get quoted and how), and because secrets must never reach the output by accident: every field
//! printed here is chosen explicitly.

use collector::scrape::relabel::RelabelConfig;
use collector::scrape::{ByteSize, GlobalConfig, PromDuration, ScrapeConfig};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What Prometheus prints in place of a secret.
pub const SECRET: &str = "<secret>";

/// Renders `global:` and `scrape_configs:` as Prometheus does.
pub fn render(global: &GlobalConfig, jobs: &[ScrapeConfig]) -> String {
    let mut y = Yaml::default();
    y.key(0, "global");
    y.kv(1, "scrape_interval", &global.scrape_interval.to_string());
    y.kv(1, "scrape_timeout", &global.scrape_timeout.to_string());
    y.kv(
        1,
        "evaluation_interval",
        &global.evaluation_interval.to_string(),
    );
    if let Some(f) = global.query_log_file.as_deref().filter(|f| !f.is_empty()) {
        y.kv(1, "query_log_file", f);
    }
    if !global.external_labels.is_empty() {
        y.map(1, "external_labels", &global.external_labels);
    }
    if jobs.is_empty() {
        return y.out;
    }
    y.key(0, "scrape_configs");
    for job in jobs {
        render_job(&mut y, global, job);
    }
    y.out
}

fn render_job(y: &mut Yaml, global: &GlobalConfig, job: &ScrapeConfig) {
    // A job's keys sit one level in; the `- ` of the list item takes the first key's indent.
    y.item_kv(0, "job_name", &job.job_name);
    if job.honor_labels {
        y.raw(1, "honor_labels", "true");
    }
    y.raw(1, "honor_timestamps", bool_str(job.honor_timestamps));
    if !job.params.is_empty() {
        y.key(1, "params");
        for (k, vs) in &job.params {
            y.list(2, k, vs);
        }
    }
    let interval = job.scrape_interval.unwrap_or(global.scrape_interval);
    let timeout = effective_timeout(global, job, interval);
    y.kv(1, "scrape_interval", &interval.to_string());
    y.kv(1, "scrape_timeout", &timeout.to_string());
    y.kv(1, "metrics_path", &job.metrics_path);
    y.kv(1, "scheme", &job.scheme);
    if job.body_size_limit.0 > 0 {
        y.kv(1, "body_size_limit", &byte_size(job.body_size_limit));
    }
    for (key, n) in [
        ("sample_limit", job.sample_limit),
        ("target_limit", job.target_limit),
        ("label_limit", job.label_limit),
        ("label_name_length_limit", job.label_name_length_limit),
        ("label_value_length_limit", job.label_value_length_limit),
    ] {
        if n > 0 {
            y.raw(1, key, &n.to_string());
        }
    }
    render_http_client(y, job);
    render_relabel(y, "relabel_configs", &job.relabel_configs);
    render_relabel(y, "metric_relabel_configs", &job.metric_relabel_configs);
    // Service discovery blocks come last, ordered by key as Prometheus prints them.
    if !job.file_sd_configs.is_empty() {
        y.key(1, "file_sd_configs");
        for sd in &job.file_sd_configs {
            y.item_list(1, "files", &sd.files);
            y.kv(2, "refresh_interval", &sd.refresh_interval.to_string());
        }
    }
    if !job.static_configs.is_empty() {
        y.key(1, "static_configs");
        for sc in &job.static_configs {
            y.item_list(1, "targets", &sc.targets);
            if !sc.labels.is_empty() {
                y.map(2, "labels", &sc.labels);
            }
        }
    }
}

/// Prometheus: an unset job timeout is the global one, cut to the job's interval when longer.
fn effective_timeout(
    global: &GlobalConfig,
    job: &ScrapeConfig,
    interval: PromDuration,
) -> PromDuration {
    job.scrape_timeout
        .unwrap_or_else(|| global.scrape_timeout.min(interval))
}

fn render_http_client(y: &mut Yaml, job: &ScrapeConfig) {
    if let Some(b) = &job.basic_auth {
        y.key(1, "basic_auth");
        y.kv(2, "username", &b.username);
        if b.password.as_deref().is_some_and(|p| !p.is_empty()) {
            y.kv(2, "password", SECRET);
        }
        if let Some(f) = b.password_file.as_deref().filter(|f| !f.is_empty()) {
            y.kv(2, "password_file", f);
        }
    }
    // Prometheus folds the legacy bearer_token(_file) into `authorization` when it loads.
    let legacy_token = job.bearer_token.as_deref().filter(|t| !t.is_empty());
    let legacy_file = job.bearer_token_file.as_deref().filter(|t| !t.is_empty());
    if let Some(a) = &job.authorization {
        y.key(1, "authorization");
        y.kv(2, "type", &a.auth_type);
        if a.credentials.as_deref().is_some_and(|c| !c.is_empty()) {
            y.kv(2, "credentials", SECRET);
        }
        if let Some(f) = a.credentials_file.as_deref().filter(|f| !f.is_empty()) {
            y.kv(2, "credentials_file", f);
        }
    } else if legacy_token.is_some() || legacy_file.is_some() {
        y.key(1, "authorization");
        y.kv(2, "type", "Bearer");
        if legacy_token.is_some() {
            y.kv(2, "credentials", SECRET);
        }
        if let Some(f) = legacy_file {
            y.kv(2, "credentials_file", f);
        }
    }
    if job
        .tls_config
        .as_ref()
        .is_some_and(|t| t.insecure_skip_verify)
    {
        y.key(1, "tls_config");
        y.raw(2, "insecure_skip_verify", "true");
    }
    y.raw(
        1,
        "follow_redirects",
        bool_str(job.follow_redirects.unwrap_or(true)),
    );
    y.raw(
        1,
        "enable_http2",
        bool_str(job.enable_http2.unwrap_or(true)),
    );
}

fn render_relabel(y: &mut Yaml, key: &str, rules: &[RelabelConfig]) {
    if rules.is_empty() {
        return;
    }
    y.key(1, key);
    for r in rules {
        // (key, value already in YAML form), written as one list item.
        let mut fields: Vec<(&str, String)> = Vec::new();
        if !r.source_labels.is_empty() {
            let flow: Vec<String> = r.source_labels.iter().map(|s| scalar(s)).collect();
            fields.push(("source_labels", format!("[{}]", flow.join(", "))));
        }
        fields.push(("separator", scalar(&r.separator)));
        fields.push(("regex", scalar(&r.regex)));
        if r.modulus > 0 {
            fields.push(("modulus", r.modulus.to_string()));
        }
        if !r.target_label.is_empty() {
            fields.push(("target_label", scalar(&r.target_label)));
        }
        fields.push(("replacement", scalar(&r.replacement)));
        fields.push(("action", scalar(&r.action)));
        for (i, (k, v)) in fields.iter().enumerate() {
            if i == 0 {
                y.item_raw(1, k, v);
            } else {
                y.raw(2, k, v);
            }
        }
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Byte sizes as Prometheus prints them: the largest base-2 unit that divides exactly.
fn byte_size(b: ByteSize) -> String {
    let n = b.0;
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{}{unit}", n >> shift);
        }
    }
    format!("{n}B")
}

/// A YAML document written line by line, two spaces per level, lists at their key's indent.
#[derive(Default)]
struct Yaml {
    out: String,
}

impl Yaml {
    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("  ");
        }
    }
    fn key(&mut self, level: usize, k: &str) {
        self.indent(level);
        let _ = writeln!(self.out, "{}:", scalar(k));
    }
    fn kv(&mut self, level: usize, k: &str, v: &str) {
        self.raw(level, k, &scalar(v));
    }
    fn raw(&mut self, level: usize, k: &str, v: &str) {
        self.indent(level);
        let _ = writeln!(self.out, "{}: {v}", scalar(k));
    }
    /// `- k: v`, the first key of a list item whose list key is at `level`.
    fn item_kv(&mut self, level: usize, k: &str, v: &str) {
        self.item_raw(level, k, &scalar(v));
    }
    fn item_raw(&mut self, level: usize, k: &str, v: &str) {
        self.indent(level);
        let _ = writeln!(self.out, "- {}: {v}", scalar(k));
    }
    /// `- k:` followed by its items (or `- k: []`).
    fn item_list(&mut self, level: usize, k: &str, items: &[String]) {
        if items.is_empty() {
            self.item_raw(level, k, "[]");
            return;
        }
        self.indent(level);
        let _ = writeln!(self.out, "- {}:", scalar(k));
        for i in items {
            self.indent(level + 1);
            let _ = writeln!(self.out, "- {}", scalar(i));
        }
    }
    fn list(&mut self, level: usize, k: &str, items: &[String]) {
        if items.is_empty() {
            self.raw(level, k, "[]");
            return;
        }
        self.key(level, k);
        for i in items {
            self.indent(level);
            let _ = writeln!(self.out, "- {}", scalar(i));
        }
    }
    fn map(&mut self, level: usize, k: &str, m: &BTreeMap<String, String>) {
        self.key(level, k);
        for (k, v) in m {
            self.kv(level + 1, k, v);
        }
    }
}

/// A string as go-yaml v2 writes it: plain when that reads back as the same string,
/// double-quoted when it would read back as another type (`"true"`, `"12"`, `""`) or holds
/// control characters, single-quoted when it merely needs quoting for syntax (`'*star'`).
pub fn scalar(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        return double_quoted(s);
    }
    if resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if needs_quotes(s) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    s.to_string()
}

fn double_quoted(s: &str) -> String {
    // JSON string escapes are valid YAML double-quoted escapes.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
}

/// YAML 1.1 plain scalars that are not strings: booleans, null, numbers, infinities.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let plain = s.replace('_', "");
    let unsigned = plain.trim_start_matches(['+', '-']);
    if unsigned.is_empty() {
        return false;
    }
    let radix = |p: &str, r: u32| {
        unsigned
            .strip_prefix(p)
            .is_some_and(|d| !d.is_empty() && u64::from_str_radix(d, r).is_ok())
    };
    if radix("0x", 16) || radix("0b", 2) || radix("0o", 8) {
        return true;
    }
    unsigned.chars().all(|c| c.is_ascii_digit())
        || (unsigned.chars().any(|c| c.is_ascii_digit())
            && unsigned
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
            && unsigned.parse::<f64>().is_ok())
}

/// Whether a plain scalar would be misread: indicator first characters, `: ` or ` #` inside,
/// leading or trailing spaces, a trailing colon.
fn needs_quotes(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-`, `?` and `:` start a plain scalar only when followed by a non-space.
        let second = s.chars().nth(1);
        let safe_dash = matches!(first, '-' | '?' | ':') && second.is_some_and(|c| c != ' ');
        if !safe_dash || s == "---" {
            return true;
        }
    }
    s.starts_with(' ')
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> (GlobalConfig, Vec<ScrapeConfig>) {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            global: Option<GlobalConfig>,
            #[serde(default)]
            scrape_configs: Vec<ScrapeConfig>,
        }
        let f: File = serde_json::from_str(yaml).unwrap();
        (f.global.unwrap_or_default(), f.scrape_configs)
    }

    #[test]
    fn scalars_are_quoted_as_go_yaml_quotes_them() {
        // Expectations from Prometheus 2.42's /api/v1/status/config.
        for (input, want) in [
            ("a: b", "'a: b'"),
            ("", "\"\""),
            ("x #y", "'x #y'"),
            ("n", "\"n\""),
            ("12", "\"12\""),
            ("it's", "it's"),
            ("*star", "'*star'"),
            (" lead", "' lead'"),
            ("true", "\"true\""),
            ("(.*):.*", "(.*):.*"),
            (";", ";"),
            ("$1", "$1"),
            ("127.0.0.1:9", "127.0.0.1:9"),
            ("/metrics", "/metrics"),
            ("1.5", "\"1.5\""),
            ("0x1F", "\"0x1F\""),
            ("line\nbreak", "\"line\\nbreak\""),
        ] {
            assert_eq!(scalar(input), want, "{input:?}");
        }
    }

    #[test]
    fn renders_like_prometheus_with_secrets_redacted() {
        let (global, jobs) = parse(
            r#"{"global": {"scrape_interval": "15s", "external_labels": {"site": "a"}},
                "scrape_configs": [
                  {"job_name": "app", "static_configs": [{"targets": ["127.0.0.1:9"], "labels": {"env": "dev"}}]},
                  {"job_name": "auth", "scrape_interval": "5s", "metrics_path": "/m",
                   "params": {"x": ["a", "b"]},
                   "basic_auth": {"username": "u", "password": "secretpw"},
                   "file_sd_configs": [{"files": ["/tmp/x.json"]}],
                   "relabel_configs": [
                     {"source_labels": ["__address__"], "regex": "(.*):.*", "target_label": "host", "replacement": "$1"},
                     {"action": "labeldrop", "regex": "foo"}]},
                  {"job_name": "tok", "bearer_token": "tokensecret", "honor_labels": true,
                   "tls_config": {"insecure_skip_verify": true}, "sample_limit": 100,
                   "body_size_limit": "10MB", "static_configs": [{"targets": []}]}
                ]}"#,
        );
        let y = render(&global, &jobs);
        let want = "\
global:
  scrape_interval: 15s
  scrape_timeout: 10s
  evaluation_interval: 15s
  external_labels:
    site: a
scrape_configs:
- job_name: app
  honor_timestamps: true
  scrape_interval: 15s
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets:
    - 127.0.0.1:9
    labels:
      env: dev
- job_name: auth
  honor_timestamps: true
  params:
    x:
    - a
    - b
  scrape_interval: 5s
  scrape_timeout: 5s
  metrics_path: /m
  scheme: http
  basic_auth:
    username: u
    password: <secret>
  follow_redirects: true
  enable_http2: true
  relabel_configs:
  - source_labels: [__address__]
    separator: ;
    regex: (.*):.*
    target_label: host
    replacement: $1
    action: replace
  - separator: ;
    regex: foo
    replacement: $1
    action: labeldrop
  file_sd_configs:
  - files:
    - /tmp/x.json
    refresh_interval: 5m
- job_name: tok
  honor_labels: true
  honor_timestamps: true
  scrape_interval: 15s
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  body_size_limit: 10MiB
  sample_limit: 100
  authorization:
    type: Bearer
    credentials: <secret>
  tls_config:
    insecure_skip_verify: true
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets: []
";
        assert_eq!(y, want);
        assert!(!y.contains("secretpw") && !y.contains("tokensecret"));
    }
}
