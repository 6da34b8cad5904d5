//! `tetrad up`, `ps` and `down` with the real binary: services are `python3 -m http.server`
//! replicas serving a static `metrics` file, scraped every second.

mod common;

use common::{
    free_port, free_ports, get_json, group_alive, http, query, terminate, urlencode, wait_for,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const METRICS: &str = "# TYPE stack_demo_up gauge\nstack_demo_up 1\n";

/// A stack folder with a `site/metrics` file and a `tetrad.yaml` of the given services, each
/// `(name, base port, replicas)`.
fn stack(dir: &Path, services: &[(&str, u16, u32)]) -> PathBuf {
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/metrics"), METRICS).unwrap();
    let mut yaml =
        String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nservices:\n");
    for (name, port, replicas) in services {
        yaml.push_str(&format!(
            "  {name}:\n    command: [python3, -u, -m, http.server, --bind, 127.0.0.1]\n    args: [--directory, site, '${{TETRAD_PORT}}']\n    replicas: {replicas}\n    port: {port}\n    labels:\n      metrics.scrape: \"true\"\n"
        ));
    }
    let file = dir.join("tetrad.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}

/// The shared flags: server ports, data dir, stack file.
#[derive(Clone)]
struct Env {
    http: u16,
    ports: [u16; 3],
    data_dir: PathBuf,
    file: PathBuf,
}

impl Env {
    fn new(data_dir: &Path, file: &Path, http: u16) -> Env {
        Env {
            http,
            ports: [free_port(), free_port(), free_port()],
            data_dir: data_dir.to_path_buf(),
            file: file.to_path_buf(),
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tetrad"));
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .arg("-f")
            .arg(&self.file)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{}", self.http))
            .arg("--otlp-grpc-addr")
            .arg(format!("127.0.0.1:{}", self.ports[0]))
            .arg("--otlp-http-addr")
            .arg(format!("127.0.0.1:{}", self.ports[1]))
            .arg("--pyroscope-addr")
            .arg(format!("127.0.0.1:{}", self.ports[2]))
            .args(args)
            .env_remove("TETRAD_FILE")
            .env_remove("TETRAD_PROJECT")
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs a command to its end; returns (success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.command(args).output().expect("running tetrad");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// `(project, service, instance)` of every `stack_demo_up` series.
fn scraped(base: &str) -> Vec<(String, String, String)> {
    let v = query(base, "stack_demo_up", common::now_ms());
    let mut out: Vec<(String, String, String)> = v["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let m = &s["metric"];
            let l = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            assert_eq!(m["job"], m["service"], "job is the service: {m}");
            (l("project"), l("service"), l("instance"))
        })
        .collect();
    out.sort();
    out
}

/// One value of tetrad's own `/metrics`, by its exact series text.
fn self_metric(base: &str, series: &str) -> Option<f64> {
    let (_, body) = http("GET", &format!("{base}/metrics"), None, b"");
    let text = String::from_utf8_lossy(&body).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Rows of `tetrad ps` as (project, service, instance, pid, state, restarts).
fn ps(env: &Env, args: &[&str]) -> Vec<Vec<String>> {
    let mut a = args.to_vec();
    a.push("ps");
    let (ok, out, err) = env.run(&a);
    assert!(ok, "tetrad ps failed: {err}");
    out.lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// Stops a foreground `tetrad up` when a test fails: SIGTERM first, so its services stop too
/// (SIGKILL would leave them running, as it would for `docker compose`).
struct StopOnDrop(Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            terminate(&mut self.0);
        }
    }
}

/// Runs `down` for detached projects when a test fails before it did.
struct DownOnDrop(Vec<(String, Env)>);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        for (project, env) in &self.0 {
            let _ = env.run(&["-p", project, "down"]);
        }
    }
}

/// `tetrad up` with its own server: every replica scraped with project/service/instance, their
/// output stored, a killed replica restarted and counted, nothing left after SIGTERM.
#[test]
fn up_runs_the_server_and_the_services() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Shop.App");
    let (web, api) = (free_ports(2), free_ports(2));
    let file = stack(&dir, &[("web", web, 2), ("api", api, 2)]);
    let env = Env::new(&tmp.path().join("data"), &file, free_port());
    let base = env.base();
    let mut up = StopOnDrop(
        env.command(&["up"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );

    // The default project is the stack folder's name, normalised like compose.
    let want: Vec<(String, String, String)> = [
        ("api", "api-1"),
        ("api", "api-2"),
        ("web", "web-1"),
        ("web", "web-2"),
    ]
    .iter()
    .map(|(s, i)| ("shopapp".to_string(), s.to_string(), i.to_string()))
    .collect();
    wait_for("every replica scraped", || {
        common::try_http("GET", &format!("{base}/-/ready"), None, b"")?;
        (scraped(&base) == want).then_some(())
    });

    // Their stdout lines are stored with the stream labels.
    let logs_url = format!("{base}/api/v1/tetrad/logs?limit=100&project=shopapp&service=web");
    let lines = wait_for("web's stdout lines", || {
        let (_, v) = get_json(&logs_url);
        let recs = v["data"]["records"].as_array()?.clone();
        let serving: Vec<_> = recs
            .into_iter()
            .filter(|r| r["line"].as_str().unwrap_or("").starts_with("Serving HTTP"))
            .collect();
        (serving.len() == 2).then_some(serving)
    });
    for r in &lines {
        assert_eq!(r["labels"]["stream"], "stdout", "{r}");
        assert_eq!(r["labels"]["project"], "shopapp", "{r}");
    }
    assert!(self_metric(&base, "tetrad_log_records_received_total").unwrap_or(0.0) >= 4.0);

    // Kill web-1 with SIGKILL by the pid `ps` shows: the live count drops, comes back, and the
    // restart is counted.
    let rows = ps(&env, &[]);
    let web1 = rows
        .iter()
        .find(|r| r[2] == "web-1")
        .unwrap_or_else(|| panic!("no web-1 in {rows:?}"));
    assert_eq!(web1[4], "running");
    assert_eq!(web1[8], "up", "scraped: {rows:?}");
    let pid: u32 = web1[3].parse().unwrap();
    let live = "tetrad_service_replicas{project=\"shopapp\",service=\"web\"}";
    assert_eq!(self_metric(&base, live), Some(2.0));
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    wait_for("the live count to drop", || {
        (self_metric(&base, live)? < 2.0).then_some(())
    });
    wait_for("the live count to come back", || {
        (self_metric(&base, live)? == 2.0).then_some(())
    });
    let restarts =
        "tetrad_service_restarts_total{project=\"shopapp\",service=\"web\",instance=\"web-1\"}";
    assert_eq!(self_metric(&base, restarts), Some(1.0));
    let rows = ps(&env, &["-p", "shopapp"]);
    let web1 = rows.iter().find(|r| r[2] == "web-1").unwrap();
    assert_eq!(web1[5], "1", "{rows:?}");
    assert_ne!(web1[3], pid.to_string(), "a new process: {rows:?}");

    // SIGTERM: services stopped, nothing of any replica's process group left.
    let pids: Vec<u32> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    assert_eq!(pids.len(), 4);
    let status = terminate(&mut up.0);
    assert!(status.success(), "tetrad up exited with {status}");
    for p in pids.iter().chain([&pid]) {
        assert!(!group_alive(*p), "process group {p} survived tetrad up");
    }
}

/// Against one running server: `up -d -p dev` and `up -d -p staging` side by side, both listed
/// by `ps`, scraped and logged apart; `down` leaves no process behind.
#[test]
fn detached_projects_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let server = common::Tetrad::start(&tmp.path().join("server-data"), &[]);
    let http_port: u16 = server.http.rsplit(':').next().unwrap().parse().unwrap();
    let base = server.http.clone();
    let data = tmp.path().join("up-data");
    let mut envs = Vec::new();
    let mut guard = DownOnDrop(Vec::new());
    for project in ["dev", "staging"] {
        let file = stack(&tmp.path().join(project), &[("web", free_ports(2), 2)]);
        let env = Env::new(&data, &file, http_port);
        guard.0.push((project.to_string(), env.clone()));
        let (ok, out, err) = env.run(&["-p", project, "up", "-d"]);
        assert!(ok, "up -d -p {project}: {out} {err}");
        assert!(out.contains(&format!("project {project} is up")), "{out}");
        envs.push((project, env));
    }
    let want: Vec<(String, String, String)> = ["dev", "staging"]
        .iter()
        .flat_map(|p| ["web-1", "web-2"].map(|i| (p.to_string(), "web".to_string(), i.to_string())))
        .collect();
    wait_for("both projects scraped", || {
        (scraped(&base) == want).then_some(())
    });

    // Shipped logs carry their project.
    for project in ["dev", "staging"] {
        let url = format!(
            "{base}/api/v1/tetrad/logs?limit=10&project={}",
            urlencode(project)
        );
        wait_for("shipped log lines", || {
            let (_, v) = get_json(&url);
            let recs = v["data"]["records"].as_array()?.clone();
            (!recs.is_empty()
                && recs
                    .iter()
                    .all(|r| r["labels"]["project"] == project && r["labels"]["service"] == "web"))
            .then_some(())
        });
    }

    let env = &envs[0].1;
    let rows = ps(env, &[]);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let only_dev = ps(env, &["-p", "dev"]);
    assert_eq!(only_dev.len(), 2, "{only_dev:?}");
    assert!(only_dev.iter().all(|r| r[0] == "dev"));

    // A second `up` of a running project is refused.
    let (ok, _, err) = env.run(&["-p", "dev", "up", "-d"]);
    assert!(!ok && err.contains("project dev is already up"), "{err}");

    let mut up_pids = Vec::new();
    for project in ["dev", "staging"] {
        let st: serde_json::Value = serde_json::from_slice(
            &std::fs::read(data.join("projects").join(project).join("up.json")).unwrap(),
        )
        .unwrap();
        up_pids.push(st["pid"].as_u64().unwrap() as u32);
    }
    let service_pids: Vec<u32> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    for (project, env) in &envs {
        let (ok, out, err) = env.run(&["-p", project, "down"]);
        assert!(ok, "down -p {project}: {out} {err}");
        assert!(out.contains(&format!("project {project} is down")), "{out}");
    }
    for p in service_pids.iter().chain(&up_pids) {
        assert!(!group_alive(*p), "process {p} survived tetrad down");
    }
    // Deregistered: the server lists nothing, and a second `down` says there is nothing up.
    let (_, v) = get_json(&format!("{base}/api/v1/tetrad/projects"));
    assert_eq!(v["data"]["projects"], serde_json::json!([]));
    let (ok, _, err) = envs[0].1.run(&["-p", "dev", "down"]);
    assert!(!ok && err.contains("project dev is not up here"), "{err}");
}

/// Loki's push API: JSON (plain and gzip) lands in the log sink; bad input gets Loki's texts.
#[test]
fn loki_push_json() {
    let tmp = tempfile::tempdir().unwrap();
    let server = common::Tetrad::start(&tmp.path().join("data"), &[]);
    let url = format!("{}/loki/api/v1/push", server.http);
    let body = format!(
        r#"{{"streams":[{{"stream":{{"job":"curl","project":"p1"}},"values":[["{}","hello loki"]]}}]}}"#,
        common::now_ms() * 1_000_000
    );
    let (status, _) = http("POST", &url, Some("application/json"), body.as_bytes());
    assert_eq!(status, 204);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, body.replace("hello loki", "zipped").as_bytes()).unwrap();
    let zipped = gz.finish().unwrap();
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg("Content-Type: application/json")
        .args(["-H", "Content-Encoding: gzip", "--data-binary", "@-", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&zipped)?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "204");
    let (_, v) = get_json(&format!("{}/api/v1/tetrad/logs?project=p1", server.http));
    let lines: Vec<&str> = v["data"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["hello loki", "zipped"]);

    let (status, body) = http(
        "POST",
        &url,
        Some("application/json"),
        br#"{"streams":[{"stream":{},"values":[["1","x"]]}]}"#,
    );
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["message"],
        "error at least one label pair is required per stream"
    );
    let (status, _) = http("POST", &url, Some("application/x-protobuf"), b"\x00");
    assert_eq!(status, 415);
}

/// A detached `up` whose service cannot start fails with the end of its log, and leaves no
/// state behind; the registry refuses bad registrations in Prometheus' error style.
#[test]
fn failures_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tetrad.yaml");
    std::fs::write(
        &file,
        "services:\n  ghost:\n    command: ./no-such-program\n",
    )
    .unwrap();
    let data = tmp.path().join("data");
    let env = Env::new(&data, &file, free_port());
    let (ok, _, err) = env.run(&["up", "-d"]);
    assert!(!ok, "up -d of a missing program succeeded");
    assert!(
        err.contains("ghost"),
        "the log tail names the service: {err}"
    );
    assert!(err.contains("the detached tetrad up exited"), "{err}");
    assert!(!data.join("projects/broken/up.json").exists());
    let (ok, _, err) = env.run(&["ps"]);
    assert!(
        !ok && err.contains("no tetrad server at http://127.0.0.1:"),
        "{err}"
    );

    let server = common::Tetrad::start(&tmp.path().join("server-data"), &[]);
    let url = format!("{}/api/v1/tetrad/projects/Bad", server.http);
    let (status, body) = http(
        "PUT",
        &url,
        Some("application/json"),
        br#"{"ttl_seconds":30,"services":[]}"#,
    );
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["errorType"], "bad_data");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("invalid project name"),
        "{v}"
    );
    let url = format!("{}/api/v1/tetrad/projects/ok", server.http);
    let (status, body) = http("PUT", &url, Some("application/json"), b"{\"ttl\":1}");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, _) = http("DELETE", &url, None, b"");
    assert_eq!(status, 404);
}

