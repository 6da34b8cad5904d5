//! `tetrad up`: runs the stack file's services under the supervisor, like `docker compose up`,
//! with their metrics scraped and their output stored by a tetrad server.
//!
//! When a server already answers at `http_addr`, `up` supervises only this project's services:
//! it registers them (and repeats that as a heartbeat) through the server's project API and
//! ships their output with Loki's push API. Otherwise it starts the server in this process and
//! hands registrations and log records to it directly. Service lines go to the terminal in
//! compose style; tetrad's own logs stay on stderr. On Ctrl-C or SIGTERM the services are
//! stopped (SIGTERM, then SIGKILL after the stop timeout), the project is deregistered, and the
//! in-process server, if any, shuts down.
//!
//! `up -d` is in [`super::detach`].

use crate::config::Settings;
use crate::server;
use crate::stack::specs::client_addr;
use crate::stack::state_file::{self, UpState};
use crate::stack::{registration, shipper, specs};
use anyhow::{Context, bail};
use api::projects::{ProjectRegistration, ProjectRegistry};
use collector::services::{Supervisor, SupervisorOptions, TerminalSink};
use logs::{FanoutSink, LogSink};
use std::sync::Arc;
use std::time::Duration;

/// How long the probe for a running server waits.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);
/// How long one registration request may take.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(3);

/// Where registrations go.
enum Registrar {
    /// The server runs in this process: its registry, and this project's name.
    Local(Arc<ProjectRegistry>, String),
    /// Another process's server, at this base URL.
    Remote {
        client: reqwest::Client,
        url: String,
    },
}

impl Registrar {
    async fn register(&self, reg: ProjectRegistration) -> Result<(), String> {
        match self {
            Registrar::Local(r, project) => r.register(project, reg).map_err(|e| e.message),
            Registrar::Remote { client, url } => {
                let resp = client
                    .put(url)
                    .json(&reg)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                shipper::accepted(resp).await
            }
        }
    }

    async fn deregister(&self, project: &str) {
        match self {
            Registrar::Local(r, _) => {
                r.deregister(project);
            }
            Registrar::Remote { client, url } => {
                if let Err(e) = client.delete(url).send().await {
                    tracing::warn!(error = %e, "deregistering the project");
                }
            }
        }
    }
}

/// Whether a tetrad server answers at `base`.
async fn probe(base: &str) -> bool {
    let Ok(client) = reqwest::Client::builder().timeout(PROBE_TIMEOUT).build() else {
        return false;
    };
    client
        .get(format!("{base}/api/v1/status/buildinfo"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// `tetrad up` in the foreground.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Listen before anything starts, so an early SIGTERM still stops the services.
    let mut signals = server::StopSignals::new();
    let project = settings.project.clone();
    let me = std::process::id();
    if let Some(st) = state_file::read(&settings.data_dir, &project)?
        && st.pid != me
        && state_file::is_live_tetrad(st.pid)
    {
        bail!(
            "project {project} is already up (pid {}); `tetrad down -p {project}` stops it",
            st.pid
        );
    }
    let base = format!("http://{}", client_addr(settings.http_addr));
    let remote = probe(&base).await;
    if remote && settings.services.is_empty() {
        bail!(
            "a tetrad server already answers at {base} and the stack file has no services to run"
        );
    }
    let local = if remote {
        tracing::info!(server = %base, project = %project, "using the running tetrad server");
        None
    } else {
        Some(server::start(&settings).await?)
    };
    let mut state = UpState {
        pid: me,
        project: project.clone(),
        state: "starting".into(),
        http_addr: settings.http_addr.to_string(),
        server: if remote { "remote" } else { "in-process" }.into(),
        started_at_ms: model::time::now_ms(),
    };
    state_file::write(&settings.data_dir, &state)?;
    let result = supervise(&settings, &base, local.as_ref(), &mut state, &mut signals).await;
    state_file::remove_if_owner(&settings.data_dir, &project, me);
    if let Some(server) = local {
        server.stop().await?;
    }
    result
}

async fn supervise(
    settings: &Settings,
    base: &str,
    local: Option<&server::RunningServer>,
    state: &mut UpState,
    signals: &mut server::StopSignals,
) -> anyhow::Result<()> {
    let project = settings.project.clone();
    let (server_sink, shipper_task): (Arc<dyn LogSink>, _) = match local {
        Some(s) => (s.log_sink.clone(), None),
        None => {
            let (sink, task) = shipper::start(base);
            (sink, Some(task))
        }
    };
    let registrar = match local {
        Some(s) => Registrar::Local(s.projects.clone(), project.clone()),
        None => Registrar::Remote {
            client: reqwest::Client::builder()
                .timeout(REGISTER_TIMEOUT)
                .build()
                .context("building the HTTP client")?,
            url: format!("{base}/api/v1/tetrad/projects/{project}"),
        },
    };
    let specs: Vec<_> = settings
        .services
        .iter()
        .map(|s| specs::spec(s, settings))
        .collect();
    let instances: Vec<String> = specs
        .iter()
        .flat_map(|s| (1..=s.replicas).map(|r| s.instance(r)))
        .collect();
    let terminal: Arc<dyn LogSink> = Arc::new(TerminalSink::stdout().with_names(&instances));
    let sink = Arc::new(FanoutSink::new(vec![terminal, server_sink]));
    let supervisor = if specs.is_empty() {
        None
    } else {
        Some(
            Supervisor::start(specs, SupervisorOptions::new(project.clone()), sink)
                .context("starting the services")?,
        )
    };
    tracing::info!(
        project = %project,
        services = settings.services.len(),
        replicas = instances.len(),
        server = %base,
        "tetrad up"
    );
    let status = || supervisor.as_ref().map(|s| s.status()).unwrap_or_default();
    let mut warned = false;
    let mut send = async |reg: ProjectRegistration| match registrar.register(reg).await {
        Ok(()) => warned = false,
        Err(e) if !warned => {
            tracing::warn!(error = %e, "registering the project with the server");
            warned = true;
        }
        Err(_) => {}
    };
    if supervisor.is_some() {
        send(registration::build(&settings.services, &status())).await;
    }
    state.state = "running".into();
    state_file::write(&settings.data_dir, state)?;

    let mut changes = supervisor.as_ref().map(|s| s.subscribe());
    let mut heartbeat = tokio::time::interval(registration::HEARTBEAT);
    loop {
        let changed = async {
            match changes.as_mut() {
                Some(rx) => rx.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = signals.recv() => break,
            ok = changed => {
                if !ok {
                    changes = None;
                }
            }
            _ = heartbeat.tick() => {}
        }
        if supervisor.is_some() {
            send(registration::build(&settings.services, &status())).await;
        }
    }
    state.state = "stopping".into();
    let _ = state_file::write(&settings.data_dir, state);
    if let Some(s) = supervisor {
        let dropped = s.dropped_log_records();
        tracing::info!("stopping the services (a second Ctrl-C kills them at once)");
        tokio::select! {
            _ = s.shutdown() => {}
            // Dropping the unfinished shutdown drops the supervisor, which SIGKILLs every group.
            _ = signals.recv() => tracing::warn!("second signal: services killed"),
        }
        registrar.deregister(&project).await;
        if dropped > 0 {
            tracing::warn!(dropped, "service log records the sinks refused");
        }
    }
    if let Some(task) = shipper_task {
        let dropped = task.finish().await;
        if dropped > 0 {
            tracing::warn!(dropped, "log records not delivered to the server");
        }
    }
    Ok(())
}
