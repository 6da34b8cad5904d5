//! Tests of the supervisor against real processes (`/bin/sh` scripts).
//!
//! Waits are bounded by a generous deadline only to turn a hang into a failure; assertions
//! are on states, counts and output, never on how long something took.

use std::sync::Arc;
use std::time::Duration;

use logs::{LogSink, LogSinkError, MemoryLogSink};
use model::LogRecord;

use super::*;

/// Turns a hang into a test failure; nothing asserts on elapsed time.
const DEADLINE: Duration = Duration::from_secs(30);

fn sh(name: &str, script: &str) -> ServiceSpec {
    let mut spec = ServiceSpec::new(name, "/bin/sh");
    spec.args = vec!["-c".into(), script.into()];
    spec
}

fn fast_opts() -> SupervisorOptions {
    SupervisorOptions {
        project: "test".into(),
        stop_timeout: Duration::from_millis(300),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        backoff_reset_after: Duration::from_secs(10),
        max_line_bytes: 64 << 10,
    }
}

fn memory_sink() -> Arc<MemoryLogSink> {
    Arc::new(MemoryLogSink::new(100_000, 64 << 20))
}

/// Waits (via `subscribe`) until `done` holds for the status table and returns the table
/// that satisfied it; panics at the deadline.
async fn wait_status(
    sup: &Supervisor,
    what: &str,
    done: impl Fn(&[ReplicaStatus]) -> bool,
) -> Vec<ReplicaStatus> {
    let mut changes = sup.subscribe();
    let wait = async {
        loop {
            changes.borrow_and_update();
            let status = sup.status();
            if done(&status) {
                return status;
            }
            if changes.changed().await.is_err() {
                return sup.status();
            }
        }
    };
    match tokio::time::timeout(DEADLINE, wait).await {
        Ok(status) => status,
        Err(_) => panic!("timed out waiting for {what}: {:#?}", sup.status()),
    }
}

/// Records every backoff delay seen, keyed by the restart count it preceded, until
/// `restarts` restarts happened.
async fn observe_delays(sup: &Supervisor, restarts: u32) -> Vec<(u32, Duration)> {
    let mut seen = Vec::new();
    let mut changes = sup.subscribe();
    let watch = async {
        loop {
            changes.borrow_and_update();
            let s = &sup.status()[0];
            if let Some(delay) = s.restart_delay
                && seen.last().map(|(r, _)| *r) != Some(s.restarts)
            {
                seen.push((s.restarts, delay));
            }
            if s.restarts >= restarts {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    };
    if tokio::time::timeout(DEADLINE, watch).await.is_err() {
        panic!("timed out observing restarts: {:#?}", sup.status());
    }
    seen
}

/// Polls until `done` holds; panics at the deadline.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let wait = async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(DEADLINE, wait).await.is_err() {
        panic!("timed out waiting for {what}");
    }
}

/// Processes (pid, state letter) whose process group is `pgid`, zombies included, read
/// from /proc.
fn group_members(pgid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces; fields follow the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // state, ppid, pgrp
        if fields.len() > 2 && fields[2].parse::<u32>() == Ok(pgid) {
            out.push((pid, fields[0].chars().next().unwrap_or('?')));
        }
    }
    out
}

fn all_exited(statuses: &[ReplicaStatus]) -> bool {
    statuses
        .iter()
        .all(|s| matches!(s.state, ReplicaState::Exited(_)))
}

fn lines_of(records: &[LogRecord], instance: &str, stream: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.labels.get("instance") == instance && r.labels.get("stream") == stream)
        .map(|r| r.line.clone())
        .collect()
}

