//! Errors of the supervisor: all of them are found before any process starts.

/// Why the supervisor refused to start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A spec is wrong; `reason` says which field and why.
    #[error("service {service}: {reason}")]
    InvalidSpec {
        /// The service's name as given.
        service: String,
        /// What is wrong.
        reason: String,
    },
    /// Two specs share a name.
    #[error("service {0} is defined twice")]
    DuplicateService(String),
    /// More services than the supervisor runs.
    #[error("{count} services given, the limit is {limit}")]
    TooManyServices {
        /// How many were given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The program does not exist or is not executable.
    #[error("service {service}: executable {command:?} not found (looked in {searched})")]
    ExecutableNotFound {
        /// The service's name.
        service: String,
        /// The command as given.
        command: String,
        /// Where it was looked for.
        searched: String,
    },
    /// A restart policy other than `always`, `on-failure`, `no`.
    #[error("restart policy {0:?} is not one of always, on-failure, no")]
    InvalidRestartPolicy(String),
    /// The supervisor options are inconsistent.
    #[error("supervisor options: {0}")]
    InvalidOptions(String),
    /// `Supervisor::start` was called outside a Tokio runtime.
    #[error("the supervisor must be started inside a Tokio runtime")]
    NoRuntime,
}
