//! The registration `tetrad up` keeps on the server: built from the supervisor's status and
//! the stack file's services, sent on every state change and every [`HEARTBEAT`].

use crate::stack_services::ServiceConfig;
use api::projects::{ProjectRegistration, ReplicaRegistration, ServiceRegistration};
use collector::services::ReplicaStatus;
use std::time::{Duration, UNIX_EPOCH};

/// How often a project's registration is repeated.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long the server keeps a project without heartbeat.
pub const TTL: Duration = Duration::from_secs(30);

/// The registration of the services `services` in the state `status`.
pub fn build(services: &[ServiceConfig], status: &[ReplicaStatus]) -> ProjectRegistration {
    let services = services
        .iter()
        .map(|s| ServiceRegistration {
            name: s.name.clone(),
            replicas_desired: s.replicas,
            metrics_path: s.metrics.as_ref().map(|m| m.path.clone()),
            labels: s.labels.clone(),
            replicas: status
                .iter()
                .filter(|r| r.service == s.name)
                .map(|r| ReplicaRegistration {
                    instance: r.instance.clone(),
                    pid: r.pid,
                    state: r.state.name().to_string(),
                    restarts: u64::from(r.restarts),
                    port: r.port,
                    metrics_target: s.metrics.as_ref().and_then(|m| {
                        let port = u32::from(m.base_port) + r.replica.saturating_sub(1);
                        u16::try_from(port).ok().map(|p| format!("127.0.0.1:{p}"))
                    }),
                    started_at_ms: r.started_at.and_then(|t| {
                        t.duration_since(UNIX_EPOCH)
                            .ok()
                            .map(|d| d.as_millis() as i64)
                    }),
                    last_exit: r.last_exit.as_ref().map(|e| e.to_string()),
                })
                .collect(),
        })
        .collect();
    ProjectRegistration {
        services,
        ttl_seconds: TTL.as_secs(),
    }
}
