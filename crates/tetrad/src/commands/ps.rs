//! `tetrad ps`: the services of the projects registered with the server, one line per replica,
//! like `docker compose ps`.

use crate::config::Settings;
use crate::stack::specs::client_addr;
use anyhow::{Context, bail};
use std::time::Duration;

/// Prints the table; `only` limits it to one project.
pub async fn run(settings: &Settings, only: Option<&str>) -> anyhow::Result<()> {
    let base = format!("http://{}", client_addr(settings.http_addr));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .context("building the HTTP client")?;
    let resp = match client
        .get(format!("{base}/api/v1/tetrad/projects"))
        .send()
        .await
    {
        Ok(r) => r,
        Err(_) => bail!("no tetrad server at {base}"),
    };
    let json: serde_json::Value = resp.json().await.context("reading the server's answer")?;
    if json["status"] != "success" {
        bail!("the server answered: {}", json["error"]);
    }
    let now = model::time::now_ms();
    let mut rows = vec![
        [
            "PROJECT", "SERVICE", "INSTANCE", "PID", "STATE", "RESTARTS", "PORT", "UPTIME",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for p in json["data"]["projects"].as_array().into_iter().flatten() {
        let project = p["project"].as_str().unwrap_or_default();
        if only.is_some_and(|o| o != project) {
            continue;
        }
        for s in p["services"].as_array().into_iter().flatten() {
            for r in s["replicas"].as_array().into_iter().flatten() {
                let state = r["state"].as_str().unwrap_or_default();
                let uptime = match (state, r["started_at_ms"].as_i64()) {
                    ("running", Some(t)) => human(now.saturating_sub(t)),
                    _ => "-".into(),
                };
                let opt = |v: &serde_json::Value| {
                    v.as_u64()
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into())
                };
                rows.push(vec![
                    project.to_string(),
                    s["name"].as_str().unwrap_or_default().to_string(),
                    r["instance"].as_str().unwrap_or_default().to_string(),
                    opt(&r["pid"]),
                    state.to_string(),
                    opt(&r["restarts"]),
                    opt(&r["port"]),
                    uptime,
                ]);
            }
        }
    }
    if rows.len() == 1 {
        match only {
            Some(p) => println!("no services of project {p} are registered at {base}"),
            None => println!("no projects are registered at {base}"),
        }
        return Ok(());
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Left-aligned columns separated by three spaces.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

/// `3h02m`, `4m10s`, `12s`.
fn human(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s >= 86_400 => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(human(12_500), "12s");
        assert_eq!(human(250_000), "4m10s");
        assert_eq!(human(3_720_000), "1h02m");
        let t = table(&[
            vec!["A".into(), "BB".into()],
            vec!["ccc".into(), "d".into()],
        ]);
        assert_eq!(t, "A     BB\nccc   d\n");
    }
}
