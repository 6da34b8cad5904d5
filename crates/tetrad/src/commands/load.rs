//! `tetrad load [RATE] [URL] [--duration D]`: the seed stack's `load.sh`. Sends a steady mix of
//! requests (see [`mix`]) to the demo backend so every dashboard panel fills within seconds.
//!
//! The rate is open-loop: a timer ticks once per request and each tick starts a request without
//! waiting for earlier ones, as real users do; a slow server therefore sees requests pile up
//! rather than the load politely backing off. Requests in flight are bounded
//! (`--max-in-flight`); a tick that finds every slot taken is counted as skipped instead of
//! queueing without limit. Every request has a timeout. On a terminal a live line on stderr is
//! rewritten once a second; otherwise a plain line is printed every few seconds. Ctrl-C (or
//! SIGTERM, or `--duration`) stops sending, waits a bounded time for the requests in flight and
//! prints a summary on stdout.

mod histogram;
mod mix;
mod stats;

use super::signal::stop_signal;
use anyhow::Context;
use clap::Args;
use stats::{FailureKind, Outcome, Stats};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::time::MissedTickBehavior;

/// The highest accepted rate; more than one machine's worth of demo backend.
const MAX_RATE: f64 = 10_000.0;
/// The lowest accepted rate: one request every 100 s.
const MIN_RATE: f64 = 0.01;
/// How often the live line is rewritten on a terminal.
const TTY_INTERVAL: Duration = Duration::from_secs(1);
/// How often a plain status line is printed when stderr is not a terminal.
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

/// Arguments of `tetrad load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Requests per second.
    #[arg(default_value = "20", value_parser = parse_rate)]
    pub rate: f64,
    /// Base URL of the demo backend; several, comma-separated, share the load round-robin
    /// (one per replica, as a load balancer would).
    #[arg(default_value = "http://localhost:8000", value_parser = parse_base_urls)]
    pub url: BaseUrls,
    /// Stop after this long (e.g. 30s, 5m, 1h); default: until Ctrl-C.
    #[arg(long, value_parser = parse_positive_duration)]
    pub duration: Option<Duration>,
    /// Give up on a request after this long.
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Most requests in flight at once; a tick beyond it is skipped and counted.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_in_flight: u32,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text.parse().map_err(|_| {
        format!("{text:?} is not a number of requests per second (e.g. 20 or 0.5); RATE comes before URL")
    })?;
    if !rate.is_finite() || !(MIN_RATE..=MAX_RATE).contains(&rate) {
        return Err(format!(
            "{text} requests per second is out of range: between {MIN_RATE} and {MAX_RATE}"
        ));
    }
    Ok(rate)
}

/// The base URLs requests go to, in turn.
#[derive(Debug, Clone)]
pub struct BaseUrls(Vec<String>);

impl BaseUrls {
    /// The base for the `n`th request. Plain `n % len` would pair each step of the request
    /// mix (a fixed cycle) with the same base whenever the two lengths share a factor — every
    /// `/panic` on one replica — so the choice is a hash of `n` (splitmix64): uniform over the
    /// bases, and different for each round of the mix.
    fn pick(&self, n: u64) -> &str {
        let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        &self.0[(z % self.0.len() as u64) as usize]
    }
}

impl std::fmt::Display for BaseUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

fn parse_base_urls(text: &str) -> Result<BaseUrls, String> {
    let urls = text
        .split(',')
        .map(|u| parse_base_url(u.trim()).map(|u| u.as_str().trim_end_matches('/').to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    // split always yields at least one piece, and an empty piece is not a URL.
    Ok(BaseUrls(urls))
}

fn parse_base_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("{text:?} is not a URL ({e}); expected e.g. http://localhost:8000"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?}: the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?}: no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?}: a base URL takes no query or fragment (paths are appended to it)"
        ));
    }
    Ok(url)
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let ms = model::time::parse_duration_ms(text)
        .map_err(|_| format!("{text:?} is not a duration (e.g. 500ms, 30s, 5m, 1h)"))?;
    if ms <= 0 {
        return Err(format!("{text:?}: the duration must be positive"));
    }
    Ok(Duration::from_millis(ms.unsigned_abs()))
}

