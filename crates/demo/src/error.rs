//! The demo's one error type: everything that can go wrong before or while serving.

/// Why a demo service could not be configured or served.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The inventory URL is not an absolute http(s) URL.
    #[error("invalid inventory URL {url:?}: {reason}")]
    InvalidInventoryUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client for outgoing calls could not be built.
    #[error("building the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// A demo metric could not be registered.
    #[error("registering the demo's metrics: {0}")]
    Metrics(#[from] instrument::MetricsError),
    /// Binding, accepting or serving failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}
