//! From the stack file's services to supervisor specs, with the environment every replica gets
//! so OpenTelemetry and Pyroscope SDKs find the server without configuration.

use crate::config::Settings;
use crate::stack_services::{Restart, ServiceConfig};
use collector::services::{PortSpec, RestartPolicy, ServiceSpec};
use std::net::SocketAddr;

/// An address a client can connect to: a wildcard listen address means "this machine".
pub fn client_addr(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    a
}

/// The supervisor spec of one service, with the injected variables the service does not set:
/// `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` (`service.namespace=<project>,
/// service.instance.id=<instance>`, the instance expanded per replica by the supervisor),
/// `OTEL_EXPORTER_OTLP_ENDPOINT` and `PYROSCOPE_SERVER_ADDRESS`.
pub fn spec(s: &ServiceConfig, settings: &Settings) -> ServiceSpec {
    let mut env = s.env.clone();
    let resource = format!(
        "service.namespace={},service.instance.id=${{{}}}",
        settings.project,
        collector::services::VAR_INSTANCE
    );
    let injected = [
        ("OTEL_SERVICE_NAME", s.name.clone()),
        ("OTEL_RESOURCE_ATTRIBUTES", resource),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", client_addr(settings.otlp_grpc_addr)),
        ),
        (
            "PYROSCOPE_SERVER_ADDRESS",
            format!("http://{}", client_addr(settings.pyroscope_addr)),
        ),
    ];
    for (k, v) in injected {
        env.entry(k.to_string()).or_insert(v);
    }
    ServiceSpec {
        name: s.name.clone(),
        command: s.command.clone(),
        args: s.args.clone(),
        env,
        cwd: s.cwd.clone(),
        replicas: s.replicas,
        restart: match s.restart {
            Restart::Always => RestartPolicy::Always,
            Restart::OnFailure => RestartPolicy::OnFailure,
            Restart::No => RestartPolicy::No,
        },
        port: s.port.as_ref().map(|(base, var)| PortSpec {
            base: *base,
            env: var.clone(),
        }),
        labels: s.labels.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injects_unless_set() {
        let raw = crate::config::parse_str(
            "services:\n  web:\n    command: x\n    env: {OTEL_SERVICE_NAME: custom}\n    port: 8000\n",
            "t.yaml",
        )
        .unwrap();
        let args = crate::cli::SharedArgs {
            project: Some("dev".into()),
            otlp_grpc_addr: Some("0.0.0.0:4317".into()),
            ..Default::default()
        };
        let settings = crate::config::resolve(&args, raw, None).unwrap();
        let sp = spec(&settings.services[0], &settings);
        assert_eq!(sp.env["OTEL_SERVICE_NAME"], "custom");
        assert_eq!(
            sp.env["OTEL_RESOURCE_ATTRIBUTES"],
            "service.namespace=dev,service.instance.id=${TETRAD_INSTANCE}"
        );
        assert_eq!(
            sp.env["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://127.0.0.1:4317"
        );
        assert_eq!(sp.env["PYROSCOPE_SERVER_ADDRESS"], "http://127.0.0.1:4040");
        assert_eq!(sp.port.as_ref().map(|p| p.base), Some(8000));
    }
}
