//! `tetrad up -d`: re-runs the same command line without `-d` in a new session, its output in
//! `<data_dir>/projects/<project>/up.log`, and returns once the child wrote `running` into
//! `up.json` next to it (or prints the log's tail and fails).

use crate::config::Settings;
use crate::stack::state_file;
use anyhow::{Context, bail};
use std::time::Duration;

/// How long the parent waits for the child to report `running`.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// `tetrad up -d`: starts the same command line without `-d` in a new session and waits until
/// it reports `running`.
pub fn run(settings: &Settings) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let project = &settings.project;
    if let Some(st) = state_file::read(&settings.data_dir, project)?
        && state_file::is_live_tetrad(st.pid)
    {
        bail!(
            "project {project} is already up (pid {}); `tetrad down -p {project}` stops it",
            st.pid
        );
    }
    let dir = state_file::project_dir(&settings.data_dir, project);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let log_path = state_file::log_path(&settings.data_dir, project);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding the tetrad executable")?;
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "-d" && a != "--detach")
        .collect();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(&args)
        .env("TETRAD_PROJECT", project)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().context("opening the log file")?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent; a new session
    // detaches the child from this terminal, so closing it does not send SIGHUP.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().context("starting the detached tetrad up")?;
    let pid = child.id();
    let deadline = std::time::Instant::now() + READY_WITHIN;
    loop {
        if let Ok(Some(st)) = state_file::read(&settings.data_dir, project)
            && st.pid == pid
            && st.state == "running"
        {
            println!(
                "project {project} is up (pid {pid}); logs: {}; `tetrad ps` lists its services, `tetrad down -p {project}` stops it",
                log_path.display()
            );
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("{}", tail(&log_path, 30));
            bail!("the detached tetrad up exited ({status}); its log is above");
        }
        if std::time::Instant::now() > deadline {
            eprintln!("{}", tail(&log_path, 30));
            bail!(
                "the detached tetrad up (pid {pid}) did not report running within {} s",
                READY_WITHIN.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last `n` lines of a file.
fn tail(path: &std::path::Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
