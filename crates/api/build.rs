//! Builds the web UI (`ui/`, TypeScript + Vite) into `$OUT_DIR/ui` so `src/ui.rs` can embed it.
//!
//! Runs only when the UI's sources change (`cargo:rerun-if-changed`). `npm ci` runs when
//! `ui/node_modules` is missing or older than `package-lock.json`; then `npm run build` type-checks
//! and bundles. `TETRAD_UI_SKIP_BUILD=1` skips npm for quick Rust-only loops, but only when a
//! previous build's output is already there (the binary must always contain a UI).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

/// Files and folders whose change means the UI must be rebuilt.
const UI_INPUTS: &[&str] = &[
    "src",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() -> ExitCode {
    match build() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            // Each line separately, so cargo shows the whole explanation.
            for line in msg.lines() {
                println!("cargo:warning={line}");
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn build() -> Result<(), String> {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let ui = manifest.join("../../ui");
    let out = PathBuf::from(env("OUT_DIR")?).join("ui");
    for input in UI_INPUTS {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=TETRAD_UI_SKIP_BUILD");

    let skip = std::env::var("TETRAD_UI_SKIP_BUILD").is_ok_and(|v| v == "1");
    if skip && out.join("index.html").is_file() {
        return Ok(());
    }
    if !ui.join("package.json").is_file() {
        return Err(format!(
            "the web UI sources are missing: no {}",
            ui.join("package.json").display()
        ));
    }
    check_tool("node")?;
    check_tool("npm")?;

    if needs_install(&ui) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&ui),
            "npm ci",
        )?;
    }
    run(
        Command::new("npm")
            .args(["run", "build"])
            .current_dir(&ui)
            .env("TETRAD_UI_OUT_DIR", &out),
        "npm run build",
    )?;
    if !out.join("index.html").is_file() {
        return Err(format!(
            "npm run build finished but wrote no {}",
            out.join("index.html").display()
        ));
    }
    Ok(())
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

fn check_tool(tool: &str) -> Result<(), String> {
    match Command::new(tool).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!(
            "`{tool}` was not found; building tetrad's web UI needs Node.js and npm \
             (Debian/Ubuntu: `apt-get install nodejs npm`)"
        )),
    }
}

/// `npm ci` is needed when node_modules is absent or older than the lock file.
fn needs_install(ui: &Path) -> bool {
    // npm writes this file on every install, so its time is the install's time.
    let installed = modified(&ui.join("node_modules/.package-lock.json"));
    let lock = modified(&ui.join("package-lock.json"));
    match (installed, lock) {
        (Some(i), Some(l)) => i < l,
        _ => true,
    }
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}
