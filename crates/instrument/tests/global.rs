//! `Telemetry::init` installs the process-wide subscriber (its own test binary, so its own
//! process).

use instrument::log::LogWriter;
use instrument::{Config, InitError, Telemetry};

#[test]
fn init_installs_the_global_subscriber_once() {
    let (writer, log) = LogWriter::memory();
    let telemetry = Telemetry::init(Config::new("svc").with_log_writer(writer)).unwrap();
    tracing::info!(answer = 42, "outside any request");
    tracing::debug!("filtered out at the default level");
    let lines = log.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("level=info ts="), "{}", lines[0]);
    assert!(
        lines[0].ends_with(r#"msg="outside any request" answer=42"#),
        "{}",
        lines[0]
    );
    let again = Telemetry::init(Config::new("svc"));
    assert!(
        matches!(again, Err(InitError::SubscriberAlreadySet(_))),
        "{again:?}"
    );
    drop(telemetry);
}

#[test]
fn bad_settings_are_named() {
    let err = Telemetry::new(Config::new("svc").with_log_filter("info,[[[")).unwrap_err();
    assert!(err.to_string().contains("invalid log filter"), "{err}");
    let err =
        Telemetry::new(Config::new("svc").with_otlp_endpoint("http://bad host:4317")).unwrap_err();
    assert!(err.to_string().contains("invalid OTLP endpoint"), "{err}");
    let mut config = Config::new("svc");
    config.metrics_path = "metrics".into();
    let err = Telemetry::new(config).unwrap_err();
    assert!(err.to_string().contains("invalid metrics path"), "{err}");
}
