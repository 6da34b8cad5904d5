//! The span exporter: a bounded queue in front of a batching OTLP/gRPC client on its own
//! thread, so that no request ever waits for the collector.
//!
//! Closed spans go into a queue of `queue_capacity`; when it is full the span is dropped and
//! counted (`instrument_spans_dropped_total{reason="queue_full"}`). The exporter thread runs a
//! small tokio runtime of its own (the application's runtime may not exist yet, or may be shut
//! down before we flush) and sends a batch when it holds `batch_size` spans or every
//! `batch_interval`. A failed `TraceService/Export` is retried with exponential backoff up to
//! `MAX_ATTEMPTS`; then the batch is dropped and counted (`reason="export_failed"`).

use crate::metrics::Counter;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tonic::transport::{Channel, Endpoint};

/// Attempts per batch before it is dropped.
const MAX_ATTEMPTS: u32 = 4;
/// The first retry waits this long; each next one twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// The sending half: cheap to clone, never blocks.
#[derive(Clone)]
pub(crate) struct SpanSender {
    tx: mpsc::Sender<Span>,
    dropped_queue_full: Counter,
}

impl SpanSender {
    pub(crate) fn send(&self, span: Span) {
        if self.tx.try_send(span).is_err() {
            self.dropped_queue_full.inc();
        }
    }

    /// A sender into a plain queue of `capacity`, for tests to read the spans sent.
    #[cfg(test)]
    pub(crate) fn channel_for_tests(capacity: usize) -> (SpanSender, mpsc::Receiver<Span>) {
        let (tx, rx) = mpsc::channel(capacity);
        let dropped = crate::metrics::Registry::new()
            .counter("test_spans_dropped_total", "Spans dropped in a test.", &[])
            // A fresh registry holds no metric of that name.
            .expect("a valid counter")
            .with(&[]);
        let sender = SpanSender {
            tx,
            dropped_queue_full: dropped,
        };
        (sender, rx)
    }
}

/// How the exporter batches, sends and counts.
pub(crate) struct ExporterSettings {
    pub(crate) endpoint: Endpoint,
    pub(crate) resource: Resource,
    pub(crate) queue_capacity: usize,
    pub(crate) batch_size: usize,
    pub(crate) batch_interval: Duration,
    pub(crate) exported: Counter,
    pub(crate) dropped_queue_full: Counter,
    pub(crate) dropped_export_failed: Counter,
}

/// The exporter thread's handle: asks it to flush and stop.
pub(crate) struct ExporterHandle {
    stop: Option<oneshot::Sender<oneshot::Sender<()>>>,
}

impl ExporterHandle {
    /// Flushes what is queued and stops the thread, waiting at most `timeout`.
    pub(crate) async fn shutdown(&mut self, timeout: Duration) -> bool {
        let Some(stop) = self.stop.take() else {
            return true;
        };
        let (done_tx, done_rx) = oneshot::channel();
        if stop.send(done_tx).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(timeout, done_rx).await, Ok(Ok(())))
    }
}

/// Starts the exporter thread. `log_dispatch` logs without tracing, so that the gRPC client's
/// own spans never feed back into the queue.
pub(crate) fn start(
    settings: ExporterSettings,
    log_dispatch: tracing::Dispatch,
) -> Result<(SpanSender, ExporterHandle), std::io::Error> {
    let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
    let (stop_tx, stop_rx) = oneshot::channel();
    let sender = SpanSender {
        tx,
        dropped_queue_full: settings.dropped_queue_full.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("instrument-span-exporter".into())
        .spawn(move || {
            let _guard = tracing::dispatcher::set_default(&log_dispatch);
            runtime.block_on(run(settings, rx, stop_rx))
        })?;
    Ok((
        sender,
        ExporterHandle {
            stop: Some(stop_tx),
        },
    ))
}

async fn run(
    settings: ExporterSettings,
    mut rx: mpsc::Receiver<Span>,
    mut stop_rx: oneshot::Receiver<oneshot::Sender<()>>,
) {
    let mut client = TraceServiceClient::new(settings.endpoint.connect_lazy());
    let mut batch = Vec::with_capacity(settings.batch_size);
    let mut tick = tokio::time::interval(settings.batch_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            span = rx.recv() => match span {
                Some(span) => {
                    batch.push(span);
                    if batch.len() >= settings.batch_size {
                        export(&mut client, &settings, std::mem::take(&mut batch)).await;
                    }
                }
                // Every sender is gone: nothing more will come.
                None => break,
            },
            _ = tick.tick() => {
                if !batch.is_empty() {
                    export(&mut client, &settings, std::mem::take(&mut batch)).await;
                }
            }
            done = &mut stop_rx => {
                while let Ok(span) = rx.try_recv() {
                    batch.push(span);
                    if batch.len() >= settings.batch_size {
                        export(&mut client, &settings, std::mem::take(&mut batch)).await;
                    }
                }
                if !batch.is_empty() {
                    export(&mut client, &settings, std::mem::take(&mut batch)).await;
                }
                if let Ok(done) = done {
                    let _ = done.send(());
                }
                return;
            }
        }
    }
    if !batch.is_empty() {
        export(&mut client, &settings, batch).await;
    }
}

async fn export(
    client: &mut TraceServiceClient<Channel>,
    settings: &ExporterSettings,
    spans: Vec<Span>,
) {
    let n = spans.len() as f64;
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(settings.resource.clone()),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "instrument".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=MAX_ATTEMPTS {
        match client.export(request.clone()).await {
            Ok(_) => {
                settings.exported.inc_by(n);
                return;
            }
            Err(status) if attempt == MAX_ATTEMPTS => {
                static WARNED: crate::warn_limit::WarnLimit = crate::warn_limit::WarnLimit::new();
                if WARNED.allow() {
                    tracing::warn!(
                    error = %status.message(),
                    code = ?status.code(),
                    spans = n,
                    "span export failed, batch dropped (repeats are logged once a minute)"
                    );
                }
            }
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
    }
    settings.dropped_export_failed.inc_by(n);
}
