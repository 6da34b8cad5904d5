//! The stop signal of the foreground commands that run until told otherwise.

/// Completes on Ctrl-C or, on Unix, SIGTERM (how supervisors stop a process).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // No SIGTERM handler could be registered: only Ctrl-C stops the command.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
