//! `tetrad demo`: `tetrad up` with a built-in stack — the demo backend (two replicas from port
//! 8000), the inventory service it calls (8100) and `tetrad load` at 20 req/s split over the
//! backend replicas — so every dashboard panel has data within seconds, with nothing to write.
//!
//! The stack is an ordinary stack file, written to `<data-dir>/demo/tetrad.yaml` before `up`
//! reads it: what the demo runs is there to read and to copy as the start of one's own.
//! Every service is this very binary (`tetrad demo-service …`, `tetrad load …`), so `cargo run
//! --release -- demo` needs nothing else built.

use crate::cli::SharedArgs;
use anyhow::Context;
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `tetrad demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// First port of the backend's replicas (replica n listens on this + n - 1).
    #[arg(long, default_value_t = 8000)]
    pub backend_port: u16,
    /// How many backend replicas run.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub backend_replicas: u32,
    /// Port of the inventory service.
    #[arg(long, default_value_t = 8100)]
    pub inventory_port: u16,
    /// Requests per second `tetrad load` sends; 0 runs no load.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Scrape interval of the demo's targets.
    #[arg(long, default_value = "5s")]
    pub scrape_interval: String,
}

/// The demo's stack file, running `exe` for every service.
pub fn stack_yaml(exe: &Path, args: &DemoArgs) -> String {
    let exe = yaml_quote(&exe.display().to_string());
    let interval = yaml_quote(&args.scrape_interval);
    let inventory = format!("http://127.0.0.1:{}", args.inventory_port);
    let mut y = String::new();
    let _ = write!(
        y,
        "# Written by `tetrad demo`; `tetrad up -f` runs it the same way.\n\
         project: demo\n\
         global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n\
         services:\n\
         \x20 inventory:\n    command: {exe}\n    args: [demo-service, inventory]\n\
         \x20   port: {ip}\n    labels:\n      metrics.scrape: \"true\"\n\
         \x20 backend:\n    command: {exe}\n    args: [demo-service, backend]\n\
         \x20   replicas: {n}\n    port: {bp}\n    env:\n      INVENTORY_URL: {inv}\n\
         \x20   labels:\n      metrics.scrape: \"true\"\n",
        ip = args.inventory_port,
        n = args.backend_replicas,
        bp = args.backend_port,
        inv = yaml_quote(&inventory),
    );
    if args.rate > 0.0 {
        let urls: Vec<String> = (0..args.backend_replicas)
            .map(|i| format!("http://127.0.0.1:{}", u32::from(args.backend_port) + i))
            .collect();
        let _ = write!(
            y,
            "\x20 load:\n    command: {exe}\n    args: [load, {rate}, {urls}]\n",
            rate = yaml_quote(&args.rate.to_string()),
            urls = yaml_quote(&urls.join(",")),
        );
    }
    y
}

/// A YAML double-quoted scalar.
fn yaml_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// Writes the demo stack file into the data dir and returns the shared settings pointing at it.
pub fn prepare(shared: &SharedArgs, args: &DemoArgs) -> anyhow::Result<SharedArgs> {
    let exe = std::env::current_exe().context("finding the tetrad executable")?;
    let data_dir = shared
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("tetrad-data"));
    let dir = data_dir.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join("tetrad.yaml");
    storage::write_atomic(&file, stack_yaml(&exe, args).as_bytes())
        .with_context(|| format!("writing the demo stack file {}", file.display()))?;
    let mut shared = shared.clone();
    shared.file = Some(file);
    // Relative to where the user ran `tetrad demo`, not to the stack file's folder.
    shared.data_dir = Some(std::path::absolute(&data_dir).unwrap_or(data_dir));
    Ok(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> DemoArgs {
        DemoArgs {
            backend_port: 8000,
            backend_replicas: 2,
            inventory_port: 8100,
            rate: 20.0,
            scrape_interval: "5s".into(),
        }
    }

    #[test]
    fn the_stack_is_a_valid_stack_file() {
        let yaml = stack_yaml(Path::new("/opt/tetrad"), &args());
        let raw = crate::config::parse_str(&yaml, "demo").unwrap();
        let names: Vec<&String> = raw.services.keys().collect();
        assert_eq!(names, ["backend", "inventory", "load"]);
        assert!(
            yaml.contains("args: [load, \"20\", \"http://127.0.0.1:8000,http://127.0.0.1:8001\"]"),
            "{yaml}"
        );
    }

    #[test]
    fn no_load_at_rate_zero() {
        let yaml = stack_yaml(
            Path::new("/opt/tetrad"),
            &DemoArgs {
                rate: 0.0,
                ..args()
            },
        );
        let raw = crate::config::parse_str(&yaml, "demo").unwrap();
        assert!(!raw.services.contains_key("load"), "{yaml}");
    }
}
