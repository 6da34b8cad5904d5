//! One replica's life: spawn, capture output, wait, restart with backoff, stop.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use logs::LogSink;
use model::{LOG_LABEL_INSTANCE, LOG_LABEL_PROJECT, LOG_LABEL_SERVICE, LOG_LABEL_STREAM, Labels};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::output::pump;
use super::process_group::{clear_group, stop_replica};
use super::spec::{RestartPolicy, ServicePlan, SupervisorOptions};
use super::status::{ExitReason, ReplicaState, StatusBoard};
use super::template::ReplicaVars;

/// How long output readers may take to drain after their process group is gone; a
/// descendant that escaped the group (`setsid`) can hold a pipe open forever.
const READER_DRAIN: Duration = Duration::from_secs(2);

/// What the supervisor shares with every replica task.
pub(crate) struct Shared {
    pub board: StatusBoard,
    pub sink: Arc<dyn LogSink>,
    pub opts: SupervisorOptions,
    /// Log records refused by the sink, counted and dropped.
    pub dropped_records: Arc<AtomicU64>,
}

/// Everything one replica needs to start a process.
pub(crate) struct ReplicaPlan {
    /// Index in the status table.
    pub index: usize,
    pub service: Arc<ServicePlan>,
    pub instance: String,
    /// Replica number, from 1.
    pub replica: u32,
    pub port: Option<u16>,
}

