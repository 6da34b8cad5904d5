//! The CPU profiler end to end: real `SIGPROF` sampling of this process, real pushes over HTTP
//! to a receiver that decodes them the way a Pyroscope server does (PushRequest → gunzip →
//! pprof). One test function, alone in its binary, because the signal handler and the timer
//! are process-wide.

use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use flate2::read::GzDecoder;
use instrument::profiling::proto::{Profile, PushRequest};
use instrument::profiling::{self, ProfilerConfig, clear_thread_span, set_thread_span};
use prost::Message;

const TRACE_ID: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];
const SPAN_ID: [u8; 8] = [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7];
/// CPU time each busy function burns; at 100 Hz that is about 80 samples each.
const BURN: Duration = Duration::from_millis(800);

#[derive(Default)]
struct Received {
    pushes: Vec<(Option<String>, Bytes)>,
}

async fn receive(
    State(received): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], Vec<u8>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    received
        .lock()
        .expect("receiver lock not poisoned")
        .pushes
        .push((content_type, body));
    (
        StatusCode::OK,
        [("content-type", "application/proto")],
        Vec::new(),
    )
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

/// Spins until this thread has used `burn` of CPU time (CPU time, not wall time, so a loaded
/// machine only makes it slower, never sampled less).
#[inline(never)]
fn spin_for(burn: Duration) -> u64 {
    let start = thread_cpu_time();
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    while thread_cpu_time() - start < burn {
        for _ in 0..20_000 {
            x = std::hint::black_box(x.rotate_left(5) ^ x.wrapping_mul(31));
        }
    }
    x
}

#[inline(never)]
fn busy_inside_span(burn: Duration) -> u64 {
    std::hint::black_box(spin_for(burn))
}

#[inline(never)]
fn busy_outside_span(burn: Duration) -> u64 {
    std::hint::black_box(spin_for(burn))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The function names of a sample's stack, leaf first (inlined frames included).
fn stack_names<'p>(profile: &'p Profile, location_ids: &[u64]) -> Vec<&'p str> {
    let mut names = Vec::new();
    for id in location_ids {
        let location = profile
            .location
            .iter()
            .find(|l| l.id == *id)
            .expect("every location id of a sample has a location");
        for line in &location.line {
            let function = profile
                .function
                .iter()
                .find(|f| f.id == line.function_id)
                .expect("every line names a function");
            names.push(profile.string_table[function.name as usize].as_str());
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_samples_reach_the_receiver_with_their_span_labels() {
    let received = Arc::new(Mutex::new(Received::default()));
    let app = Router::new()
        .route("/push.v1.PusherService/Push", post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = ProfilerConfig::new(format!("http://{address}"), "profiling-test");
    config.labels = vec![("env".to_owned(), "test".to_owned())];
    config.upload_interval = Duration::from_millis(500);
    let profiler = profiling::start(config.clone()).expect("the profiler starts");
    assert!(
        matches!(
            profiling::start(config),
            Err(profiling::ProfilingError::AlreadyRunning)
        ),
        "a second profiler in the same process is refused"
    );

    tokio::task::spawn_blocking(|| {
        set_thread_span(TRACE_ID, SPAN_ID);
        busy_inside_span(BURN);
        clear_thread_span();
        busy_outside_span(BURN);
    })
    .await
    .expect("the busy thread does not panic");

    let stats_before_stop = profiler.stats();
    profiler.stop().await;
    server.abort();

    assert!(stats_before_stop.samples_taken > 0, "{stats_before_stop:?}");
    assert_eq!(stats_before_stop.push_failures, 0, "{stats_before_stop:?}");

    let pushes = std::mem::take(&mut received.lock().expect("not poisoned").pushes);
    assert!(!pushes.is_empty(), "at least the final push arrives");

    let mut inside = 0;
    let mut outside = 0;
    let mut all_function_names = Vec::new();
    for (content_type, body) in &pushes {
        assert_eq!(content_type.as_deref(), Some("application/proto"));
        let request = PushRequest::decode(body.as_ref()).expect("a PushRequest");
        assert_eq!(request.series.len(), 1);
        let series = &request.series[0];
        let labels: Vec<(&str, &str)> = series
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                ("__name__", "process_cpu"),
                ("service_name", "profiling-test"),
                ("env", "test")
            ]
        );
        assert_eq!(series.samples.len(), 1);
        assert_eq!(series.samples[0].id.len(), 36, "a UUID");
        let mut pprof = Vec::new();
        GzDecoder::new(series.samples[0].raw_profile.as_slice())
            .read_to_end(&mut pprof)
            .expect("the profile is gzipped");
        let profile = Profile::decode(pprof.as_slice()).expect("a pprof Profile");
        let s = |i: i64| profile.string_table[i as usize].as_str();
        assert_eq!(s(0), "");
        let sample_types: Vec<(&str, &str)> = profile
            .sample_type
            .iter()
            .map(|t| (s(t.r#type), s(t.unit)))
            .collect();
        assert_eq!(
            sample_types,
            vec![("samples", "count"), ("cpu", "nanoseconds")]
        );
        let period_type = profile.period_type.expect("a period type");
        assert_eq!(
            (s(period_type.r#type), s(period_type.unit)),
            ("cpu", "nanoseconds")
        );
        // 1e9 / 100 Hz, or longer when the kernel delivered fewer signals than asked for
        // (a busy machine): the profile then uses the measured period.
        assert!(profile.period >= 10_000_000, "period {}", profile.period);
        assert!(profile.time_nanos > 0 && profile.duration_nanos > 0);

        for sample in &profile.sample {
            assert_eq!(sample.value.len(), 2);
            assert_eq!(sample.value[1], sample.value[0] * profile.period);
            let names = stack_names(&profile, &sample.location_id);
            let sample_labels: Vec<(&str, &str)> =
                sample.label.iter().map(|l| (s(l.key), s(l.str))).collect();
            if names.contains(&"profiling::busy_inside_span") {
                inside += sample.value[0];
                assert_eq!(
                    sample_labels,
                    vec![
                        ("span_id", hex(&SPAN_ID).as_str()),
                        ("trace_id", hex(&TRACE_ID).as_str())
                    ],
                    "stack {names:?}"
                );
            }
            if names.contains(&"profiling::busy_outside_span") {
                outside += sample.value[0];
                assert!(
                    sample_labels.is_empty(),
                    "stack {names:?}: {sample_labels:?}"
                );
            }
            all_function_names.extend(names.iter().map(|n| n.to_string()));
        }
    }
    all_function_names.sort();
    all_function_names.dedup();
    assert!(
        inside > 0,
        "no sample inside the span; functions seen: {all_function_names:?}"
    );
    assert!(
        outside > 0,
        "no sample outside the span; functions seen: {all_function_names:?}"
    );
}
