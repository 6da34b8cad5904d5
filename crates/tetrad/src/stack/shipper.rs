//! Ships log records to a tetrad server in another process with Loki's push API.
//!
//! [`LokiShipper::push`] only queues (a bounded channel of batches; when it is full the batch
//! is dropped and counted), so a slow or absent server never stalls the services' output. A
//! background task gathers records into requests of at most [`MAX_BATCH`] records, grouped by
//! stream, and posts them to `/loki/api/v1/push`; a failed request is dropped and counted too
//! (the lines were already shown in the terminal). [`ShipperTask::finish`] sends what is queued,
//! within a bounded time, at shutdown.

use logs::{LogSink, LogSinkError};
use model::LogRecord;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Batches waiting to be sent, at most.
pub const QUEUE_BATCHES: usize = 1024;
/// Records per push request, at most.
pub const MAX_BATCH: usize = 2000;
/// How long records wait for more before a request is sent.
const LINGER: Duration = Duration::from_millis(200);
/// Time limit of one push request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`ShipperTask::finish`] may take.
const FINISH_WITHIN: Duration = Duration::from_secs(3);

/// The sink half: queues batches for the task.
pub struct LokiShipper {
    tx: mpsc::Sender<Vec<LogRecord>>,
    dropped: Arc<AtomicU64>,
}

/// The task half: sends queued batches; [`ShipperTask::finish`] flushes and stops it.
pub struct ShipperTask {
    done: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    dropped: Arc<AtomicU64>,
}

/// A shipper posting to `base` (`http://host:port`); must be called inside a tokio runtime.
pub fn start(base: &str) -> (Arc<LokiShipper>, ShipperTask) {
    let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
    let (done_tx, done_rx) = watch::channel(false);
    let dropped = Arc::new(AtomicU64::new(0));
    let url = format!("{base}/loki/api/v1/push");
    let task = tokio::spawn(send_loop(url, rx, done_rx, dropped.clone()));
    (
        Arc::new(LokiShipper {
            tx,
            dropped: dropped.clone(),
        }),
        ShipperTask {
            done: done_tx,
            task,
            dropped,
        },
    )
}

impl LogSink for LokiShipper {
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError> {
        let n = records.len() as u64;
        self.tx.try_send(records).map_err(|e| {
            self.dropped.fetch_add(n, Ordering::Relaxed);
            match e {
                mpsc::error::TrySendError::Full(_) => LogSinkError::Full {
                    sink: "loki-push".into(),
                    limit: format!("queue of {QUEUE_BATCHES} batches"),
                },
                mpsc::error::TrySendError::Closed(_) => LogSinkError::Unavailable {
                    sink: "loki-push".into(),
                    reason: "the shipper stopped".into(),
                },
            }
        })
    }
}

impl ShipperTask {
    /// Sends what is queued (bounded in time), stops, and returns how many records were
    /// dropped in all.
    pub async fn finish(self) -> u64 {
        let _ = self.done.send(true);
        let mut task = self.task;
        if tokio::time::timeout(FINISH_WITHIN, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn send_loop(
    url: String,
    mut rx: mpsc::Receiver<Vec<LogRecord>>,
    mut done: watch::Receiver<bool>,
    dropped: Arc<AtomicU64>,
) {
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "log shipping disabled: building the HTTP client");
            return;
        }
    };
    let mut warned = false;
    loop {
        let mut batch: Vec<LogRecord> = Vec::new();
        let finishing = tokio::select! {
            got = rx.recv() => match got {
                Some(b) => { batch.extend(b); false }
                None => true,
            },
            _ = done.wait_for(|d| *d) => true,
        };
        if !finishing {
            // Linger briefly so one request carries many lines.
            let deadline = tokio::time::Instant::now() + LINGER;
            while batch.len() < MAX_BATCH {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(b)) => batch.extend(b),
                    _ => break,
                }
            }
        } else {
            while batch.len() < MAX_BATCH * 8 {
                match rx.try_recv() {
                    Ok(b) => batch.extend(b),
                    Err(_) => break,
                }
            }
        }
        for chunk in batch.chunks(MAX_BATCH) {
            if let Err(e) = post(&client, &url, chunk).await {
                dropped.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if !warned {
                    tracing::warn!(error = %e, "shipping log lines to the server failed; dropping them while it is away");
                    warned = true;
                }
            } else {
                warned = false;
            }
        }
        if finishing {
            return;
        }
    }
}

/// One push request, records grouped into Loki streams by label set.
async fn post(client: &reqwest::Client, url: &str, records: &[LogRecord]) -> Result<(), String> {
    if records.is_empty() {
        return Ok(());
    }
    let body = encode(records);
    let resp = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    accepted(resp).await
}

/// `Ok` for a 2xx answer, else the status and the server's message.
pub async fn accepted(resp: reqwest::Response) -> Result<(), String> {
    if resp.status().is_success() {
        return Ok(());
    }
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    Err(format!("{status}: {}", text.trim()))
}

/// Loki's JSON push body.
pub fn encode(records: &[LogRecord]) -> String {
    let mut streams: BTreeMap<&model::Labels, Vec<serde_json::Value>> = BTreeMap::new();
    for r in records {
        streams
            .entry(&r.labels)
            .or_default()
            .push(serde_json::json!([r.timestamp_ns.to_string(), r.line]));
    }
    let streams: Vec<serde_json::Value> = streams
        .into_iter()
        .map(|(labels, values)| {
            let stream: BTreeMap<&str, &str> = labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            serde_json::json!({"stream": stream, "values": values})
        })
        .collect();
    serde_json::json!({ "streams": streams }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_the_server_parses() {
        let a = model::Labels::from_pairs([("service", "web"), ("stream", "stdout")]);
        let b = model::Labels::from_pairs([("service", "web"), ("stream", "stderr")]);
        let records = vec![
            LogRecord::new(1, a.clone(), "one"),
            LogRecord::new(2, b.clone(), "two"),
            LogRecord::new(3, a.clone(), "three \"quoted\""),
        ];
        let body = encode(&records);
        let mut back = api::loki_push::parse_push(body.as_bytes()).unwrap();
        back.sort_by_key(|r| r.timestamp_ns);
        assert_eq!(back, records);
    }
}
