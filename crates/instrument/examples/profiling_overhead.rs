//! Measures what the CPU profiler costs a busy thread.
//!
//! A fixed amount of arithmetic runs at the bottom of a 64-frame-deep call chain (a service's
//! stack through tokio, hyper and axum is about that deep), first without the profiler, then
//! with it sampling at 100 Hz and pushing every second to a local receiver, alternating five
//! times. The busy thread's own CPU time is compared (it includes the signal handler, which
//! runs on the interrupted thread); the uploader's CPU is the rest of the process's CPU time.
//!
//! The receiver decodes every push and checks that the busy function is named in it, which shows
//! that stacks unwind and symbolize in a release build. A last measurement times one unwind of
//! the deep stack, the bulk of the handler's work.
//!
//! Run with `cargo run --release -p instrument --example profiling_overhead`.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use instrument::profiling::proto::{Profile, PushRequest};
use instrument::profiling::{self, ProfilerConfig};
use prost::Message;

const DEPTH: u32 = 64;
const ITERATIONS: u64 = 3_000_000_000;
const ROUNDS: usize = 5;

fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the kernel to fill.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[inline(never)]
fn work(iterations: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..iterations {
        x = std::hint::black_box(x.rotate_left(5) ^ x.wrapping_mul(31));
    }
    x
}

#[inline(never)]
fn deep(depth: u32, iterations: u64) -> u64 {
    if depth == 0 {
        work(iterations)
    } else {
        std::hint::black_box(deep(depth - 1, iterations)).wrapping_add(1)
    }
}

/// CPU time of the busy thread for the fixed work, and of the whole process meanwhile.
fn measure() -> (Duration, Duration) {
    let thread_start = cpu_time(libc::CLOCK_THREAD_CPUTIME_ID);
    let process_start = cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID);
    std::hint::black_box(deep(DEPTH, ITERATIONS));
    (
        cpu_time(libc::CLOCK_THREAD_CPUTIME_ID) - thread_start,
        cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID) - process_start,
    )
}

/// Whether a pushed body holds a profile naming the `work` function.
fn names_work(body: &[u8]) -> bool {
    let Ok(request) = PushRequest::decode(body) else {
        return false;
    };
    request.series.iter().flat_map(|s| &s.samples).any(|raw| {
        let mut pprof = Vec::new();
        if flate2::read::GzDecoder::new(raw.raw_profile.as_slice())
            .read_to_end(&mut pprof)
            .is_err()
        {
            return false;
        }
        Profile::decode(pprof.as_slice()).is_ok_and(|p| {
            p.function
                .iter()
                .any(|f| p.string_table[f.name as usize] == "profiling_overhead::work")
        })
    })
}

/// Microseconds for one unwind of a `DEPTH`-deep stack, as the signal handler does it.
fn unwind_cost() -> f64 {
    #[inline(never)]
    fn at_depth(depth: u32) -> f64 {
        if depth > 0 {
            return std::hint::black_box(at_depth(depth - 1)) + 0.0;
        }
        const TIMES: u32 = 2_000;
        let start = Instant::now();
        let mut frames = 0usize;
        for _ in 0..TIMES {
            // SAFETY: no other thread unwinds through the `backtrace` crate meanwhile.
            unsafe {
                backtrace::trace_unsynchronized(|_| {
                    frames += 1;
                    frames < 1_000_000
                });
            }
        }
        std::hint::black_box(frames);
        start.elapsed().as_secs_f64() * 1e6 / f64::from(TIMES)
    }
    at_depth(DEPTH)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let pushes = Arc::new(AtomicU64::new(0));
    let pushes_naming_work = Arc::new(AtomicU64::new(0));
    let (p, n) = (pushes.clone(), pushes_naming_work.clone());
    let app = Router::new().route(
        "/push.v1.PusherService/Push",
        post(move |body: Bytes| async move {
            p.fetch_add(1, Ordering::Relaxed);
            if names_work(&body) {
                n.fetch_add(1, Ordering::Relaxed);
            }
            ""
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut uploader = Vec::new();
    let mut samples = 0;
    for _ in 0..ROUNDS {
        let (busy, _) = tokio::task::spawn_blocking(measure).await.expect("measure");
        without.push(busy.as_secs_f64());

        let mut config = ProfilerConfig::new(format!("http://{address}"), "overhead");
        config.upload_interval = Duration::from_secs(1);
        let profiler = profiling::start(config).expect("start the profiler");
        let (busy, process) = tokio::task::spawn_blocking(measure).await.expect("measure");
        samples += profiler.stats().samples_taken;
        profiler.stop().await;
        with.push(busy.as_secs_f64());
        uploader.push((process - busy).as_secs_f64() / busy.as_secs_f64());
    }
    let (a, b) = (median(without), median(with));
    println!("busy thread CPU for the fixed work: {a:.3} s without, {b:.3} s with the profiler");
    println!("busy-thread overhead: {:.2} %", (b - a) / a * 100.0);
    println!(
        "rest of the process while profiling (uploader, receiver): {:.2} % of the busy thread's CPU",
        median(uploader) * 100.0
    );
    println!("samples taken: {samples} over {ROUNDS} rounds");
    println!(
        "pushes naming the busy function: {} of {}",
        pushes_naming_work.load(Ordering::Relaxed),
        pushes.load(Ordering::Relaxed)
    );
    let unwind = unwind_cost();
    println!(
        "one unwind of a {DEPTH}-frame stack: {unwind:.1} µs, {:.3} % of a core at 100 Hz",
        unwind * 100.0 / 1e6 * 100.0
    );
}
