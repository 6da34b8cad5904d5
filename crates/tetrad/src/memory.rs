//! Giving freed heap memory back to the operating system.
//!
//! glibc's allocator keeps memory freed by a thread in that thread's arena for reuse, and only
//! returns the top of each arena on its own. After a burst of large short-lived buffers (remote
//! write bodies, query results) that leaves tens of megabytes resident that nothing uses. A
//! `malloc_trim(0)` every few seconds hands whole free pages back (`MADV_DONTNEED`), which costs
//! a few milliseconds of CPU per call on a heap of hundreds of megabytes.

use std::time::Duration;

/// How often free pages are handed back.
const TRIM_INTERVAL: Duration = Duration::from_secs(10);

/// Starts the background trimmer (glibc only; a no-op elsewhere). It runs until the process
/// exits.
pub fn start_trimmer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(TRIM_INTERVAL);
                    // SAFETY: malloc_trim only walks the allocator's own free lists.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the memory trimmer thread");
        }
    }
}