#[tokio::test]
async fn output_reaches_the_sink_labelled_per_replica_and_stream() {
    let sink = memory_sink();
    let mut spec = sh(
        "web",
        "echo \"out $PORT $GREETING\"; echo \"err $PORT\" >&2; printf 'no newline'",
    );
    spec.replicas = 2;
    spec.restart = RestartPolicy::No;
    spec.port = Some(PortSpec::new(18000));
    spec.env.insert("GREETING".into(), "hi".into());
    let sup = Supervisor::start(vec![spec], fast_opts(), sink.clone()).unwrap();
    wait_status(&sup, "both replicas to exit", all_exited).await;

    let records = sink.recent(1000);
    assert_eq!(
        lines_of(&records, "web-1", "stdout"),
        ["out 18000 hi", "no newline"]
    );
    assert_eq!(lines_of(&records, "web-1", "stderr"), ["err 18000"]);
    assert_eq!(
        lines_of(&records, "web-2", "stdout"),
        ["out 18001 hi", "no newline"]
    );
    assert_eq!(lines_of(&records, "web-2", "stderr"), ["err 18001"]);
    for r in &records {
        assert_eq!(r.labels.get("project"), "test");
        assert_eq!(r.labels.get("service"), "web");
        assert_eq!(r.labels.len(), 4, "{:?}", r.labels);
        assert!(r.timestamp_ns > 0);
    }
    let status = sup.status();
    assert_eq!(status[0].instance, "web-1");
    assert_eq!(status[1].replica, 2);
    assert_eq!(status[1].port, Some(18001));
    assert_eq!(status[0].state, ReplicaState::Exited(ExitReason::Code(0)));
    assert_eq!(status[0].pid, None);
    sup.shutdown().await;
}

#[tokio::test]
async fn per_replica_variables_are_set_and_expanded() {
    let sink = memory_sink();
    let mut spec = ServiceSpec::new("vars", "/bin/sh");
    spec.args = vec![
        "-c".into(),
        "echo \"$1 $ATTRS $TETRAD_REPLICA $TETRAD_PROJECT $TETRAD_SERVICE $APP_PORT\"".into(),
        "sh".into(),
        "${TETRAD_PORT}".into(),
    ];
    spec.env
        .insert("ATTRS".into(), "id=${TETRAD_INSTANCE},x=${HOME_NOT}".into());
    spec.port = Some(PortSpec {
        base: 8000,
        env: "APP_PORT".into(),
    });
    spec.replicas = 2;
    spec.restart = RestartPolicy::No;
    let sup = Supervisor::start(vec![spec], fast_opts(), sink.clone()).unwrap();
    wait_status(&sup, "exit", all_exited).await;
    let records = sink.recent(10);
    assert_eq!(
        lines_of(&records, "vars-1", "stdout"),
        ["8000 id=vars-1,x=${HOME_NOT} 1 test vars 8000"]
    );
    assert_eq!(
        lines_of(&records, "vars-2", "stdout"),
        ["8001 id=vars-2,x=${HOME_NOT} 2 test vars 8001"]
    );
    sup.shutdown().await;
}

#[tokio::test]
async fn long_lines_are_split_and_marked() {
    let sink = memory_sink();
    let mut spec = sh("long", "printf '%0200d\\nshort\\n' 0");
    spec.restart = RestartPolicy::No;
    let opts = SupervisorOptions {
        max_line_bytes: 64,
        ..fast_opts()
    };
    let sup = Supervisor::start(vec![spec], opts, sink.clone()).unwrap();
    wait_status(&sup, "exit", all_exited).await;
    let lines = lines_of(&sink.recent(100), "long-1", "stdout");
    assert!(lines.len() >= 5, "{lines:?}");
    assert!(lines.iter().all(|l| l.len() <= 64));
    let (pieces, rest) = lines.split_at(lines.len() - 2);
    assert!(pieces.iter().all(|p| p.ends_with(TRUNCATION_MARKER)));
    let whole: String = pieces
        .iter()
        .map(|p| p.trim_end_matches(TRUNCATION_MARKER))
        .chain(std::iter::once(rest[0].as_str()))
        .collect();
    assert_eq!(whole, "0".repeat(200));
    assert_eq!(rest[1], "short");
    sup.shutdown().await;
}

