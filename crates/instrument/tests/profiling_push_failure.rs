//! Pushes that fail never reach the application: a server answering 500 and a server that is
//! gone are both counted as failures, the profiles dropped, and `stop` still returns. Also shows
//! that a profiler can be started again after a stop. One test function, alone in its binary,
//! because the signal handler and the timer are process-wide.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use instrument::profiling::{self, ProfilerConfig};

fn burn_cpu(amount: Duration) -> u64 {
    let start = thread_cpu_time();
    let mut x = 1u64;
    while thread_cpu_time() - start < amount {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
    x
}

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

async fn profile_a_burst(server_address: String) -> profiling::ProfilerStats {
    let mut config = ProfilerConfig::new(server_address, "failing-push-test");
    config.upload_interval = Duration::from_millis(200);
    config.push_timeout = Duration::from_secs(2);
    let profiler = profiling::start(config).expect("the profiler starts");
    tokio::task::spawn_blocking(|| burn_cpu(Duration::from_millis(400)))
        .await
        .expect("the busy thread does not panic");
    profiler.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_pushes_are_counted_and_dropped_and_stop_returns() {
    let app = Router::new().route(
        "/push.v1.PusherService/Push",
        post(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"code":"internal","message":"store unavailable"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let refusing = listener.local_addr().expect("bound address");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let stats = profile_a_burst(format!("http://{refusing}")).await;
    assert!(stats.samples_taken > 0, "{stats:?}");
    assert_eq!(stats.profiles_pushed, 0, "{stats:?}");
    assert!(stats.push_failures >= 1, "{stats:?}");
    // Failed pushes drop their profile; a profile ready while a push is still running is
    // dropped too, so there may be more drops than failures, never fewer.
    assert!(stats.profiles_dropped >= stats.push_failures, "{stats:?}");
    assert_eq!(stats.bytes_pushed, 0, "{stats:?}");
    server.abort();

    // A port nobody listens on any more: connection refused. Starting again also shows the
    // first profiler released SIGPROF and the timer.
    let gone = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        l.local_addr().expect("bound address")
    };
    let stats = profile_a_burst(format!("http://{gone}")).await;
    assert!(stats.samples_taken > 0, "{stats:?}");
    assert_eq!(stats.profiles_pushed, 0, "{stats:?}");
    assert!(stats.push_failures >= 1, "{stats:?}");
}
