//! `tetrad ps`: the services of the projects registered with the server, one line per replica,
//! like `docker compose ps`, with the health of each replica's metrics endpoint as the server's
//! last scrape saw it (`up`, `down`, `unknown`; `-` when the service is not scraped).

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
    let health = scrape_health(&client, &base).await;
    let now = model::time::now_ms();
    let mut rows = vec![
        [
            "PROJECT", "SERVICE", "INSTANCE", "PID", "STATE", "RESTARTS", "PORT", "UPTIME",
            "SCRAPE",
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
                let service = s["name"].as_str().unwrap_or_default();
                let instance = r["instance"].as_str().unwrap_or_default();
                let scrape = health
                    .get(&(format!("{project}/{service}"), instance.to_string()))
                    .cloned()
                    .unwrap_or_else(|| "-".into());
                rows.push(vec![
                    project.to_string(),
                    service.to_string(),
                    instance.to_string(),
                    opt(&r["pid"]),
                    state.to_string(),
                    opt(&r["restarts"]),
                    opt(&r["port"]),
                    uptime,
                    scrape,
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

/// Health of every active target by (scrape job, instance); empty when the targets API fails
/// (the table then shows `-`).
async fn scrape_health(
    client: &reqwest::Client,
    base: &str,
) -> std::collections::HashMap<(String, String), String> {
    let mut out = std::collections::HashMap::new();
    let Ok(resp) = client.get(format!("{base}/api/v1/targets")).send().await else {
        return out;
    };
    let Ok(json) = resp.json::<serde_json::Value>().await else {
        return out;
    };
    for t in json["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let pool = t["scrapePool"].as_str().unwrap_or_default().to_string();
        let instance = t["labels"]["instance"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let h = t["health"].as_str().unwrap_or("unknown").to_string();
        out.insert((pool, instance), h);
    }
    out
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
