use super::config::*;
use super::duration::PromDuration;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    global: GlobalConfig,
    #[serde(default)]
    scrape_configs: Vec<ScrapeConfig>,
}

fn load(yaml: &str) -> Result<Vec<ResolvedScrapeConfig>, String> {
    let f: File = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
    validate(&f.global, &f.scrape_configs).map_err(|e| e.to_string())
}

#[test]
fn full_config_parses_with_prometheus_names() {
    let yaml = r#"
global:
  scrape_interval: 30s
  external_labels: {region: eu}
scrape_configs:
  - job_name: node
    scrape_interval: 1m30s
    metrics_path: /m
    scheme: https
    params: {module: [a, b]}
    honor_labels: true
    honor_timestamps: false
    sample_limit: 100
    label_limit: 30
    body_size_limit: 10MB
    basic_auth: {username: u, password: p}
    tls_config: {insecure_skip_verify: true}
    static_configs:
      - targets: ['localhost:9100', 'h:1']
        labels: {env: prod}
    file_sd_configs:
      - files: ['targets/*.json', 'x.yml']
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):.*'
        target_label: host
      - action: hashmod
        source_labels: [__address__]
        modulus: 4
        target_label: shard
    metric_relabel_configs:
      - action: labeldrop
        regex: tmp_.*
  - job_name: self
    authorization: {credentials: secret}
    static_configs: [{targets: ['127.0.0.1:3000']}]
"#;
    let cfgs = load(yaml).unwrap();
    assert_eq!(cfgs.len(), 2);
    let node = &cfgs[0];
    assert_eq!(node.interval, PromDuration::from_secs(90));
    assert_eq!(node.timeout, PromDuration::from_secs(10));
    assert_eq!(node.config.body_size_limit.0, 10 << 20);
    assert!(!node.config.honor_timestamps);
    assert_eq!(node.relabel.len(), 2);
    assert_eq!(node.metric_relabel.len(), 1);
    assert_eq!(
        node.config.static_configs[0]
            .labels
            .get("env")
            .map(String::as_str),
        Some("prod")
    );
    let me = &cfgs[1];
    assert_eq!(me.interval, PromDuration::from_secs(30));
    assert_eq!(me.config.metrics_path, "/metrics");
    assert!(me.config.honor_timestamps);
    assert_eq!(
        me.config.authorization.as_ref().unwrap().auth_type,
        "Bearer"
    );
}

#[test]
fn defaults_are_tetrads() {
    let cfgs = load("scrape_configs: [{job_name: a}]").unwrap();
    assert_eq!(cfgs[0].interval, PromDuration::from_secs(15));
    assert_eq!(cfgs[0].timeout, PromDuration::from_secs(10));
    // An unset timeout is capped at a shorter interval.
    let cfgs = load("scrape_configs: [{job_name: a, scrape_interval: 5s}]").unwrap();
    assert_eq!(cfgs[0].timeout, PromDuration::from_secs(5));
    // As Prometheus: a short global interval alone cuts the default global timeout too...
    let cfgs = load("global: {scrape_interval: 1s}\nscrape_configs: [{job_name: a}]").unwrap();
    assert_eq!(cfgs[0].timeout, PromDuration::from_secs(1));
    // ...but an explicit global timeout over the interval is an error.
    let e =
        load("global: {scrape_interval: 1s, scrape_timeout: 2s}\nscrape_configs: []").unwrap_err();
    assert!(
        e.contains("global scrape timeout greater than scrape interval"),
        "{e}"
    );
}

#[test]
fn errors_name_the_key() {
    let cases = [
        (
            "scrape_configs: [{job_name: a}, {job_name: b}, {job_name: c, relabel_configs: [{action: foo}]}]",
            "scrape_configs[2].relabel_configs[0].action: unknown action \"foo\"",
        ),
        (
            "scrape_configs: [{job_name: a}, {job_name: a}]",
            "scrape_configs[1].job_name: found multiple scrape configs with job name \"a\"",
        ),
        (
            "scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 10s}]",
            "scrape_configs[0].scrape_timeout: scrape timeout greater than scrape interval",
        ),
        (
            "scrape_configs: [{job_name: a, static_configs: [{targets: ['h/x']}]}]",
            "scrape_configs[0].static_configs[0].targets[0]: \"h/x\" is not a valid hostname",
        ),
        (
            "scrape_configs: [{job_name: a, file_sd_configs: [{files: [a.txt]}]}]",
            "scrape_configs[0].file_sd_configs[0].files[0]: path name \"a.txt\"",
        ),
        (
            "scrape_configs: [{job_name: a, metric_relabel_configs: [{action: hashmod, target_label: x}]}]",
            "scrape_configs[0].metric_relabel_configs[0].modulus:",
        ),
        (
            "scrape_configs: [{job_name: a, basic_auth: {username: u}, bearer_token: t}]",
            "at most one of basic_auth",
        ),
    ];
    for (yaml, want) in cases {
        let e = load(yaml).unwrap_err();
        assert!(e.contains(want), "{e}\nshould contain {want}");
    }
}

#[test]
fn unknown_fields_and_bad_durations_refused() {
    let e = load("scrape_configs: [{job_name: a, scrape_intervall: 5s}]").unwrap_err();
    assert!(e.contains("scrape_intervall"), "{e}");
    let e = load("scrape_configs: [{job_name: a, scrape_interval: 5}]").unwrap_err();
    assert!(e.contains("duration"), "{e}");
    let e = load("scrape_configs: [{job_name: a, tls_config: {ca_file: x}}]").unwrap_err();
    assert!(e.contains("ca_file"), "{e}");
}