/// `up -d` with its own server, then `down` right away: the services, the detached process and
/// its server are gone, and the state file with them.
#[test]
fn detached_with_own_server_then_down_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = stack(&tmp.path().join("quick"), &[("web", free_ports(2), 2)]);
    let data = tmp.path().join("data");
    let env = Env::new(&data, &file, free_port());
    let _guard = DownOnDrop(vec![("quick".into(), env.clone())]);
    let (ok, out, err) = env.run(&["up", "-d"]);
    assert!(ok, "up -d: {out} {err}");
    let st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("projects/quick/up.json")).unwrap())
            .unwrap();
    assert_eq!(st["server"], "in-process");
    let up_pid = st["pid"].as_u64().unwrap() as u32;
    let rows = ps(&env, &[]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (ok, out, err) = env.run(&["down"]);
    assert!(ok, "down: {out} {err}");
    for p in rows
        .iter()
        .map(|r| r[3].parse::<u32>().unwrap())
        .chain([up_pid])
    {
        assert!(!group_alive(p), "process {p} survived tetrad down");
    }
    assert!(!data.join("projects/quick/up.json").exists());
    assert!(common::try_http("GET", &format!("{}/-/ready", env.base()), None, b"").is_none());
}

/// `tetrad up` killed with SIGKILL runs no cleanup; its replicas still go, told by the kernel
/// that their parent died.
#[test]
fn sigkilled_up_leaves_no_replica() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("orphans");
    let file = stack(&dir, &[("web", free_ports(2), 2)]);
    let env = Env::new(&tmp.path().join("data"), &file, free_port());
    let base = env.base();
    let mut up = StopOnDrop(
        env.command(&["up"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let pids: Vec<u32> = wait_for("both replicas serving", || {
        common::try_http("GET", &format!("{base}/-/ready"), None, b"")?;
        let rows = ps(&env, &[]);
        let pids: Vec<u32> = rows
            .iter()
            // Scraped `up`: serving, so past its first output line (a replica killed by a
            // broken pipe would not show what this test is about).
            .filter(|r| r.get(4).map(String::as_str) == Some("running"))
            .filter(|r| r.get(8).map(String::as_str) == Some("up"))
            .filter_map(|r| r.get(3)?.parse().ok())
            .collect();
        (pids.len() == 2).then_some(pids)
    });
    up.0.kill().unwrap();
    up.0.wait().unwrap();
    wait_for("the orphaned replicas to exit", || {
        pids.iter().all(|p| !group_alive(*p)).then_some(())
    });
}
