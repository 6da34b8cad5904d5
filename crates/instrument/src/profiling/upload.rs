//! The uploader thread: drains the ring, aggregates, and pushes one profile per interval.
//!
//! It runs on its own OS thread with its own single-threaded tokio runtime, so neither
//! symbolization nor a slow or dead server ever occupies the application's runtime. It drains
//! the ring every [`DRAIN_EVERY`] (keeping the ring small) and, once per upload interval,
//! symbolizes the counted stacks, encodes and gzips the pprof profile and starts the push. At
//! most one push is in flight: if the previous one has not finished when the next profile is
//! ready, the new profile is dropped and counted, so a stuck server costs one profile of memory.
//! A failed push is logged and counted and its profile dropped; nothing is retried.

use std::hash::{BuildHasher, Hasher};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;
use prost::Message;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::ProfilingError;
use super::config::ProfilerConfig;
use super::cpu_profile::{CpuSamples, ProfileWindow, effective_period};
use super::proto::{LabelPair, PushRequest, RawProfileSeries, RawSample};
use super::ring::SampleRing;
use super::symbolize::Symbolizer;

/// How often the ring is emptied into the aggregate.
pub(crate) const DRAIN_EVERY: Duration = Duration::from_millis(100);
/// Addresses the symbol cache keeps.
const SYMBOL_CACHE_ENTRIES: usize = 100_000;
/// Bytes of an error response kept for the log line.
const ERROR_BODY_LIMIT: usize = 512;
/// The profile name Pyroscope gives CPU profiles (`process_cpu:cpu:nanoseconds:cpu:nanoseconds`).
const PROFILE_NAME: &str = "process_cpu";

/// Counters the uploader keeps; read through `Profiler::stats`.
#[derive(Default)]
pub(crate) struct UploadCounters {
    pub samples_over_stack_limit: AtomicU64,
    pub profiles_pushed: AtomicU64,
    pub push_failures: AtomicU64,
    pub profiles_dropped: AtomicU64,
    pub bytes_pushed: AtomicU64,
}

/// The running uploader thread.
pub(crate) struct Uploader {
    stop: Option<oneshot::Sender<()>>,
    done: Option<oneshot::Receiver<()>>,
}

impl Uploader {
    /// Starts the thread.
    pub(crate) fn spawn(
        config: ProfilerConfig,
        ring: Arc<SampleRing>,
        counters: Arc<UploadCounters>,
    ) -> Result<Self, ProfilingError> {
        super::ensure_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.push_timeout)
            .build()
            .map_err(|e| ProfilingError::HttpClient(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ProfilingError::System {
                call: "building the uploader's tokio runtime",
                source,
            })?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("profiler-upload".to_owned())
            .spawn(move || {
                let task = UploadTask::new(config, ring, counters, client);
                runtime.block_on(task.run(stop_rx));
                let _ = done_tx.send(());
            })
            .map_err(|source| ProfilingError::System {
                call: "spawning the uploader thread",
                source,
            })?;
        Ok(Self {
            stop: Some(stop_tx),
            done: Some(done_rx),
        })
    }