#[tokio::test]
async fn cwd_relative_command_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("run.sh");
    std::fs::write(&script, "#!/bin/sh\npwd\necho \"$FOO\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sink = memory_sink();
    let mut spec = ServiceSpec::new("script", "./run.sh");
    spec.cwd = Some(dir.path().to_path_buf());
    spec.env.insert("FOO".into(), "bar".into());
    spec.restart = RestartPolicy::No;
    let sup = Supervisor::start(vec![spec], fast_opts(), sink.clone()).unwrap();
    wait_status(&sup, "exit", all_exited).await;
    let lines = lines_of(&sink.recent(10), "script-1", "stdout");
    let real_dir = dir.path().canonicalize().unwrap();
    assert_eq!(lines, [real_dir.display().to_string(), "bar".to_string()]);
    sup.shutdown().await;
}

#[tokio::test]
async fn restart_always_restarts_even_after_success() {
    let mut spec = sh("again", "exit 0");
    spec.restart = RestartPolicy::Always;
    let sup = Supervisor::start(vec![spec], fast_opts(), memory_sink()).unwrap();
    wait_status(&sup, "three restarts", |s| s[0].restarts >= 3).await;
    assert_eq!(sup.status()[0].last_exit, Some(ExitReason::Code(0)));
    sup.shutdown().await;
}

#[tokio::test]
async fn backoff_doubles_up_to_its_ceiling() {
    let mut spec = sh("crashy", "exit 1");
    spec.restart = RestartPolicy::Always;
    let sup = Supervisor::start(vec![spec], fast_opts(), memory_sink()).unwrap();
    let seen = observe_delays(&sup, 6).await;
    assert!(!seen.is_empty());
    // Each delay is 10 ms doubled per earlier restart, capped at 40 ms.
    for (restarts, delay) in &seen {
        let want = Duration::from_millis(10 * (1u64 << (*restarts).min(2)));
        assert_eq!(
            *delay,
            want,
            "delay before restart {}: {seen:?}",
            restarts + 1
        );
    }
    sup.shutdown().await;
}

#[tokio::test]
async fn backoff_resets_after_a_long_enough_run() {
    let mut spec = sh("crashy", "exit 1");
    spec.restart = RestartPolicy::Always;
    let opts = SupervisorOptions {
        // Every run counts as long enough: the delay never grows.
        backoff_reset_after: Duration::ZERO,
        ..fast_opts()
    };
    let sup = Supervisor::start(vec![spec], opts, memory_sink()).unwrap();
    let seen = observe_delays(&sup, 5).await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|(_, d)| *d == Duration::from_millis(10)),
        "{seen:?}"
    );
    sup.shutdown().await;
}

#[tokio::test]
async fn restart_on_failure_stops_after_success() {
    let dir = tempfile::tempdir().unwrap();
    // Fails twice, then succeeds: two restarts, then the policy keeps it down.
    let script = format!(
        "n=$(cat {d}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/n; \
         [ $n -ge 3 ] && exit 0; exit 7",
        d = dir.path().display()
    );
    let mut spec = sh("flaky", &script);
    spec.restart = RestartPolicy::OnFailure;
    let sup = Supervisor::start(vec![spec], fast_opts(), memory_sink()).unwrap();
    wait_status(&sup, "final exit", all_exited).await;
    let status = &sup.status()[0];
    assert_eq!(status.restarts, 2);
    assert_eq!(status.state, ReplicaState::Exited(ExitReason::Code(0)));
    sup.shutdown().await;
}

#[tokio::test]
async fn restart_no_keeps_a_failed_replica_down() {
    let mut spec = sh("once", "exit 3");
    spec.restart = RestartPolicy::No;
    let sup = Supervisor::start(vec![spec], fast_opts(), memory_sink()).unwrap();
    wait_status(&sup, "exit", all_exited).await;
    let status = &sup.status()[0];
    assert_eq!(status.restarts, 0);
    assert_eq!(status.state, ReplicaState::Exited(ExitReason::Code(3)));
    assert_eq!(status.last_exit, Some(ExitReason::Code(3)));
    sup.shutdown().await;
}

