//! The supervisor: starts every replica task, answers status, and stops everything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use logs::LogSink;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error::ServiceError;
use super::process_group::{become_subreaper, signal_group};
use super::replica::{ReplicaPlan, Shared, run_replica};
use super::spec::{ServiceSpec, SupervisorOptions, validate_options, validate_specs};
use super::status::{ReplicaState, ReplicaStatus, StatusBoard};

/// Runs the replicas of a set of services until [`Supervisor::shutdown`] (or drop).
///
/// Each replica is a Tokio task that spawns its process, feeds its output to the log sink,
/// and restarts it by policy; the supervisor itself only holds the shared status table and
/// the shutdown signal.
pub struct Supervisor {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Set once `shutdown` has run to the end, so drop has nothing left to do.
    finished: bool,
}

impl Supervisor {
    /// Validates every spec, then starts all replicas; must be called inside a Tokio runtime
    /// (with I/O and time drivers). Nothing is started when any spec or option is wrong.
    ///
    /// On Linux this makes the current process a child subreaper (see the module docs).
    pub fn start(
        specs: Vec<ServiceSpec>,
        opts: SupervisorOptions,
        sink: Arc<dyn LogSink>,
    ) -> Result<Supervisor, ServiceError> {
        validate_options(&opts)?;
        let plans = validate_specs(specs)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ServiceError::NoRuntime)?;
        become_subreaper();

        let mut replicas = Vec::new();
        let mut initial = Vec::new();
        for plan in plans {
            let service = Arc::new(plan);
            for replica in 1..=service.spec.replicas {
                let instance = service.spec.instance(replica);
                let port = service.spec.port_of(replica);
                initial.push(ReplicaStatus {
                    service: service.spec.name.clone(),
                    replica,
                    instance: instance.clone(),
                    pid: None,
                    state: ReplicaState::Starting,
                    restarts: 0,
                    started_at: None,
                    last_exit: None,
                    port,
                    restart_delay: None,
                });
                replicas.push(ReplicaPlan {
                    index: replicas.len(),
                    service: service.clone(),
                    instance,
                    replica,
                    port,
                });
            }
        }
        let shared = Arc::new(Shared {
            board: StatusBoard::new(initial),
            sink,
            opts,
            dropped_records: Arc::new(AtomicU64::new(0)),
        });
        let (shutdown, _) = watch::channel(false);
        let tasks = replicas
            .into_iter()
            .map(|plan| runtime.spawn(run_replica(shared.clone(), plan, shutdown.subscribe())))
            .collect();
        Ok(Supervisor {
            shared,
            shutdown,
            tasks,
            finished: false,
        })
    }

    /// A snapshot of every replica, in spec order then replica order.
    pub fn status(&self) -> Vec<ReplicaStatus> {
        self.shared.board.snapshot()
    }

    /// A counter that goes up on every change of any replica's status; wait on it with
    /// `changed()` and read [`Supervisor::status`] for the new state.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.board.subscribe()
    }

    /// The project these services belong to.
    pub fn project(&self) -> &str {
        &self.shared.opts.project
    }

    /// Log records in batches the sink refused since start. With a `FanoutSink` a batch counts
    /// when any of its sinks refused it, though the others may have taken it.
    pub fn dropped_log_records(&self) -> u64 {
        self.shared.dropped_records.load(Ordering::Relaxed)
    }

    /// Stops every replica: SIGTERM to each process group, SIGKILL after the stop timeout,
    /// everything reaped; no replica restarts once this began. Returns, when all replica tasks
    /// have finished, the final status of every replica (`Stopped`, or `Exited` for those that
    /// were already down, with how each process ended).
    pub async fn shutdown(mut self) -> Vec<ReplicaStatus> {
        self.shutdown.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "replica task ended abnormally");
            }
        }
        self.finished = true;
        self.status()
    }
}

impl Drop for Supervisor {
    /// A supervisor dropped without `shutdown` (a panic, an early return) kills every process
    /// group it still has with SIGKILL, so a crashing parent leaves nothing behind; the replica
    /// tasks, if the runtime still runs them, then reap and finish without restarting.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.shutdown.send_replace(true);
        for pgid in self.shared.board.live_groups() {
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("project", &self.shared.opts.project)
            .field("replicas", &self.tasks.len())
            .finish()
    }
}
