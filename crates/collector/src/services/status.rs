//! The state of every replica, shared between the replica tasks and the supervisor's callers.

use std::fmt;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use tokio::sync::watch;

/// How a replica's process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It could not be started at all (the program vanished, permissions, limits).
    SpawnFailed(String),
}

impl ExitReason {
    /// Whether the exit counts as a success (code 0) for the `on-failure` policy.
    pub fn is_success(&self) -> bool {
        matches!(self, ExitReason::Code(0))
    }

    pub(crate) fn from_status(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitReason::Code(code),
            (None, Some(signal)) => ExitReason::Signal(signal),
            // Neither code nor signal: a stopped/continued report, which wait() never returns.
            (None, None) => ExitReason::Code(-1),
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Code(code) => write!(f, "exit code {code}"),
            ExitReason::Signal(signal) => write!(f, "signal {signal}"),
            ExitReason::SpawnFailed(reason) => write!(f, "failed to start: {reason}"),
        }
    }
}

/// Where a replica is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// Being spawned.
    Starting,
    /// Its process is alive.
    Running,
    /// It exited and waits out its restart delay.
    Backoff,
    /// It exited and its restart policy keeps it down.
    Exited(ExitReason),
    /// The supervisor stopped it (shutdown).
    Stopped,
}

impl ReplicaState {
    /// Whether the replica's process is alive (what the live-replicas metric counts).
    pub fn is_running(&self) -> bool {
        matches!(self, ReplicaState::Running)
    }

    /// A one-word name: `starting`, `running`, `backoff`, `exited`, `stopped`.
    pub fn name(&self) -> &'static str {
        match self {
            ReplicaState::Starting => "starting",
            ReplicaState::Running => "running",
            ReplicaState::Backoff => "backoff",
            ReplicaState::Exited(_) => "exited",
            ReplicaState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for ReplicaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplicaState::Exited(reason) => write!(f, "exited ({reason})"),
            other => f.write_str(other.name()),
        }
    }
}

/// A snapshot of one replica, as `tetrad ps` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// The service's name.
    pub service: String,
    /// Replica number, from 1.
    pub replica: u32,
    /// `<service>-<replica>`, the `instance` label.
    pub instance: String,
    /// Process id (and process group id) while a process is alive.
    pub pid: Option<u32>,
    /// Where the replica is in its life.
    pub state: ReplicaState,
    /// How many times it was started again after an exit.
    pub restarts: u32,
    /// When its current (or last) process started.
    pub started_at: Option<SystemTime>,
    /// How its previous process ended.
    pub last_exit: Option<ExitReason>,
    /// Its port, when the service has a `port`.
    pub port: Option<u16>,
    /// While in [`ReplicaState::Backoff`]: the delay before the next start.
    pub restart_delay: Option<Duration>,
}

/// One replica's public status plus the process group the supervisor must clean up.
struct Slot {
    status: ReplicaStatus,
    /// Kept until every process of the group is gone, which can be after the leader exits.
    pgid: Option<i32>,
}

/// The status table and its change counter.
pub(crate) struct StatusBoard {
    slots: Mutex<Vec<Slot>>,
    changes: watch::Sender<u64>,
}

impl StatusBoard {
    pub fn new(initial: Vec<ReplicaStatus>) -> Self {
        StatusBoard {
            slots: Mutex::new(
                initial
                    .into_iter()
                    .map(|status| Slot { status, pgid: None })
                    .collect(),
            ),
            changes: watch::Sender::new(0),
        }
    }

    pub fn snapshot(&self) -> Vec<ReplicaStatus> {
        self.slots.lock().iter().map(|s| s.status.clone()).collect()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Changes replica `index` and bumps the change counter.
    pub fn update(&self, index: usize, change: impl FnOnce(&mut ReplicaStatus)) {
        if let Some(slot) = self.slots.lock().get_mut(index) {
            change(&mut slot.status);
        }
        self.changes.send_modify(|n| *n += 1);
    }

    pub fn set_group(&self, index: usize, pgid: Option<i32>) {
        if let Some(slot) = self.slots.lock().get_mut(index) {
            slot.pgid = pgid;
        }
    }

    /// Process groups that may still have members.
    pub fn live_groups(&self) -> Vec<i32> {
        self.slots.lock().iter().filter_map(|s| s.pgid).collect()
    }
}
