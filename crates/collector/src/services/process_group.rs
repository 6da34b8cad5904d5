//! Signals to whole process groups and reaping of their members.
//!
//! Every replica leads its own process group (its pid is the group id), so one `kill(-pgid)`
//! reaches the program and everything it forked, however deep, unless a descendant left the
//! group on purpose (`setsid`).

use std::process::ExitStatus;
use std::time::Duration;

use tokio::process::Child;

use tokio::time::Instant;

/// Sends `signal` to every process of group `pgid`; false when the group has no process left.
///
/// Group ids 0 and 1 are refused: `kill(0)` and `kill(-1)` would hit the supervisor's own
/// group or every process it may signal.
pub(crate) fn signal_group(pgid: i32, signal: libc::c_int) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill has no memory-safety preconditions; the pgid is a replica's own group.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Whether any process (zombies included) is still in group `pgid`.
pub(crate) fn group_exists(pgid: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(-pgid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Reaps every exited child of ours in group `pgid` without blocking.
///
/// The leader is reaped by Tokio; what this collects are the leader's descendants that were
/// reparented to us (we are a child subreaper on Linux) and died. Children outside the group
/// are never touched, so Tokio's own bookkeeping of other children stays intact.
pub(crate) fn reap_group(pgid: i32) {
    if pgid <= 1 {
        return;
    }
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`, a valid local.
        let rc = unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) };
        if rc <= 0 {
            return;
        }
    }
}

/// Makes this process the reaper of orphaned descendants (Linux), so the grandchildren of a
/// replica whose leader died are reparented to us, stay reapable, and never linger as zombies
/// under an init that does not reap (as in many containers). Best effort elsewhere.
pub(crate) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Waits until group `pgid` is empty, reaping what we can, until `deadline`; true if empty.
pub(crate) async fn wait_group_empty(pgid: i32, deadline: Instant) -> bool {
    // Polling: there is no notification for "a process group became empty".
    const POLL: Duration = Duration::from_millis(20);
    loop {
        reap_group(pgid);
        if !group_exists(pgid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How long SIGKILLed processes get to disappear; SIGKILL cannot be ignored, so this only
/// bounds the wait for processes stuck in the kernel or not ours to reap.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Stops a running replica: SIGTERM to its group, up to `grace` for the leader and every
/// other member to exit, then SIGKILL to the group. Returns the leader's exit status when it
/// was collected.
///
/// The group is only reaped after Tokio has reaped the leader, so the leader's status is
/// never taken from under Tokio.
pub(crate) async fn stop_replica(
    child: &mut Child,
    pgid: i32,
    grace: Duration,
) -> Option<ExitStatus> {
    let deadline = Instant::now() + grace;
    signal_group(pgid, libc::SIGTERM);
    let mut status = tokio::time::timeout_at(deadline, child.wait())
        .await
        .ok()
        .and_then(Result::ok);
    if status.is_some() && wait_group_empty(pgid, deadline).await {
        return status;
    }
    signal_group(pgid, libc::SIGKILL);
    if status.is_none() {
        status = tokio::time::timeout(KILL_WAIT, child.wait())
            .await
            .ok()
            .and_then(Result::ok);
    }
    wait_group_empty(pgid, Instant::now() + KILL_WAIT).await;
    status
}

/// Clears the group of a leader that already exited (and was reaped): whatever it left
/// behind gets SIGTERM, up to `grace`, then SIGKILL — as a container's processes end with its
/// main process.
pub(crate) async fn clear_group(pgid: i32, grace: Duration) {
    if wait_group_empty(pgid, Instant::now()).await {
        return;
    }
    signal_group(pgid, libc::SIGTERM);
    if wait_group_empty(pgid, Instant::now() + grace).await {
        return;
    }
    signal_group(pgid, libc::SIGKILL);
    wait_group_empty(pgid, Instant::now() + KILL_WAIT).await;
}