#[tokio::test]
async fn shutdown_during_backoff_never_restarts() {
    let mut spec = sh("crash", "exit 1");
    spec.restart = RestartPolicy::Always;
    let opts = SupervisorOptions {
        // Far longer than the test: the replica sits in backoff until shutdown.
        backoff_initial: Duration::from_secs(3600),
        backoff_max: Duration::from_secs(3600),
        ..fast_opts()
    };
    let sup = Supervisor::start(vec![spec], opts, memory_sink()).unwrap();
    let status = wait_status(&sup, "backoff", |s| s[0].state == ReplicaState::Backoff).await;
    let mut changes = sup.subscribe();
    assert_eq!(status[0].restart_delay, Some(Duration::from_secs(3600)));
    assert_eq!(status[0].restarts, 0);
    assert_eq!(status[0].last_exit, Some(ExitReason::Code(1)));
    assert_eq!(status[0].pid, None);
    let before = *changes.borrow_and_update();
    sup.shutdown().await;
    // Shutdown moved the replica to Stopped, which is a change.
    assert!(*changes.borrow() > before);
}

#[tokio::test]
async fn a_killed_replica_is_restarted_and_counted() {
    let mut spec = sh("worker", "exec sleep 1000");
    spec.replicas = 2;
    let opts = SupervisorOptions {
        // Long enough for the dip in running replicas to be seen between two changes.
        backoff_initial: Duration::from_secs(1),
        backoff_max: Duration::from_secs(1),
        ..fast_opts()
    };
    let sup = Supervisor::start(vec![spec], opts, memory_sink()).unwrap();
    let running = |s: &[ReplicaStatus]| s.iter().filter(|r| r.state.is_running()).count();
    wait_status(&sup, "two running", |s| running(s) == 2).await;
    let victim = sup.status()[0].pid.unwrap();
    let survivor = sup.status()[1].pid.unwrap();
    // SAFETY: kill with a pid we started.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    let down = wait_status(&sup, "one running", |s| running(s) == 1).await;
    assert_eq!(down[0].state, ReplicaState::Backoff);
    assert_eq!(down[0].last_exit, Some(ExitReason::Signal(libc::SIGKILL)));
    let up = wait_status(&sup, "two running again", |s| running(s) == 2).await;
    assert_eq!(up[0].restarts, 1);
    assert_ne!(up[0].pid, Some(victim));
    assert_eq!(up[1].restarts, 0);
    assert_eq!(up[1].pid, Some(survivor));
    sup.shutdown().await;
}

#[tokio::test]
async fn shutdown_kills_a_group_that_ignores_sigterm_and_leaves_nothing() {
    let spec = sh("stubborn", "trap '' TERM; sleep 1000 & sleep 1000");
    let mut gentle = sh("gentle", "exec sleep 1000");
    gentle.replicas = 2;
    let sup = Supervisor::start(vec![spec, gentle], fast_opts(), memory_sink()).unwrap();
    wait_status(&sup, "all running", |s| {
        s.iter().all(|r| r.state.is_running())
    })
    .await;
    let pgids: Vec<u32> = sup.status().iter().map(|s| s.pid.unwrap()).collect();
    // The stubborn shell and both sleeps (the background one is the grandchild) exist.
    wait_until("the stubborn group to have three members", || {
        group_members(pgids[0]).len() >= 3
    })
    .await;
    let stubborn_members: Vec<u32> = group_members(pgids[0]).iter().map(|m| m.0).collect();
    let last = sup.shutdown().await;
    assert!(
        last.iter()
            .all(|r| r.state == ReplicaState::Stopped && r.pid.is_none())
    );
    // The stubborn shell ignored SIGTERM and was killed; the gentle sleeps obeyed it.
    assert_eq!(last[0].last_exit, Some(ExitReason::Signal(libc::SIGKILL)));
    assert_eq!(last[1].last_exit, Some(ExitReason::Signal(libc::SIGTERM)));
    assert_eq!(last[2].last_exit, Some(ExitReason::Signal(libc::SIGTERM)));
    for pgid in &pgids {
        assert_eq!(group_members(*pgid), [], "group {pgid} still has processes");
    }
    for pid in stubborn_members {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} survived"
        );
    }
}