impl ReplicaPlan {
    fn command(&self, project: &str) -> Command {
        let spec = &self.service.spec;
        let vars = ReplicaVars::new(project, &spec.name, &self.instance, self.replica, self.port);
        let mut cmd = Command::new(&self.service.program);
        cmd.args(spec.args.iter().map(|a| vars.expand(a).into_owned()))
            .envs(
                spec.env
                    .iter()
                    .map(|(k, v)| (k, vars.expand(v).into_owned())),
            )
            // The supervisor's facts win over the spec's env, the port variable over both.
            .envs(vars.env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so signals reach everything it forks.
            .process_group(0)
            // The group, not just the leader, is ours to kill; see stop_replica.
            .kill_on_drop(false);
        if let (Some(port_spec), Some(port)) = (&spec.port, self.port) {
            cmd.env(&port_spec.env, port.to_string());
        }
        if let Some(dir) = &self.service.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    fn labels(&self, project: &str, stream: &str) -> Labels {
        Labels::from_pairs(BTreeMap::from([
            (LOG_LABEL_PROJECT, project),
            (LOG_LABEL_SERVICE, self.service.spec.name.as_str()),
            (LOG_LABEL_INSTANCE, self.instance.as_str()),
            (LOG_LABEL_STREAM, stream),
        ]))
    }
}

/// Whether `policy` starts a replica again after `exit`.
pub(crate) fn should_restart(policy: RestartPolicy, exit: &ExitReason) -> bool {
    match policy {
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure => !exit.is_success(),
        RestartPolicy::No => false,
    }
}

/// The delay after the current one: doubled, capped.
fn next_backoff(current: Duration, max: Duration) -> Duration {
    current.saturating_mul(2).min(max)
}

/// Resolves once shutdown was asked for, or the supervisor is gone (which means the same).
async fn stop_requested(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here: it must not live across an await.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Runs one replica until its policy keeps it down or `shutdown` turns true.
pub(crate) async fn run_replica(
    shared: Arc<Shared>,
    plan: ReplicaPlan,
    mut shutdown: watch::Receiver<bool>,
) {
    let opts = &shared.opts;
    let board = &shared.board;
    let index = plan.index;
    let mut backoff = opts.backoff_initial;
    let mut first = true;
    loop {
        if *shutdown.borrow() {
            board.update(index, |s| s.state = ReplicaState::Stopped);
            return;
        }
        board.update(index, |s| {
            s.state = ReplicaState::Starting;
            s.restart_delay = None;
            if !first {
                s.restarts += 1;
            }
        });
        first = false;
        let started = Instant::now();
        let exit = match plan.command(&opts.project).spawn() {
            Err(e) => {
                tracing::warn!(instance = %plan.instance, error = %e, "replica failed to start");
                ExitReason::SpawnFailed(e.to_string())
            }
            Ok(child) => match run_process(&shared, &plan, child, &mut shutdown).await {
                ProcessEnd::Exited(exit) => exit,
                ProcessEnd::Stopped(exit) => {
                    board.update(index, |s| {
                        s.state = ReplicaState::Stopped;
                        if exit.is_some() {
                            s.last_exit = exit;
                        }
                    });
                    return;
                }
            },
        };
        let restart = should_restart(plan.service.spec.restart, &exit) && !*shutdown.borrow();
        if !restart {
            let stopped_by_us = *shutdown.borrow();
            board.update(index, |s| {
                s.state = if stopped_by_us {
                    ReplicaState::Stopped
                } else {
                    ReplicaState::Exited(exit.clone())
                };
                s.last_exit = Some(exit);
            });
            return;
        }
        if started.elapsed() >= opts.backoff_reset_after {
            backoff = opts.backoff_initial;
        }
        board.update(index, |s| {
            s.state = ReplicaState::Backoff;
            s.last_exit = Some(exit);
            s.restart_delay = Some(backoff);
        });
        let woken_for_shutdown = tokio::select! {
            _ = tokio::time::sleep(backoff) => false,
            _ = stop_requested(&mut shutdown) => true,
        };
        if woken_for_shutdown {
            board.update(index, |s| {
                s.state = ReplicaState::Stopped;
                s.restart_delay = None;
            });
            return;
        }
        backoff = next_backoff(backoff, opts.backoff_max);
    }
}

/// How a replica's process ended.
enum ProcessEnd {
    /// On its own.
    Exited(ExitReason),
    /// Stopped for shutdown; how it died, when that could be collected.
    Stopped(Option<ExitReason>),
}

/// Watches one spawned process: captures its output, and either collects its exit (and
/// clears what it left in its group) or stops it on shutdown.
async fn run_process(
    shared: &Shared,
    plan: &ReplicaPlan,
    mut child: Child,
    shutdown: &mut watch::Receiver<bool>,
) -> ProcessEnd {
    let opts = &shared.opts;
    let pid = child.id();
    // The leader's pid is its group id (process_group(0)); None only if already reaped.
    let pgid = pid.and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    shared
        .board
        .set_group(plan.index, Some(pgid).filter(|&g| g > 1));
    shared.board.update(plan.index, |s| {
        s.pid = pid;
        s.state = ReplicaState::Running;
        s.started_at = Some(SystemTime::now());
    });
    let mut readers: Vec<JoinHandle<()>> = Vec::with_capacity(2);
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(pump(
            out,
            plan.labels(&opts.project, "stdout"),
            opts.max_line_bytes,
            shared.sink.clone(),
            shared.dropped_records.clone(),
        )));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(pump(
            err,
            plan.labels(&opts.project, "stderr"),
            opts.max_line_bytes,
            shared.sink.clone(),
            shared.dropped_records.clone(),
        )));
    }
    let outcome = tokio::select! {
        status = child.wait() => {
            let exit = match status {
                Ok(status) => ExitReason::from_status(status),
                Err(e) => ExitReason::SpawnFailed(format!("waiting for the process: {e}")),
            };
            clear_group(pgid, opts.stop_timeout).await;
            ProcessEnd::Exited(exit)
        }
        _ = stop_requested(shutdown) => {
            let status = stop_replica(&mut child, pgid, opts.stop_timeout).await;
            ProcessEnd::Stopped(status.map(ExitReason::from_status))
        }
    };
    shared.board.set_group(plan.index, None);
    shared.board.update(plan.index, |s| s.pid = None);
    drain_readers(readers).await;
    outcome
}

/// Lets the readers flush what the pipes still hold, bounded by [`READER_DRAIN`].
async fn drain_readers(readers: Vec<JoinHandle<()>>) {
    let deadline = Instant::now() + READER_DRAIN;
    for mut reader in readers {
        if tokio::time::timeout_at(deadline, &mut reader)
            .await
            .is_err()
        {
            reader.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        let ok = ExitReason::Code(0);
        let failed = ExitReason::Code(3);
        let killed = ExitReason::Signal(9);
        let unstartable = ExitReason::SpawnFailed("x".into());
        for exit in [&ok, &failed, &killed, &unstartable] {
            assert!(should_restart(RestartPolicy::Always, exit));
            assert!(!should_restart(RestartPolicy::No, exit));
        }
        assert!(!should_restart(RestartPolicy::OnFailure, &ok));
        assert!(should_restart(RestartPolicy::OnFailure, &failed));
        assert!(should_restart(RestartPolicy::OnFailure, &killed));
        assert!(should_restart(RestartPolicy::OnFailure, &unstartable));
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let max = Duration::from_secs(30);
        let mut d = Duration::from_secs(1);
        let mut seen = vec![d];
        for _ in 0..6 {
            d = next_backoff(d, max);
            seen.push(d);
        }
        let secs: Vec<u64> = seen.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30]);
    }
}
