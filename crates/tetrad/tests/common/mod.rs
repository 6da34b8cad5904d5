//! Starts the real `tetrad` binary on free loopback ports for integration tests, and stops it
//! (by its own PID) when dropped.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound then released; the tiny race is acceptable in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port")
}

/// A running tetrad server.
pub struct Tetrad {
    pub child: Child,
    pub http: String,
    pub data_dir: PathBuf,
    pub ports: Vec<u16>,
}

impl Tetrad {
    /// Starts `tetrad server` with a data dir and extra args, and waits until it answers.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Tetrad {
        Self::start_with_ports(
            data_dir,
            extra,
            [free_port(), free_port(), free_port(), free_port()],
        )
    }

    /// Like [`Tetrad::start`] with given ports (http, otlp grpc, otlp http, pyroscope), e.g. to
    /// restart on the same ones.
    pub fn start_with_ports(data_dir: &Path, extra: &[&str], ports: [u16; 4]) -> Tetrad {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tetrad"));
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{}", ports[0]))
            .arg("--otlp-grpc-addr")
            .arg(format!("127.0.0.1:{}", ports[1]))
            .arg("--otlp-http-addr")
            .arg(format!("127.0.0.1:{}", ports[2]))
            .arg("--pyroscope-addr")
            .arg(format!("127.0.0.1:{}", ports[3]))
            .args(extra)
            .arg("server")
            .env_remove("TETRAD_FILE")
            .current_dir(data_dir.parent().unwrap_or(data_dir))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = cmd.spawn().expect("starting tetrad");
        let t = Tetrad {
            child,
            http: format!("http://127.0.0.1:{}", ports[0]),
            data_dir: data_dir.to_path_buf(),
            ports: ports.to_vec(),
        };
        t.wait_ready(Duration::from_secs(30));
        t
    }

    fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        let addr = self.http.trim_start_matches("http://").to_string();
        while start.elapsed() < limit {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("tetrad did not listen on {addr} within {limit:?}");
    }

    /// Sends SIGKILL to the server (by its PID) and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tetrad did not exit within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tetrad {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A blocking HTTP client good enough for tests, on plain std sockets (HTTP/1.0); `None` when
/// the connection fails or is cut before a whole response arrives.
pub fn try_http(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, buf[split + 4..].to_vec()))
}

/// Like [`try_http`], panicking when there is no response.
pub fn http(method: &str, url: &str, content_type: Option<&str>, body: &[u8]) -> (u16, Vec<u8>) {
    try_http(method, url, content_type, body)
        .unwrap_or_else(|| panic!("{method} {url}: no complete HTTP response"))
}

/// GET returning (status, parsed JSON).
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let (st, body) = http("GET", url, None, b"");
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (st, v)
}

/// Samples of one series to push: label pairs and (ms, value) points.
pub type PushSeries = (Vec<(&'static str, String)>, Vec<(i64, f64)>);

/// Encodes series as a remote-write 1.0 request body (protobuf + snappy).
pub fn remote_write_body(series: &[PushSeries]) -> Vec<u8> {
    use collector::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
    let req = WriteRequest {
        timeseries: series
            .iter()
            .map(|(labels, points)| TimeSeries {
                labels: labels
                    .iter()
                    .map(|(n, v)| Label {
                        name: n.to_string(),
                        value: v.clone(),
                    })
                    .collect(),
                samples: points
                    .iter()
                    .map(|(t, v)| Sample {
                        timestamp: *t,
                        value: *v,
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    collector::remote_write::encode_write_request(&req)
}

/// POSTs a remote-write body; returns (status, body text).
pub fn push(base: &str, body: &[u8]) -> (u16, String) {
    try_push(base, body).unwrap_or_else(|| panic!("remote write to {base}: no response"))
}

/// Like [`push`], `None` when the server went away mid-request.
pub fn try_push(base: &str, body: &[u8]) -> Option<(u16, String)> {
    let (st, b) = try_http(
        "POST",
        &format!("{base}/api/v1/write"),
        Some("application/x-protobuf"),
        body,
    )?;
    Some((st, String::from_utf8_lossy(&b).to_string()))
}

/// Runs an instant query; panics unless it succeeds.
pub fn query(base: &str, q: &str, time_ms: i64) -> serde_json::Value {
    let url = format!(
        "{base}/api/v1/query?query={}&time={}",
        urlencode(q),
        time_ms as f64 / 1000.0
    );
    let (st, v) = get_json(&url);
    assert_eq!(st, 200, "{q}: {v}");
    v["data"].clone()
}

/// Percent-encodes a query parameter value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A base port whose next `n - 1` ports are free too.
pub fn free_ports(n: u16) -> u16 {
    loop {
        let base = free_port();
        if base.checked_add(n).is_none() {
            continue;
        }
        if (1..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
}

/// Polls `f` until it returns `Some` (panics with `what` after 60 s).
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Whether any process is in process group `pgid` (each replica leads its own group) or has
/// pid `pgid`.
pub fn group_alive(pgid: u32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let zombie = f.first() == Some(&"Z");
        let pid: Option<u32> = e.file_name().to_str().and_then(|s| s.parse().ok());
        !zombie && (f.get(2) == Some(&pgid.to_string().as_str()) || pid == Some(pgid))
    })
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let start = Instant::now();
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("tetrad up did not exit within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