#[tokio::test]
async fn an_exiting_leader_takes_its_group_along() {
    // The second leftover ignores SIGTERM and needs the SIGKILL after the stop timeout.
    let scripts = [
        ("obedient", "sleep 1000 & echo $!; exit 0"),
        ("stubborn", "trap '' TERM; sleep 1000 & echo $!; exit 0"),
    ];
    let specs = scripts
        .iter()
        .map(|(name, script)| {
            let mut spec = sh(name, script);
            spec.restart = RestartPolicy::No;
            spec
        })
        .collect();
    let sink = memory_sink();
    let sup = Supervisor::start(specs, fast_opts(), sink.clone()).unwrap();
    wait_status(&sup, "exit", all_exited).await;
    for (name, _) in scripts {
        let lines = lines_of(&sink.recent(10), &format!("{name}-1"), "stdout");
        let orphan: u32 = lines[0].parse().unwrap();
        assert!(
            !std::path::Path::new(&format!("/proc/{orphan}")).exists(),
            "background child {orphan} of {name} outlived its leader"
        );
    }
    sup.shutdown().await;
}

#[tokio::test]
async fn dropping_without_shutdown_kills_every_group() {
    // Ignores SIGTERM, and the stop timeout outlasts the test: only drop's SIGKILL ends it.
    let mut spec = sh("dropped", "trap '' TERM; sleep 1000 & sleep 1000");
    spec.replicas = 2;
    let opts = SupervisorOptions {
        stop_timeout: Duration::from_secs(3600),
        ..fast_opts()
    };
    let sup = Supervisor::start(vec![spec], opts, memory_sink()).unwrap();
    wait_status(&sup, "running", |s| s.iter().all(|r| r.state.is_running())).await;
    let pgids: Vec<u32> = sup.status().iter().map(|s| s.pid.unwrap()).collect();
    drop(sup);
    wait_until("every group to be gone", || {
        pgids.iter().all(|p| group_members(*p).is_empty())
    })
    .await;
}

struct Refusing;

impl LogSink for Refusing {
    fn push(&self, _: Vec<LogRecord>) -> Result<(), LogSinkError> {
        Err(LogSinkError::Unavailable {
            sink: "refusing".into(),
            reason: "test".into(),
        })
    }
}

#[tokio::test]
async fn refused_output_is_counted_and_dropped() {
    let mut spec = sh("talker", "echo a; echo b");
    spec.restart = RestartPolicy::No;
    let sup = Supervisor::start(vec![spec], fast_opts(), Arc::new(Refusing)).unwrap();
    wait_status(&sup, "exit", all_exited).await;
    assert_eq!(sup.dropped_log_records(), 2);
    sup.shutdown().await;
}

#[tokio::test]
async fn a_failed_spawn_is_an_exit_under_the_restart_policy() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("gone");
    std::fs::create_dir(&cwd).unwrap();
    let mut spec = ServiceSpec::new("vanishing", "/bin/true");
    spec.cwd = Some(cwd.clone());
    spec.restart = RestartPolicy::No;
    // Valid when checked; removed before the (current-thread) runtime runs the replica task.
    let sup = Supervisor::start(vec![spec], fast_opts(), memory_sink()).unwrap();
    std::fs::remove_dir(&cwd).unwrap();
    let status = wait_status(&sup, "exit", all_exited).await;
    assert!(
        matches!(
            &status[0].state,
            ReplicaState::Exited(ExitReason::SpawnFailed(_))
        ),
        "{:?}",
        status[0].state
    );
    assert_eq!(status[0].pid, None);
    sup.shutdown().await;
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn start_makes_the_process_a_child_subreaper() {
    let sup = Supervisor::start(vec![sh("a", "exit 0")], fast_opts(), memory_sink()).unwrap();
    let mut flag: libc::c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through the pointer, a valid local.
    let rc = unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut flag as *mut libc::c_int) };
    assert_eq!(rc, 0);
    assert_eq!(
        flag, 1,
        "orphaned descendants would not be reparented to the supervisor"
    );
    sup.shutdown().await;
}