    /// Asks the thread for a final drain and push and waits until it has finished. The thread
    /// bounds that work by the push timeout (twice: an in-flight push, then the final one).
    pub(crate) async fn finish(&mut self) {
        self.signal_stop();
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// Tells the thread to finish without waiting for it.
    pub(crate) fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Uploader {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

struct UploadTask {
    config: ProfilerConfig,
    ring: Arc<SampleRing>,
    counters: Arc<UploadCounters>,
    client: reqwest::Client,
    samples: CpuSamples,
    symbolizer: Symbolizer,
    series_labels: Vec<LabelPair>,
    executable: String,
    window_start: SystemTime,
    /// Process CPU time and signals seen (ring writes plus drops) when the profiler started,
    /// to measure the rate the kernel actually delivers.
    cpu_at_start: Duration,
    signals_at_start: u64,
    in_flight: Option<JoinHandle<()>>,
}

impl UploadTask {
    fn new(
        config: ProfilerConfig,
        ring: Arc<SampleRing>,
        counters: Arc<UploadCounters>,
        client: reqwest::Client,
    ) -> Self {
        let mut series_labels = vec![
            LabelPair {
                name: "__name__".to_owned(),
                value: PROFILE_NAME.to_owned(),
            },
            LabelPair {
                name: "service_name".to_owned(),
                value: config.service_name.clone(),
            },
        ];
        series_labels.extend(config.labels.iter().map(|(name, value)| LabelPair {
            name: name.clone(),
            value: value.clone(),
        }));
        Self {
            samples: CpuSamples::new(config.max_distinct_stacks),
            symbolizer: Symbolizer::new(SYMBOL_CACHE_ENTRIES),
            series_labels,
            executable: std::env::current_exe()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
            window_start: SystemTime::now(),
            cpu_at_start: process_cpu_time(),
            signals_at_start: ring.written() + ring.dropped(),
            in_flight: None,
            config,
            ring,
            counters,
            client,
        }
    }

    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let mut drain = tokio::time::interval(DRAIN_EVERY);
        drain.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_upload = Instant::now() + self.config.upload_interval;
        loop {
            tokio::select! {
                // A send or a dropped sender both mean stop.
                _ = &mut stop => break,
                _ = drain.tick() => {
                    self.drain();
                    if Instant::now() >= next_upload {
                        next_upload = Instant::now() + self.config.upload_interval;
                        self.upload();
                    }
                }
            }
        }
        self.finish().await;
    }

    fn drain(&mut self) {
        let samples = &mut self.samples;
        self.ring.drain(|frames, span| {
            samples.add(frames, span);
        });
        let dropped = self.samples.take_dropped();
        if dropped > 0 {
            self.counters
                .samples_over_stack_limit
                .fetch_add(dropped, Ordering::Relaxed);
        }
    }

    /// Builds the interval's request body, or `None` when nothing was sampled.
    fn take_body(&mut self) -> Option<Vec<u8>> {
        let now = SystemTime::now();
        let start = std::mem::replace(&mut self.window_start, now);
        if self.samples.is_empty() {
            return None;
        }
        let window = ProfileWindow {
            period_nanos: effective_period(
                1_000_000_000 / i64::from(self.config.frequency_hz.max(1)),
                u64::try_from(
                    process_cpu_time()
                        .saturating_sub(self.cpu_at_start)
                        .as_nanos(),
                )
                .unwrap_or(u64::MAX),
                (self.ring.written() + self.ring.dropped()).saturating_sub(self.signals_at_start),
            ),
            start_unix_nanos: unix_nanos(start),
            duration_nanos: now
                .duration_since(start)
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
            executable: self.executable.clone(),
        };
        let profile = self.samples.take_profile(&mut self.symbolizer, window);
        let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
        // Writing into a Vec cannot fail.
        let _ = gzip.write_all(&profile.encode_to_vec());
        let raw_profile = gzip.finish().unwrap_or_default();
        let request = PushRequest {
            series: vec![RawProfileSeries {
                labels: self.series_labels.clone(),
                samples: vec![RawSample {
                    raw_profile,
                    id: profile_id(),
                }],
            }],
        };
        Some(request.encode_to_vec())
    }

    fn upload(&mut self) {
        if self
            .in_flight
            .as_ref()
            .is_some_and(|push| !push.is_finished())
        {
            // The previous push is still running: keep memory bounded by dropping this one.
            self.samples = CpuSamples::new(self.config.max_distinct_stacks);
            self.window_start = SystemTime::now();
            self.counters
                .profiles_dropped
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                url = %self.config.push_url(),
                "CPU profile dropped: the previous push has not finished"
            );
            return;
        }
        if let Some(body) = self.take_body() {
            self.in_flight = Some(tokio::spawn(push(
                self.client.clone(),
                self.config.clone(),
                body,
                self.counters.clone(),
            )));
        }
    }

    /// The last push: waits for one in flight, then drains and pushes what is left.
    async fn finish(mut self) {
        if let Some(push) = self.in_flight.take() {
            let _ = push.await;
        }
        self.drain();
        if let Some(body) = self.take_body() {
            push(
                self.client.clone(),
                self.config.clone(),
                body,
                self.counters.clone(),
            )
            .await;
        }
    }
}

/// One push; the client's timeout bounds it. Outcomes are counted and failures logged.
async fn push(
    client: reqwest::Client,
    config: ProfilerConfig,
    body: Vec<u8>,
    counters: Arc<UploadCounters>,
) {
    let url = config.push_url();
    let bytes = body.len() as u64;
    let mut request = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/proto")
        .header("Connect-Protocol-Version", "1")
        .body(body);
    if let Some(tenant) = &config.tenant_id {
        request = request.header("X-Scope-OrgID", tenant);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            counters.profiles_pushed.fetch_add(1, Ordering::Relaxed);
            counters.bytes_pushed.fetch_add(bytes, Ordering::Relaxed);
        }
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let text: String = text.chars().take(ERROR_BODY_LIMIT).collect();
            counters.push_failures.fetch_add(1, Ordering::Relaxed);
            counters.profiles_dropped.fetch_add(1, Ordering::Relaxed);
            if PUSH_WARNED.allow() {
                tracing::warn!(%url, %status, body = %text, "CPU profile push refused (repeats are logged once a minute)");
            }
        }
        Err(error) => {
            counters.push_failures.fetch_add(1, Ordering::Relaxed);
            counters.profiles_dropped.fetch_add(1, Ordering::Relaxed);
            if PUSH_WARNED.allow() {
                tracing::warn!(%url, %error, "CPU profile push failed (repeats are logged once a minute)");
            }
        }
    }
}

/// One warning a minute about failed pushes: a server that is away must not flood the log.
static PUSH_WARNED: crate::warn_limit::WarnLimit = crate::warn_limit::WarnLimit::new();

/// CPU time used by the whole process so far.
fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the kernel to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

fn unix_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A random UUID (version 4 layout) naming one pushed profile. The randomness comes from the
/// standard library's per-process random hash keys; uniqueness, not secrecy, is what matters.
fn profile_id() -> String {
    let state = std::collections::hash_map::RandomState::new();
    let mut words = [0u64; 2];
    for (i, word) in words.iter_mut().enumerate() {
        let mut h = state.build_hasher();
        h.write_u128(unix_nanos(SystemTime::now()) as u128);
        h.write_usize(i);
        *word = h.finish();
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&words[0].to_be_bytes());
    bytes[8..].copy_from_slice(&words[1].to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut hex = String::with_capacity(32);
    super::cpu_profile::hex_into(&mut hex, &bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_ids_are_distinct_uuids() {
        let a = profile_id();
        let b = profile_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4', "version 4: {a}");
        assert_eq!(a.matches('-').count(), 4);
    }
}
