//! `tetrad down`: stops a project's `tetrad up` (detached or not) by the pid in its state
//! file: SIGTERM, then waits while it stops its services and deregisters.

use crate::config::Settings;
use crate::stack::state_file;
use anyhow::bail;
use std::time::{Duration, Instant};

/// How long `down` waits for `up` to finish: the supervisor's stop timeout (10 s) plus time to
/// deregister and shut an in-process server down.
const WAIT: Duration = Duration::from_secs(40);

/// Stops the project's `tetrad up`.
pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let project = &settings.project;
    let file = state_file::path(&settings.data_dir, project);
    let Some(st) = state_file::read(&settings.data_dir, project)? else {
        bail!(
            "project {project} is not up here (no {}); `tetrad ps` lists what the server knows",
            file.display()
        );
    };
    if !state_file::is_live_tetrad(st.pid) {
        let _ = std::fs::remove_file(&file);
        println!(
            "project {project}: its tetrad up (pid {}) is no longer running; removed {}",
            st.pid,
            file.display()
        );
        return Ok(());
    }
    let Ok(pid) = libc::pid_t::try_from(st.pid) else {
        bail!("{}: pid {} is out of range", file.display(), st.pid);
    };
    // SAFETY: kill has no memory effects; the pid was checked to be a live tetrad just above.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        bail!("signalling pid {pid}: {}", std::io::Error::last_os_error());
    }
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if !state_file::is_live_tetrad(st.pid) {
            println!(
                "project {project} is down (pid {pid} stopped in {:.1} s)",
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "project {project}: pid {pid} still runs {} s after SIGTERM; see {}",
        WAIT.as_secs(),
        state_file::log_path(&settings.data_dir, project).display()
    )
}
