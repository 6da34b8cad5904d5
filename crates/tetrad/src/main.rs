//! The `tetrad` binary: command-line interface, configuration loading and wiring of the
//! components (stores, engines, receivers, APIs) into one process.

mod cli;
mod commands;
mod config;
mod memory;
mod server;
mod stack;
mod stack_services;

use anyhow::Context;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tetrad: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<()> {
    // One TLS provider for every outbound client (ring, no OpenSSL, no aws-lc).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The load generator and the demo services need no stack file and log on their own terms.
    if let cli::Command::Load(args) = cli.command {
        return commands::load::main(args);
    }
    if let cli::Command::DemoService(args) = cli.command {
        return commands::demo_service::main(args);
    }
    let settings = match &cli.command {
        cli::Command::Demo(args) => config::load(&commands::demo::prepare(&cli.shared, args)?)?,
        _ => config::load(&cli.shared)?,
    };
    // `up -d` only starts a child and waits; it needs no runtime.
    if let cli::Command::Up(cli::UpArgs { detach: true }) = cli.command {
        init_logging(&settings.log_level);
        return commands::detach::run(&settings);
    }
    if let cli::Command::Down = cli.command {
        return commands::down::run(&settings);
    }
    init_logging(&settings.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tetrad")
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        cli::Command::Server => runtime.block_on(server::run(settings)),
        cli::Command::Up(_) | cli::Command::Demo(_) => {
            runtime.block_on(commands::up::run(settings))
        }
        cli::Command::Ps => {
            // Without an explicit -p, every project is listed.
            let only = cli.shared.project.as_deref();
            runtime.block_on(commands::ps::run(&settings, only))
        }
        cli::Command::Down => commands::down::run(&settings),
        cli::Command::Query(args) => runtime.block_on(commands::query::run(&settings, args)),
        cli::Command::Config => {
            println!("{settings:#?}");
            Ok(())
        }
        cli::Command::Load(_) | cli::Command::DemoService(_) => {
            unreachable!("dispatched before the settings are loaded")
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
