//! `<data_dir>/projects/<project>/up.json`: which process runs a project's `tetrad up`, and in
//! what state. `up -d` waits for `running` in it, `down` signals its pid, a second `up` of the
//! same project refuses to start while its pid is alive. Written atomically (temp + rename).

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The state file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpState {
    /// The `tetrad up` process.
    pub pid: u32,
    /// The project.
    pub project: String,
    /// `starting`, `running` or `stopping`.
    pub state: String,
    /// Where the server answers.
    pub http_addr: String,
    /// Whether this process runs the server (`in-process`) or uses another one (`remote`).
    pub server: String,
    /// When the process started, Unix milliseconds.
    pub started_at_ms: i64,
}

/// The project's folder under the data dir.
pub fn project_dir(data_dir: &Path, project: &str) -> PathBuf {
    data_dir.join("projects").join(project)
}

/// The state file of a project.
pub fn path(data_dir: &Path, project: &str) -> PathBuf {
    project_dir(data_dir, project).join("up.json")
}

/// The log file of a detached `up`.
pub fn log_path(data_dir: &Path, project: &str) -> PathBuf {
    project_dir(data_dir, project).join("up.log")
}

/// Writes the state file atomically.
pub fn write(data_dir: &Path, st: &UpState) -> anyhow::Result<()> {
    let file = path(data_dir, &st.project);
    let dir = project_dir(data_dir, &st.project);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!("up.json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(st)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &file).with_context(|| format!("writing {}", file.display()))
}

/// Reads the state file; `None` when there is none.
pub fn read(data_dir: &Path, project: &str) -> anyhow::Result<Option<UpState>> {
    let file = path(data_dir, project);
    match std::fs::read(&file) {
        Ok(b) => Ok(Some(
            serde_json::from_slice(&b).with_context(|| format!("reading {}", file.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

/// Removes the state file if it still names `pid`.
pub fn remove_if_owner(data_dir: &Path, project: &str, pid: u32) {
    if let Ok(Some(st)) = read(data_dir, project)
        && st.pid == pid
    {
        let _ = std::fs::remove_file(path(data_dir, project));
    }
}

/// Whether `pid` is a live `tetrad` process (not a zombie, not a recycled pid of another
/// program).
pub fn is_live_tetrad(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the command name, which ends at the last ')'.
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']));
    let exe = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let program = exe.split(|b| *b == 0).next().unwrap_or_default();
    !zombie && String::from_utf8_lossy(program).contains("tetrad")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_owner_removal() {
        let dir = tempfile::tempdir().unwrap();
        let st = UpState {
            pid: 7,
            project: "dev".into(),
            state: "running".into(),
            http_addr: "127.0.0.1:3000".into(),
            server: "remote".into(),
            started_at_ms: 1,
        };
        write(dir.path(), &st).unwrap();
        assert_eq!(read(dir.path(), "dev").unwrap(), Some(st));
        remove_if_owner(dir.path(), "dev", 8);
        assert!(read(dir.path(), "dev").unwrap().is_some());
        remove_if_owner(dir.path(), "dev", 7);
        assert_eq!(read(dir.path(), "dev").unwrap(), None);
        assert!(!is_live_tetrad(u32::MAX));
    }
}
