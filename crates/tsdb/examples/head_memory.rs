//! Heap bytes of the head per series and per sample: `cargo run --release -p tsdb --example
//! head_memory -- [series] [samples_per_series]`. Counts live heap bytes with a wrapping
//! allocator, after the series are created and after the samples are appended.

use model::Labels;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use tsdb::{Appendable, Db, DbOptions};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn labels(i: usize) -> Labels {
    let inst = i / 139;
    let k = i % 139;
    let (name, last) = if k < 24 {
        (
            "http_requests_total",
            ("status", format!("{}", [200, 404, 500][k % 3])),
        )
    } else if k < 136 {
        (
            "http_request_duration_seconds_bucket",
            ("le", format!("{}", k % 14)),
        )
    } else {
        ("process_cpu_seconds_total", ("x", "y".to_string()))
    };
    Labels::from_pairs([
        ("__name__", name.to_string()),
        ("job", format!("job-{}", inst % 6)),
        (
            "instance",
            format!("10.0.{}.{}:8080", inst / 250, inst % 250),
        ),
        ("method", "GET".to_string()),
        ("path", format!("/api/v1/thing{}/{{id}}", k % 8)),
        last,
    ])
}

fn rss() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
        * 1024
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let per = args.get(1).copied().unwrap_or(720);
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = DbOptions {
        max_future_ms: i64::MAX / 2,
        retention_ms: 0,
        ..DbOptions::default()
    };
    let db = Db::open(dir.path(), opts).expect("open");
    let all: Vec<Labels> = (0..n).map(labels).collect();
    let base = LIVE.load(Ordering::Relaxed);
    let mut vals = vec![0f64; n];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for k in 0..per {
        for chunk in (0..n).step_by(2000) {
            let mut app = db.appender();
            for i in chunk..(chunk + 2000).min(n) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                vals[i] += (state % 7) as f64;
                app.append(&all[i], k as i64 * 15_000 + (state % 3) as i64, vals[i])
                    .expect("append");
            }
            app.commit().expect("commit");
        }
        if k == 0 {
            let live = LIVE.load(Ordering::Relaxed) - base;
            println!(
                "after 1 sample/series: heap {:.0} B/series, rss {} MB",
                live as f64 / n as f64,
                rss() >> 20
            );
        }
    }
    let live = LIVE.load(Ordering::Relaxed) - base;
    let st = db.stats();
    println!(
        "after {per} samples/series: heap {:.0} B/series ({:.2} B/sample overall), head_bytes stat {:.0} B/series, rss {} MB",
        live as f64 / n as f64,
        live as f64 / (n * per) as f64,
        st.head_bytes as f64 / n as f64,
        rss() >> 20
    );
}
