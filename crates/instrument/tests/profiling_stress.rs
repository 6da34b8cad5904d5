//! The signal handler under fire: sampling at 1000 Hz while several threads allocate, lock,
//! format, spawn threads and unwind their own stacks (panics caught, backtraces captured) —
//! the code a handler that allocates, locks or shares the unwinder's state would deadlock or
//! corrupt. The test passes if every worker finishes, samples arrive, and the profiles pushed
//! meanwhile decode. One test function, alone in its binary, because the signal handler and the
//! timer are process-wide.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use instrument::profiling::{self, ProfilerConfig, clear_thread_span, set_thread_span};

/// CPU time each worker spends in the mixed workload.
const BURN: Duration = Duration::from_millis(300);
const WORKERS: u8 = 4;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the kernel to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Allocation, locking, formatting, thread creation, unwinding: one round of each.
fn mixed_round(worker: u8, round: u64, shared: &Mutex<BTreeMap<u64, String>>) -> usize {
    set_thread_span([worker; 16], round.to_be_bytes());
    let text = format!("worker {worker} round {round} {:?}", vec![round; 64]);
    let mut map = shared.lock().expect("not poisoned");
    map.insert(round % 512, text);
    drop(map);
    let mut total = 0;
    if round.is_multiple_of(50) {
        total += std::thread::spawn(move || vec![0u8; 4096 * usize::from(worker + 1)].len())
            .join()
            .expect("the helper thread does not panic");
        let caught = std::panic::catch_unwind(|| {
            std::panic::panic_any(round);
        });
        total += usize::from(caught.is_err());
        total += format!("{:?}", std::backtrace::Backtrace::force_capture()).len();
    }
    clear_thread_span();
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_at_1000_hz_survives_allocating_locking_unwinding_threads() {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let sink = bodies.clone();
    let app = Router::new().route(
        "/push.v1.PusherService/Push",
        post(move |body: axum::body::Bytes| async move {
            sink.lock().expect("not poisoned").push(body);
            ""
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // Panics are expected (and caught) by the workload; keep them out of the test output.
    std::panic::set_hook(Box::new(|_| {}));

    let mut config = ProfilerConfig::new(format!("http://{address}"), "stress-test");
    config.frequency_hz = 1000;
    config.upload_interval = Duration::from_millis(200);
    let profiler = profiling::start(config).expect("the profiler starts");

    let shared = Arc::new(Mutex::new(BTreeMap::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let start = thread_cpu_time();
                let mut round = 0u64;
                let mut total = 0usize;
                while thread_cpu_time() - start < BURN {
                    total += mixed_round(worker, round, &shared);
                    round += 1;
                }
                (round, total)
            })
        })
        .collect();
    for worker in workers {
        let (rounds, total) = tokio::task::spawn_blocking(move || worker.join())
            .await
            .expect("join task")
            .expect("the worker does not panic outside catch_unwind");
        assert!(rounds > 0 && total > 0);
    }
    let _ = std::panic::take_hook();

    let stats = profiler.stop().await;
    server.abort();
    assert!(stats.samples_taken > 0, "{stats:?}");
    assert!(stats.profiles_pushed >= 1, "{stats:?}");
    assert_eq!(stats.push_failures, 0, "{stats:?}");

    let bodies = std::mem::take(&mut *bodies.lock().expect("not poisoned"));
    assert_eq!(bodies.len() as u64, stats.profiles_pushed);
    for body in bodies {
        use prost::Message;
        let request = profiling::proto::PushRequest::decode(body.as_ref()).expect("a PushRequest");
        assert_eq!(request.series.len(), 1);
    }
}
