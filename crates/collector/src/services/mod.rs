//! Supervised services: the process supervisor behind `tetrad up`.
//!
//! A stack file's `services:` become [`ServiceSpec`]s; [`Supervisor::start`] validates them
//! all (names, commands resolved to executables, replica counts, ports, environment) before it
//! starts anything, then runs each replica as its own Tokio task. The design follows what
//! `docker compose` and supervisord users expect, without containers:
//!
//! - **Processes.** A replica is one process in its own process group (its pid is the group
//!   id), with stdin from `/dev/null` and stdout and stderr piped to the supervisor. Its
//!   environment is the supervisor's, plus the spec's `env`, plus `TETRAD_PROJECT`,
//!   `TETRAD_SERVICE`, `TETRAD_INSTANCE`, `TETRAD_REPLICA` (and `TETRAD_PORT`), plus the port
//!   variable: with `port: {base, env}` replica `i` (0-based) gets `env=base+i`. A spec is per
//!   service, so `${TETRAD_INSTANCE}` and the other four are expanded in its arguments and
//!   environment values, per replica (there is no shell to do it). A relative command is taken
//!   from the spec's `cwd`; a bare name is looked up in `PATH`.
//! - **Output → logs.** Both pipes are read as they fill; each read burst becomes one batch of
//!   [`model::LogRecord`]s for the [`logs::LogSink`], labelled `project`, `service`,
//!   `instance` (`<service>-<n>`, `n` from 1) and `stream` (`stdout`/`stderr`), timestamped
//!   when read. Lines longer than `max_line_bytes` are split into pieces marked with
//!   [`TRUNCATION_MARKER`]; invalid UTF-8 is replaced; a last line without newline is kept. A
//!   batch the sink refuses is counted ([`Supervisor::dropped_log_records`]) and dropped:
//!   output is never buffered without bound.
//! - **Restarts.** [`RestartPolicy`] `always` restarts after any exit, `on-failure` after a
//!   non-zero code, a signal, or a failed spawn, `no` never. The delay starts at
//!   `backoff_initial` and doubles up to `backoff_max`; a replica that ran for
//!   `backoff_reset_after` (10 s) starts again from `backoff_initial`. Restarts are counted per
//!   replica. Nothing restarts once shutdown began.
//! - **Leaving nothing behind.** When a replica's main process exits, whatever it left in its
//!   group gets SIGTERM, then SIGKILL after `stop_timeout` — like a container, whose processes
//!   end with its main process — so a restart never doubles a service. [`Supervisor::shutdown`]
//!   sends SIGTERM to every group, waits up to `stop_timeout` for every member, SIGKILLs the
//!   rest and reaps them. Dropping a supervisor without shutdown SIGKILLs every group
//!   (best effort for a crashing parent). On Linux the supervisor makes its process a *child
//!   subreaper*, so descendants orphaned by a dead leader are reparented to us and reaped here
//!   instead of lingering as zombies under an init that does not reap (common in containers);
//!   only members of a replica's group are reaped, so other children are left to their owners.
//!   A descendant that leaves its group (`setsid`, daemonising) is beyond reach, as it would be
//!   for supervisord.
//! - **Status.** [`Supervisor::status`] gives one [`ReplicaStatus`] per replica (pid, state,
//!   restarts, start time, last exit, port) and [`Supervisor::subscribe`] a counter that moves
//!   on every change, for live-replica metrics and `tetrad ps`.
//!
//! [`TerminalSink`] prints lines as `docker compose up` does: `backend-1  | line`, one colour
//! per replica, never two lines mixed.
//!
//! Files: `spec.rs` (specs, options, validation), `replica.rs` (one replica's life),
//! `process_group.rs` (signals and reaping), `output.rs` (pipes to records), `status.rs`,
//! `supervisor.rs`, `template.rs` (per-replica variables), `terminal.rs`. The semantics are
//! also written up in `docs/services.md`.

mod error;
mod output;
mod process_group;
mod replica;
mod spec;
mod status;
mod supervisor;
mod template;
mod terminal;

#[cfg(test)]
mod tests;

pub use error::ServiceError;
pub use output::TRUNCATION_MARKER;
pub use spec::{
    MAX_LINE_BYTES, MAX_REPLICAS, MAX_SERVICE_NAME_BYTES, MAX_SERVICES, MIN_LINE_BYTES, PortSpec,
    RestartPolicy, ServiceSpec, SupervisorOptions,
};
pub use status::{ExitReason, ReplicaState, ReplicaStatus};
pub use supervisor::Supervisor;
pub use template::{VAR_INSTANCE, VAR_PORT, VAR_PROJECT, VAR_REPLICA, VAR_SERVICE};
pub use terminal::{TERMINAL_QUEUE_BYTES, TerminalSink};