/// Runs `tetrad load` to the end and prints the summary.
pub fn main(args: LoadArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tetrad-load")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let base = args.url.to_string();
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(args.max_in_flight as usize)
        // Load meant for a local service must not go through a proxy from the environment.
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    let stats = Arc::new(Mutex::new(Stats::default()));
    let slots = Arc::new(Semaphore::new(args.max_in_flight as usize));
    let tty = std::io::stderr().is_terminal();
    let mut display = Display::new(tty);
    let duration_note = args
        .duration
        .map_or_else(|| "until Ctrl-C".to_string(), |d| format!("for {d:?}"));
    eprintln!(
        "tetrad load: {} req/s against {base} {duration_note}",
        args.rate
    );

    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    // Open loop: a late timer catches up instead of silently lowering the rate.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut status_timer = tokio::time::interval_at(
        tokio::time::Instant::now() + display.interval,
        display.interval,
    );
    let deadline = async {
        match args.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let stop = stop_signal();
    tokio::pin!(stop);
    let mut mix = mix::Mix::default();
    let mut last_status = Instant::now();
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            () = &mut deadline => break,
            _ = status_timer.tick() => {
                let in_flight = u64::from(args.max_in_flight) - slots.available_permits() as u64;
                let line = lock(&stats).take_live_line(started.elapsed(), last_status.elapsed(), in_flight);
                last_status = Instant::now();
                display.show(&line);
            }
            _ = ticks.tick() => {
                let (endpoint, path) = mix.next_request();
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    lock(&stats).skipped += 1;
                    continue;
                };
                let n = {
                    let mut stats = lock(&stats);
                    stats.sent += 1;
                    stats.sent
                };
                let request = client.get(format!("{}{path}", args.url.pick(n)));
                let stats = stats.clone();
                tokio::spawn(async move {
                    let sent_at = Instant::now();
                    let outcome = send(request).await;
                    lock(&stats).record(endpoint, outcome, sent_at.elapsed());
                    drop(slot);
                });
            }
        }
    }
    let elapsed = started.elapsed();
    display.finish();

    // Let the requests in flight end (each is bounded by the timeout); a second Ctrl-C cuts it.
    let in_flight = || u64::from(args.max_in_flight) - slots.available_permits() as u64;
    if in_flight() > 0 {
        tokio::select! {
            _ = slots.acquire_many(args.max_in_flight) => {}
            () = tokio::time::sleep(args.timeout + Duration::from_secs(1)) => {}
            () = stop_signal() => {}
        }
    }
    let unfinished = in_flight();
    let stats = lock(&stats).clone();
    let summary = stats.summary(&base, elapsed, unfinished);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(summary.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the summary")?;
    if stats.only_failures() {
        anyhow::bail!(
            "no answer from {base}: is the demo backend running? \
             (`tetrad demo-service backend`, or `tetrad demo`)"
        );
    }
    Ok(())
}

/// Sends one request and reads the answer to the end (the latency includes the body).
async fn send(request: reqwest::RequestBuilder) -> Outcome {
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(e) => return Outcome::Failed(failure_kind(&e)),
    };
    let status = response.status().as_u16();
    loop {
        match response.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => return Outcome::Status(status),
            Err(e) => return Outcome::Failed(failure_kind(&e)),
        }
    }
}

fn failure_kind(error: &reqwest::Error) -> FailureKind {
    if error.is_timeout() {
        FailureKind::Timeout
    } else if error.is_connect() {
        FailureKind::Connect
    } else {
        FailureKind::Other
    }
}

fn lock(stats: &Mutex<Stats>) -> MutexGuard<'_, Stats> {
    // A panic while counting cannot leave the counters half-updated in a harmful way.
    stats
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The status display on stderr: one line rewritten in place on a terminal, plain lines
/// otherwise.
struct Display {
    tty: bool,
    interval: Duration,
    shown: bool,
}

impl Display {
    fn new(tty: bool) -> Display {
        Display {
            tty,
            interval: if tty { TTY_INTERVAL } else { PLAIN_INTERVAL },
            shown: false,
        }
    }

    fn show(&mut self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        // A status line that cannot be written is not worth stopping the load for.
        let _ = if self.tty {
            // Back to the line start, the new text, then erase what a longer old line left.
            write!(stderr, "\r{line}\x1b[K")
        } else {
            writeln!(stderr, "tetrad load: {line}")
        };
        let _ = stderr.flush();
        self.shown = true;
    }

    /// Ends the live line so the summary starts on a fresh one.
    fn finish(&mut self) {
        if self.tty && self.shown {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_positive_numbers_within_bounds() {
        assert_eq!(parse_rate("20"), Ok(20.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in ["0", "-3", "NaN", "inf", "1e9", "http://localhost:8000", ""] {
            assert!(parse_rate(bad).is_err(), "{bad:?} accepted");
        }
        let err = parse_rate("fast").err().unwrap_or_default();
        assert!(err.contains("\"fast\" is not a number"), "{err}");
    }

    #[test]
    fn base_urls_are_absolute_http_without_query() {
        assert!(parse_base_url("http://localhost:8000").is_ok());
        let many = parse_base_urls("http://a:1, http://b:2/").unwrap();
        assert_eq!(many.to_string(), "http://a:1,http://b:2");
        let to_a = (0..1000).filter(|&n| many.pick(n) == "http://a:1").count();
        assert!(
            (400..=600).contains(&to_a),
            "{to_a} of 1000 to the first base"
        );
        // Every step of an even cycle reaches both bases over time.
        for step in 0..40u64 {
            let bases: std::collections::BTreeSet<&str> =
                (0..8).map(|round| many.pick(round * 40 + step)).collect();
            assert_eq!(bases.len(), 2, "step {step}");
        }
        assert!(parse_base_urls("http://a:1,").is_err());
        assert!(parse_base_url("https://example.test/prefix/").is_ok());
        for bad in [
            "localhost:8000",
            "ftp://x",
            "http://x/?a=1",
            "http://x/#f",
            "20",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn durations_are_positive() {
        assert_eq!(
            parse_positive_duration("1m30s"),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(
            parse_positive_duration("500ms"),
            Ok(Duration::from_millis(500))
        );
        assert!(parse_positive_duration("0").is_err());
        assert!(parse_positive_duration("soon").is_err());
    }
}