#[tokio::test]
async fn zero_replicas_start_nothing() {
    let mut spec = sh("idle", "exit 0");
    spec.replicas = 0;
    let sup = Supervisor::start(vec![spec], fast_opts(), memory_sink()).unwrap();
    assert!(sup.status().is_empty());
    sup.shutdown().await;
}

fn start_error(specs: Vec<ServiceSpec>, opts: SupervisorOptions) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    Supervisor::start(specs, opts, memory_sink())
        .unwrap_err()
        .to_string()
}

#[test]
fn invalid_specs_are_refused_naming_the_service() {
    let cases: Vec<(ServiceSpec, &str)> = vec![
        (ServiceSpec::new("api", ""), "service api: command is empty"),
        (
            {
                let mut s = sh("api", "true");
                s.replicas = 65;
                s
            },
            "service api: replicas 65 is above the limit of 64",
        ),
        (
            ServiceSpec::new("api", "no-such-program-tetrad"),
            "service api: executable \"no-such-program-tetrad\" not found",
        ),
        (
            ServiceSpec::new("api", "/nonexistent/prog"),
            "service api: executable \"/nonexistent/prog\" not found",
        ),
        (
            ServiceSpec::new("-x", "/bin/sh"),
            "service -x: service name",
        ),
        (
            {
                let mut s = sh("api", "true");
                s.port = Some(PortSpec::new(65535));
                s.replicas = 2;
                s
            },
            "goes past 65535",
        ),
        (
            {
                let mut s = sh("api", "true");
                s.env.insert("A=B".into(), "x".into());
                s
            },
            "environment variable name",
        ),
        (
            {
                let mut s = sh("api", "true");
                s.cwd = Some("/nonexistent-dir".into());
                s
            },
            "working directory /nonexistent-dir is not a directory",
        ),
    ];
    for (spec, want) in cases {
        let got = start_error(vec![spec], fast_opts());
        assert!(got.contains(want), "got {got:?}, want {want:?}");
    }
    let mut portless = sh("api", "true");
    portless.args.push("${TETRAD_PORT}".into());
    let got = start_error(vec![portless], fast_opts());
    assert_eq!(got, "service api: refers to ${TETRAD_PORT} but has no port");
    let got = start_error(vec![sh("a", "true"), sh("a", "true")], fast_opts());
    assert_eq!(got, "service a is defined twice");
}

#[test]
fn a_bad_spec_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let good = sh("good", &format!("touch {}", marker.display()));
    let got = start_error(vec![good, ServiceSpec::new("bad", "")], fast_opts());
    assert!(got.contains("service bad"), "{got}");
    assert!(!marker.exists());
}

#[test]
fn invalid_options_are_refused() {
    let cases = [
        (
            SupervisorOptions {
                max_line_bytes: 10,
                ..fast_opts()
            },
            "max_line_bytes 10",
        ),
        (
            SupervisorOptions {
                backoff_initial: Duration::from_secs(5),
                backoff_max: Duration::from_secs(1),
                ..fast_opts()
            },
            "above backoff_max",
        ),
        (
            SupervisorOptions {
                project: String::new(),
                ..fast_opts()
            },
            "project name is empty",
        ),
    ];
    for (opts, want) in cases {
        let got = start_error(vec![sh("a", "true")], opts);
        assert!(got.contains(want), "got {got:?}, want {want:?}");
    }
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let err = Supervisor::start(vec![sh("a", "true")], fast_opts(), memory_sink()).unwrap_err();
    assert!(matches!(err, ServiceError::NoRuntime), "{err}");
}

#[test]
fn restart_policy_parses_the_stack_file_spelling() {
    for policy in [
        RestartPolicy::Always,
        RestartPolicy::OnFailure,
        RestartPolicy::No,
    ] {
        assert_eq!(policy.as_str().parse::<RestartPolicy>().unwrap(), policy);
    }
    let err = "sometimes".parse::<RestartPolicy>().unwrap_err();
    assert!(err.to_string().contains("\"sometimes\""));
}
